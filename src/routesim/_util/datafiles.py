"""Location of the data shipped with routesim (embedded network, event library, prices)."""

from __future__ import annotations

from functools import cache
from pathlib import Path


@cache
def data_dir() -> Path:
    """Directory holding ``network/`` and ``events/``.

    In an installed wheel the repository's ``data/`` is packaged as
    ``routesim/_data``; in a source checkout (editable install) it is read in place.
    """
    packaged = Path(__file__).resolve().parents[1] / "_data"
    if (packaged / "network").is_dir():
        return packaged
    source = Path(__file__).resolve().parents[3] / "data"
    if (source / "network").is_dir():
        return source
    raise FileNotFoundError(
        "routesim data not found: expected routesim/_data (installed) or data/ (checkout)"
    )


def network_dir() -> Path:
    """The embedded network's ``places.csv``, ``segments.csv`` and ``speeds.csv``."""
    return data_dir() / "network"


def events_dir() -> Path:
    """The built-in event library (``index.yaml`` and the files it includes)."""
    return data_dir() / "events"
