"""Syria's outline for maps, from the clipping polygon of the OpenStreetMap extract.

``syria.poly`` beside this module is Geofabrik's clipping polygon of the Syria
extract the network was built from (``../shared/osm/syria.poly``, Osmosis
``.poly`` format, 200 vertices): Syria's border with a buffer of 1–3 km, fine at
map scale. It is shipped in the package so maps never need the network
source files or a download. Derived from OpenStreetMap data (ODbL 1.0).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

POLY_FILE = Path(__file__).with_name("syria.poly")


def read_poly(path: Path) -> list[np.ndarray]:
    """The outer rings of an Osmosis ``.poly`` file as ``(n, 2)`` lon/lat arrays (holes, ``!`` sections, dropped)."""
    rings: list[np.ndarray] = []
    lines = path.read_text(encoding="utf-8").splitlines()[1:]
    current: list[tuple[float, float]] | None = None
    hole = False
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if current is None:
            if line == "END":
                break
            current, hole = [], line.startswith("!")
            continue
        if line == "END":
            if not hole and len(current) >= 3:
                rings.append(np.asarray(current, dtype=float))
            current = None
            continue
        x, y = line.split()[:2]
        current.append((float(x), float(y)))
    return rings


@cache
def country_outline() -> tuple[np.ndarray, ...]:
    """Syria's outline rings (lon/lat), read once."""
    return tuple(read_poly(POLY_FILE))
