"""Commands: routesim scenarios list/copy."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from routesim.cli.render import render


class ListFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    scenarios_app = typer.Typer(no_args_is_help=True, help="The scenarios shipped with routesim: list them, copy one.")
    app.add_typer(scenarios_app, name="scenarios")

    @scenarios_app.command("list")
    def scenarios_list(
        fmt: Annotated[ListFormat, typer.Option("--format", help="Output format.")] = ListFormat.table,
    ) -> None:
        """Name, period and description of each shipped scenario (copy one with `routesim scenarios copy`)."""
        from routesim.io.scenario_copy import shipped_scenarios

        rows = [{"name": s.name, "start": s.start, "end": s.end, "description": s.description}
                for s in shipped_scenarios()]
        typer.echo(render(rows, fmt=fmt.value, columns=["name", "start", "end", "description"]))

    @scenarios_app.command("copy")
    def scenarios_copy(
        name: Annotated[str, typer.Argument(help="A shipped scenario (routesim scenarios list).")],
        dest: Annotated[Path, typer.Argument(help="Folder to write into (created if needed).")] = Path("."),
        force: Annotated[bool, typer.Option("--force", help="Overwrite files that exist.")] = False,
    ) -> None:
        """Write a shipped scenario, the bases it extends and the files it names into DEST, ready to run there."""
        from routesim.io.scenario_copy import copy_scenario

        written = copy_scenario(name, dest, force=force)
        for path in written:
            typer.echo(f"wrote {path}")
        typer.echo(f"run it: routesim run {written[-1]}", err=True)
