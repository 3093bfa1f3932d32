"""Location of the data shipped with routesim (embedded network, event library)."""

from __future__ import annotations

from functools import cache
from pathlib import Path


@cache
def data_dir() -> Path:
    """Directory holding ``network/`` and ``events/``.

    In an installed wheel the repository's ``data/`` is packaged as
    ``routesim/_data``; in a source checkout (editable install) it is read in place.
    """
    packaged = Path(__file__).resolve().parent / "_data"
    if (packaged / "network").is_dir():
        return packaged
    source = Path(__file__).resolve().parents[2] / "data"
    if (source / "network").is_dir():
        return source
    raise FileNotFoundError(
        "routesim data not found: expected routesim/_data (installed) or data/ (checkout)"
    )


def network_dir() -> Path:
    return data_dir() / "network"


def events_dir() -> Path:
    return data_dir() / "events"
