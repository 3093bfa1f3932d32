"""The compiled form of a road graph: one row per directed edge, as aligned arrays.

:func:`compile_edges` reads an osmnx-style ``MultiDiGraph`` once; everything
that routes, selects or simulates works on the resulting :class:`EdgeTable`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np

from routesim.errors import NetworkError
from routesim.models.vehicles import VEHICLES

#: Truck speed caps (km/h) by road class for graphs without truck speeds.
TRUCK_SPEED_CAP = {"motorway": 80.0, "trunk": 75.0, "primary": 70.0}
DEFAULT_TRUCK_CAP = 60.0
#: Car speeds (km/h) by road class for graphs without ``speed_kph``.
DEFAULT_SPEED = {"motorway": 100.0, "trunk": 90.0, "primary": 70.0, "secondary": 60.0}
FALLBACK_SPEED = 50.0

#: Edge attributes read as restrictions the network itself carries (see
#: :meth:`routesim.network.Network.base_state`).
BASE_ATTRIBUTES = ("checkpoint_min", "fee_usd", "fee_syp", "night_closed")


def _first(value: Any) -> Any:
    # osmnx simplification may leave lists where attributes differed.
    return value[0] if isinstance(value, list) and value else value


def edge_number(value: Any, default: float = 0.0) -> float:
    """A positive numeric edge attribute (GraphML and OSM give strings; osmnx may give
    lists); ``default`` when absent, not a number or not positive."""
    try:
        x = float(_first(value))
    except (TypeError, ValueError):
        return default
    return x if np.isfinite(x) and x > 0 else default


def edge_flag(value: Any) -> bool:
    """A yes/no edge attribute: false when absent or ``false``/``no``/``0``/``nan``/``none``."""
    value = _first(value)
    return bool(value) and str(value).strip().lower() not in ("false", "no", "0", "nan", "none")


def _ref_text(value: Any) -> str:
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return "" if value is None or value != value else str(value)


def _length(value: Any) -> float:
    """Edge length in metres, or nan when absent, not a number or negative."""
    try:
        x = float(_first(value))
    except (TypeError, ValueError):
        return float("nan")
    return x if np.isfinite(x) and x >= 0 else float("nan")


@dataclass(frozen=True, eq=False)
class EdgeTable:
    """Directed edges of a network as aligned arrays (the compiled form).

    Attributes
    ----------
    u, v, key
        Tail and head node index, and the graph's edge key.
    length_m
        Length, metres.
    base_time_s
        ``(len(VEHICLES), n)`` free-flow travel time of each vehicle class, seconds.
    segment, ref, highway
        Segment id (edges of one road segment share it), road refs (``;``-joined)
        and road class.
    via
        Named places each edge passes between its ends.
    segment_edges, road_edges
        Edge indices by segment id and by road ref.
    coords
        Edge geometry as ``(lon, lat)`` pairs, ``None`` for a straight edge.
    node_x, node_y
        Node longitudes and latitudes.
    base
        The :data:`BASE_ATTRIBUTES` some edge carries, as arrays.
    """

    u: np.ndarray
    v: np.ndarray
    key: np.ndarray
    length_m: np.ndarray
    base_time_s: np.ndarray
    segment: np.ndarray
    ref: np.ndarray
    highway: np.ndarray
    via: tuple[tuple[str, ...], ...]
    segment_edges: dict[str, np.ndarray]
    road_edges: dict[str, np.ndarray]
    coords: list[list[tuple[float, float]] | None]
    node_x: np.ndarray
    node_y: np.ndarray
    base: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.u)

    @property
    def roads(self) -> list[str]:
        return list(self.road_edges)


def compile_edges(
    graph: nx.MultiDiGraph, index: Mapping[Any, int], node_x: np.ndarray, node_y: np.ndarray
) -> EdgeTable:
    """Compile the edges of ``graph`` (nodes numbered by ``index``).

    Speeds: ``speed_kph``/``travel_time`` when present, else by ``highway``
    (:data:`DEFAULT_SPEED`); truck times from ``truck_travel_time``, else the car
    speed capped by class (:data:`TRUCK_SPEED_CAP`).

    Raises
    ------
    NetworkError
        When some edge has no usable ``length`` (missing, not a number, negative).
    """
    rows = list(graph.edges(keys=True, data=True))
    n = len(rows)
    u = np.empty(n, dtype=np.int64)
    v = np.empty(n, dtype=np.int64)
    key = np.empty(n, dtype=np.int64)
    length = np.empty(n)
    times = np.empty((len(VEHICLES), n))
    segment, ref, highway, via = [], [], [], []
    coords: list[list[tuple[float, float]] | None] = []
    base: dict[str, np.ndarray] = {}
    bad: list[tuple[Any, Any, Any]] = []
    for i, (a, b, k, d) in enumerate(rows):
        u[i], v[i], key[i] = index[a], index[b], k
        length[i] = _length(d.get("length"))
        if np.isnan(length[i]):
            bad.append((a, b, k))
            continue
        hw = str(_first(d.get("highway", "")) or "")
        speed = d.get("speed_kph")
        speed = float(_first(speed)) if speed is not None else DEFAULT_SPEED.get(hw, FALLBACK_SPEED)
        car_t = d.get("travel_time")
        car_t = float(car_t) if car_t is not None else length[i] / 1000.0 / speed * 3600.0
        truck_t = d.get("truck_travel_time")
        if truck_t is None:
            cap = min(speed, TRUCK_SPEED_CAP.get(hw, DEFAULT_TRUCK_CAP))
            truck_t = length[i] / 1000.0 / cap * 3600.0
        times[0, i], times[1, i] = car_t, float(truck_t)
        seg = d.get("segment")
        if seg is None:
            seg = f"osm-{_ref_text(d.get('osmid', f'{a}-{b}'))}"
        segment.append(str(seg))
        ref.append(_ref_text(d.get("ref")))
        highway.append(hw)
        via.append(tuple(p for p in str(d.get("via", "") or "").split(";") if p))
        geom = d.get("geometry")
        coords.append(list(geom.coords) if geom is not None else None)
        for name in BASE_ATTRIBUTES:
            if d.get(name) is not None:
                arr = base.get(name)
                if arr is None:
                    arr = base[name] = np.zeros(n, dtype=bool if name == "night_closed" else float)
                arr[i] = edge_flag(d[name]) if name == "night_closed" else edge_number(d[name])
    if bad:
        shown = ", ".join(f"({a}, {b}, {k})" for a, b, k in bad[:3])
        more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
        raise NetworkError(
            f"{len(bad)} of {n} edges have no usable 'length' (metres, a number >= 0): {shown}{more}"
        )
    seg_arr = np.array(segment, dtype=object)
    segment_edges: dict[str, list[int]] = {}
    road_edges: dict[str, list[int]] = {}
    for i, (s, r) in enumerate(zip(segment, ref, strict=True)):
        segment_edges.setdefault(s, []).append(i)
        for part in (p.strip() for p in r.split(";")):
            if part:
                road_edges.setdefault(part, []).append(i)
    return EdgeTable(
        u=u, v=v, key=key, length_m=length, base_time_s=times,
        segment=seg_arr, ref=np.array(ref, dtype=object), highway=np.array(highway, dtype=object),
        via=tuple(via),
        segment_edges={s: np.array(ix) for s, ix in segment_edges.items()},
        road_edges={r: np.array(ix) for r, ix in sorted(road_edges.items())},
        coords=coords, node_x=node_x, node_y=node_y, base=base,
    )
