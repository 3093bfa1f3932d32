"""The command line: thin typer commands over the typed API (:mod:`routesim.cli.app`)."""

from routesim.cli.app import app, main

__all__ = ["app", "main"]
