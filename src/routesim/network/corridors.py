"""Named roads without a ref: corridors, chains of waypoints resolved on a network.

OSM gives the motorways their ``ref`` (``M5``, ``M4``, ``M1`` …) but many roads the
event library names have none (the desert road Salamiyah–Ithriya–Khanasir–As-Safira–
Aleppo, the Ghab road, the Salamiyah road …). ``data/network/corridors.yaml`` defines
each as a chain of waypoints (place names or ``{lat, lon}`` points), taken from the
alignment of the hand-drawn network (``data/network/segments.csv``)::

    corridors:
      - name: Desert road
        waypoints: [Salamiyah, Sabburah, Sheikh Hilal, Ithriya, Khanasir, Rasm Omeish, As-Safira, Al-Nayrab, Aleppo]
        source: "…"
      - name: Idlib road           # a road of several branches
        chains: [[Idlib, Sarmada], [Idlib, Sarmin, Saraqib], [Idlib, Ariha]]
        source: "…"
      - name: M20                  # a ref with gaps on OSM: the corridor fills them
        ref_hint: M20
        waypoints: [Palmyra, Arak, Sukhnah, Deir ez-Zor]
        source: "…"

Resolution on a network (:func:`corridor_edges`):

- every waypoint is a node: a place that is a node of the network, else the node of
  the largest strongly connected component nearest to it (at most
  :data:`WAYPOINT_LIMIT_KM` away; an intermediate waypoint farther than that from
  every node is skipped, an end is an error);
- the road is the **fastest car path on the open network** through the waypoints in
  order, and the same through the waypoints in reverse order (both carriageways of
  a divided road). Time rather than distance, so that the path keeps to the main
  road instead of taking a parallel lane that is a few metres shorter. Edges whose
  ref is the corridor's ``ref_hint`` cost half their time, so the path follows
  the reffed road wherever it exists;
- the edges of those paths and their reverse twins (the other direction of the same
  line) form the road.

The result is cached per network (a weak mapping: it goes with the network).
Whether a name is a ref or a corridor, and what ``ROAD:FROM:TO`` does with either,
is :mod:`routesim.network.selection`.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from routesim._util import yamlio
from routesim._util.datafiles import network_dir
from routesim.errors import InputFileError, Problem, SelectorError
from routesim.network.core import RoutingCore
from routesim.network.edges import EdgeTable
from routesim.network.lookup import NodeLookup
from routesim.network.state import NetworkState

#: A waypoint: a place name, or ``(lat, lon)``.
Waypoint = str | tuple[float, float]

#: Time factor of edges carrying a corridor's ``ref_hint``.
REF_HINT_FACTOR = 0.5
#: Farthest a waypoint may lie from the node it snaps to, km.
WAYPOINT_LIMIT_KM = 10.0


class Routable(Protocol):
    """What resolving a corridor needs of a network."""

    @property
    def edges(self) -> EdgeTable: ...

    @property
    def nodes(self) -> NodeLookup: ...

    @property
    def core(self) -> RoutingCore: ...

    @property
    def open_state(self) -> NetworkState: ...


@dataclass(frozen=True)
class Corridor:
    """A named road as chains of waypoints (see the module docstring)."""

    name: str
    chains: tuple[tuple[Waypoint, ...], ...]
    source: str
    ref_hint: str | None = None


def corridors_file() -> Path:
    """The shipped corridor definitions."""
    return network_dir() / "corridors.yaml"


def _waypoint(item: Any) -> Waypoint:
    if isinstance(item, str) and item.strip():
        return item.strip()
    if isinstance(item, Mapping) and set(item) == {"lat", "lon"}:
        lat, lon = float(item["lat"]), float(item["lon"])
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            return (lat, lon)
    raise ValueError("a waypoint is a place name or {lat, lon}")


def read_corridors(path: str | Path) -> dict[str, Corridor]:
    """Corridors of a YAML file, by case-folded name.

    Raises
    ------
    InputFileError
        Located (``file:line: field: problem``) for every malformed entry.
    """
    doc = yamlio.load(path)
    problems: list[Problem] = []
    items = doc.data.get("corridors") if isinstance(doc.data, Mapping) else None
    if not isinstance(items, list):
        raise InputFileError([doc.problem(("corridors",), "expected a list of corridors")])
    out: dict[str, Corridor] = {}
    for i, item in enumerate(items):
        loc: tuple[str | int, ...] = ("corridors", i)
        if not isinstance(item, Mapping):
            problems.append(doc.problem(loc, "expected a mapping"))
            continue
        unknown = set(item) - {"name", "waypoints", "chains", "ref_hint", "source"}
        if unknown:
            problems.append(doc.problem(loc, f"unknown key(s) {sorted(unknown)}"))
        name, source = item.get("name"), item.get("source")
        if not isinstance(name, str) or not name.strip():
            problems.append(doc.problem((*loc, "name"), "a name is required"))
            continue
        if not isinstance(source, str) or not source.strip():
            problems.append(doc.problem((*loc, "source"), "a source is required"))
        if ("waypoints" in item) == ("chains" in item):
            problems.append(doc.problem(loc, "give waypoints (one chain) or chains (a list of chains)"))
            continue
        raw = [item["waypoints"]] if "waypoints" in item else item["chains"]
        key = "waypoints" if "waypoints" in item else "chains"
        chains: list[tuple[Waypoint, ...]] = []
        if not isinstance(raw, list) or not all(isinstance(c, list) and len(c) >= 2 for c in raw) or not raw:
            problems.append(doc.problem((*loc, key), "each chain is a list of at least two waypoints"))
            continue
        try:
            chains = [tuple(_waypoint(w) for w in chain) for chain in raw]
        except (ValueError, TypeError) as exc:
            problems.append(doc.problem((*loc, key), str(exc)))
            continue
        hint = item.get("ref_hint")
        if name.casefold() in out:
            problems.append(doc.problem((*loc, "name"), f"duplicate corridor {name!r}"))
        out[name.casefold()] = Corridor(
            name=name.strip(), chains=tuple(chains), source=str(source or ""),
            ref_hint=str(hint) if hint is not None else None,
        )
    if problems:
        raise InputFileError(problems)
    return out


@cache
def builtin_corridors() -> dict[str, Corridor]:
    """The shipped corridors (``data/network/corridors.yaml``), by case-folded name."""
    return read_corridors(corridors_file())


def find_corridor(name: str) -> Corridor | None:
    """The shipped corridor called ``name`` (any case), or ``None``."""
    return builtin_corridors().get(name.strip().casefold())


# Per network: corridor name -> edge mask. Weak keys: a cache goes with its network.
_CACHE: weakref.WeakKeyDictionary[Any, dict[str, np.ndarray]] = weakref.WeakKeyDictionary()


def corridor_edges(network: Routable, corridor: Corridor) -> np.ndarray:
    """Boolean edge mask of ``corridor`` on ``network`` (cached per network).

    Raises
    ------
    SelectorError
        When a waypoint does not resolve or two consecutive ones are not connected.
    """
    try:
        cache = _CACHE.setdefault(network, {})
    except TypeError:  # not weak-referenceable: no cache
        cache = {}
    key = corridor.name.casefold()
    hit = cache.get(key)
    if hit is None:
        hit = cache[key] = _resolve(network, corridor)
        hit.flags.writeable = False
    return hit


def _node(network: Routable, corridor: Corridor, wp: Waypoint, *, end: bool) -> int | None:
    nodes = network.nodes
    if isinstance(wp, str):
        place = nodes.places.find(wp)
        if place is None:
            raise SelectorError(
                f"corridor {corridor.name!r}: waypoint {wp!r}: unknown place "
                f"(close: {', '.join(nodes.places.suggest(wp)) or 'none'})"
            )
        if place.node is not None and place.node in nodes.index:
            return nodes.index[place.node]
        lat, lon, text = place.lat, place.lon, place.name
    else:
        (lat, lon), text = wp, f"{wp[0]},{wp[1]}"
    i, km = nodes.nearest_eligible(lat, lon)
    if km > WAYPOINT_LIMIT_KM:
        if not end:
            return None  # an intermediate waypoint off this network: route past it
        raise SelectorError(
            f"corridor {corridor.name!r}: waypoint {text!r} is {km:,.1f} km from the nearest node of the "
            f"network; the limit is {WAYPOINT_LIMIT_KM:g} km"
        )
    return i


def _resolve(network: Routable, corridor: Corridor) -> np.ndarray:
    edges = network.edges
    weights = np.array(edges.base_time_s[0], dtype=float)
    if corridor.ref_hint and corridor.ref_hint in edges.road_edges:
        weights[edges.road_edges[corridor.ref_hint]] *= REF_HINT_FACTOR
    compiled = network.core.compile(weights, network.open_state.usable("car"))
    picked: list[int] = []
    for chain in corridor.chains:
        found = [_node(network, corridor, wp, end=k in (0, len(chain) - 1)) for k, wp in enumerate(chain)]
        nodes = [n for n in found if n is not None]
        for seq in (nodes, nodes[::-1]):
            stops = [n for k, n in enumerate(seq) if k == 0 or n != seq[k - 1]]
            if len(stops) < 2:
                continue
            paths = compiled.solve(stops[:-1])
            for k in range(len(stops) - 1):
                path = paths.edge_path(k, stops[k + 1])
                if path is None:
                    a, b = network.nodes.label(stops[k]), network.nodes.label(stops[k + 1])
                    raise SelectorError(
                        f"corridor {corridor.name!r}: no car path from {a} to {b} on the open network"
                    )
                picked.extend(path)
    codes = np.unique(edges.segment_code[np.asarray(picked, dtype=np.int64)])
    return np.isin(edges.segment_code, codes)


def corridor_names() -> Sequence[str]:
    """Names of the shipped corridors."""
    return [c.name for c in builtin_corridors().values()]
