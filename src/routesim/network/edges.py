"""The compiled form of a road graph: one row per directed edge, as aligned arrays.

An :class:`EdgeTable` is built either from an osmnx-style ``MultiDiGraph``
(:func:`compile_edges`, one pass over its edges) or from the columns of a
:class:`~routesim.network.compiled.CompiledRoads` (:func:`edges_from_roads`,
vectorised, for country-scale networks). Everything that routes, selects or
simulates works on it. Text attributes are integer codes into small tables,
and lookups by segment or road are built on first use, so a table of two
million edges costs a few arrays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from routesim.errors import NetworkError
from routesim.models.vehicles import VEHICLES
from routesim.network.compiled import CompiledRoads

if TYPE_CHECKING:
    import networkx as nx

#: Truck speed caps (km/h) by road class for graphs without truck speeds.
TRUCK_SPEED_CAP = {"motorway": 80.0, "trunk": 75.0, "primary": 70.0}
DEFAULT_TRUCK_CAP = 60.0
#: Car speeds (km/h) by road class for graphs without ``speed_kph``.
DEFAULT_SPEED = {"motorway": 100.0, "trunk": 90.0, "primary": 70.0, "secondary": 60.0}
FALLBACK_SPEED = 50.0

#: Edge attributes read as restrictions the network itself carries (see
#: :meth:`routesim.network.Network.base_state`).
BASE_ATTRIBUTES = ("checkpoint_min", "checkpoint_trucks_per_hour", "fee_usd", "fee_syp", "night_closed")
#: Edge attributes the freight simulation reads (lanes, direction, night safety,
#: checkpoint lanes); ``nan``/``False`` where an edge has none.
TRAFFIC_ATTRIBUTES = ("lanes", "oneway", "night_unsafe", "checkpoint_servers")


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


class _Codes:
    """Strings to small integer codes, in order of first use."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self._code: dict[str, int] = {}

    def __call__(self, name: str) -> int:
        code = self._code.get(name)
        if code is None:
            code = self._code[name] = len(self.names)
            self.names.append(name)
        return code


class SegmentNames(Sequence[str]):
    """Segment ids of a compiled network, made when asked: ``<prefix><source id>``.

    The id of a line is the id of the way or feature it came from; a way split
    at junctions gives several lines, numbered ``<id>.<k>`` after the first.
    """

    def __init__(self, prefix: str, source: np.ndarray) -> None:
        self.prefix = prefix
        self.source = np.asarray(source, dtype=np.int64)
        order = np.argsort(self.source, kind="stable")
        first = np.r_[True, self.source[order][1:] != self.source[order][:-1]]
        rank = np.arange(len(order)) - np.maximum.accumulate(np.where(first, np.arange(len(order)), 0))
        self.part = np.empty(len(order), dtype=np.int64)
        self.part[order] = rank

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        k = int(self.part[i])
        return f"{self.prefix}{int(self.source[i])}" + (f".{k}" if k else "")


@dataclass(frozen=True, eq=False)
class EdgeTable:
    """Directed edges of a network as aligned arrays (the compiled form).

    Attributes
    ----------
    u, v, key
        Tail and head node index, and the edge key (the graph's, or 0).
    length_m
        Length, metres.
    base_time_s
        ``(len(VEHICLES), n)`` free-flow travel time of each vehicle class, seconds.
    segment_code, segment_names
        Segment of each edge (edges of one road segment share it, both
        directions included) as a code into ``segment_names``.
    ref_code, highway_code, texts, highways
        Road refs (``;``-joined, code into ``texts``; -1: none) and road class
        (code into ``highways``).
    geom_line, geom_forward, geom_offset, geom_x, geom_y
        Geometry: edge ``e`` follows the vertices
        ``geom_offset[geom_line[e]]:geom_offset[geom_line[e] + 1]`` of
        ``geom_x``/``geom_y``, reversed when ``geom_forward[e]`` is false.
    node_x, node_y
        Node longitudes and latitudes.
    via_of
        Named places an edge passes between its ends (edge -> names; most have none).
    base
        The :data:`BASE_ATTRIBUTES` some edge carries, as arrays.
    traffic
        The :data:`TRAFFIC_ATTRIBUTES` some edge carries, as arrays.
    """

    u: np.ndarray
    v: np.ndarray
    key: np.ndarray
    length_m: np.ndarray
    base_time_s: np.ndarray
    segment_code: np.ndarray
    segment_names: Sequence[str]
    ref_code: np.ndarray
    highway_code: np.ndarray
    texts: Sequence[str]
    highways: Sequence[str]
    geom_line: np.ndarray
    geom_forward: np.ndarray
    geom_offset: np.ndarray
    geom_x: np.ndarray
    geom_y: np.ndarray
    node_x: np.ndarray
    node_y: np.ndarray
    via_of: Mapping[int, tuple[str, ...]] = field(default_factory=dict)
    base: dict[str, np.ndarray] = field(default_factory=dict)
    traffic: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.u)

    # -- per-edge text, built on first use --------------------------------------------
    @cached_property
    def segment(self) -> np.ndarray:
        """Segment id of every edge (object array)."""
        names = np.empty(len(self.segment_names), dtype=object)
        names[:] = list(self.segment_names)
        return names[self.segment_code]

    @cached_property
    def ref(self) -> np.ndarray:
        """Road refs of every edge, ``""`` for none (object array)."""
        table = np.empty(len(self.texts) + 1, dtype=object)
        table[:-1] = list(self.texts)
        table[-1] = ""
        return table[self.ref_code]

    @cached_property
    def highway(self) -> np.ndarray:
        """Road class of every edge (object array)."""
        table = np.empty(len(self.highways), dtype=object)
        table[:] = list(self.highways)
        return table[self.highway_code]

    def segment_of(self, e: int) -> str:
        return str(self.segment_names[int(self.segment_code[e])])

    def ref_of(self, e: int) -> str:
        code = int(self.ref_code[e])
        return str(self.texts[code]) if code >= 0 else ""

    def via(self, e: int) -> tuple[str, ...]:
        """Named places edge ``e`` passes between its ends."""
        return self.via_of.get(int(e), ())

    def coords(self, e: int) -> list[tuple[float, float]]:
        """``(lon, lat)`` vertices of edge ``e`` in its direction of travel."""
        g = int(self.geom_line[e])
        a, b = self.geom_offset[g], self.geom_offset[g + 1]
        xy = list(zip(self.geom_x[a:b].tolist(), self.geom_y[a:b].tolist(), strict=True))
        return xy if self.geom_forward[e] else xy[::-1]

    # -- lookups, built on first use ---------------------------------------------------
    @cached_property
    def _segment_index(self) -> dict[str, int]:
        return {str(name): i for i, name in enumerate(self.segment_names)}

    def segment_edges(self, name: str) -> np.ndarray | None:
        """Edges of segment ``name``, or ``None`` when no segment has that id."""
        code = self._segment_index.get(name)
        return None if code is None else np.flatnonzero(self.segment_code == code)

    @property
    def segment_ids(self) -> list[str]:
        return [str(s) for s in self.segment_names]

    @cached_property
    def road_edges(self) -> dict[str, np.ndarray]:
        """Edges by road ref (each part of a ``;`` list), refs sorted."""
        order = np.argsort(self.ref_code, kind="stable")
        codes = self.ref_code[order]
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(codes) else np.zeros(0, dtype=int)
        ends = np.r_[starts[1:], len(codes)]
        parts: dict[str, list[np.ndarray]] = {}
        for s, t in zip(starts.tolist(), ends.tolist(), strict=True):
            code = int(codes[s])
            if code < 0:
                continue
            for part in (p.strip() for p in str(self.texts[code]).split(";")):
                if part:
                    parts.setdefault(part, []).append(order[s:t])
        return {r: np.sort(np.concatenate(ix)) for r, ix in sorted(parts.items())}

    @property
    def roads(self) -> list[str]:
        return list(self.road_edges)


def compile_edges(
    graph: nx.MultiDiGraph, index: Mapping[Any, int], node_x: np.ndarray, node_y: np.ndarray
) -> EdgeTable:
    """Compile the edges of ``graph`` (nodes numbered by ``index``).

    Speeds: ``speed_kph``/``travel_time`` when present, else by ``highway``
    (:data:`DEFAULT_SPEED`); truck times from ``truck_travel_time``, else the car
    speed capped by class (:data:`TRUCK_SPEED_CAP`). An edge without a
    ``segment`` attribute is a segment of its own (``osm-<osmid>``).

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
    seg_code = np.empty(n, dtype=np.int64)
    ref_code = np.empty(n, dtype=np.int32)
    hw_code = np.empty(n, dtype=np.int16)
    segments, texts, highways = _Codes(), _Codes(), _Codes()
    offsets = [0]
    gx: list[float] = []
    gy: list[float] = []
    via_of: dict[int, tuple[str, ...]] = {}
    base: dict[str, np.ndarray] = {}
    traffic: dict[str, np.ndarray] = {}
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
        seg_code[i] = segments(str(seg) if seg is not None else f"osm-{_ref_text(d.get('osmid', f'{a}-{b}'))}")
        ref = _ref_text(d.get("ref"))
        ref_code[i] = texts(ref) if ref else -1
        hw_code[i] = highways(hw)
        places = tuple(p for p in str(d.get("via", "") or "").split(";") if p)
        if places:
            via_of[i] = places
        geom = d.get("geometry")
        if geom is not None:
            xs, ys = geom.xy
            gx.extend(xs)
            gy.extend(ys)
        else:
            gx.extend((float(node_x[u[i]]), float(node_x[v[i]])))
            gy.extend((float(node_y[u[i]]), float(node_y[v[i]])))
        offsets.append(len(gx))
        for name in (*BASE_ATTRIBUTES, *TRAFFIC_ATTRIBUTES):
            value = d.get(name)
            if value is None:
                continue
            store = base if name in BASE_ATTRIBUTES else traffic
            arr = store.get(name)
            flag = name in ("night_closed", "oneway", "night_unsafe")
            if arr is None:
                arr = store[name] = np.zeros(n, dtype=bool) if flag else np.full(n, np.nan if store is traffic else 0.0)
            if flag:
                arr[i] = edge_flag(value)
            else:
                arr[i] = edge_number(value, np.nan if store is traffic else 0.0)
    if bad:
        shown = ", ".join(f"({a}, {b}, {k})" for a, b, k in bad[:3])
        more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
        raise NetworkError(
            f"{len(bad)} of {n} edges have no usable 'length' (metres, a number >= 0): {shown}{more}"
        )
    return EdgeTable(
        u=u, v=v, key=key, length_m=length, base_time_s=times,
        segment_code=seg_code, segment_names=segments.names, ref_code=ref_code, highway_code=hw_code,
        texts=texts.names, highways=highways.names,
        geom_line=np.arange(n, dtype=np.int64), geom_forward=np.ones(n, dtype=bool),
        geom_offset=np.asarray(offsets, dtype=np.int64), geom_x=np.asarray(gx, dtype=float),
        geom_y=np.asarray(gy, dtype=float), node_x=node_x, node_y=node_y,
        via_of=via_of, base=base, traffic=traffic,
    )


def edges_from_roads(roads: CompiledRoads) -> EdgeTable:
    """The edge table of a compiled network, from its columns (no per-edge Python work).

    Segments are the compiled lines (both directions of a line share one);
    travel times follow from the lines' car and truck speeds.

    Raises
    ------
    NetworkError
        For lengths or speeds that are not finite and positive where they must be.
    """
    line = np.asarray(roads.edge_line, dtype=np.int64)
    length = np.asarray(roads.line_length_m, dtype=float)[line]
    car = np.asarray(roads.line_car_kph, dtype=float)[line]
    truck = np.asarray(roads.line_truck_kph, dtype=float)[line]
    if not (np.isfinite(length).all() and (length >= 0).all()):
        raise NetworkError("line lengths must be finite and >= 0")
    if not ((car > 0).all() and (truck > 0).all() and np.isfinite(car).all() and np.isfinite(truck).all()):
        raise NetworkError("line speeds must be finite and > 0")
    times = np.vstack([length / 1000.0 / car * 3600.0, length / 1000.0 / np.minimum(truck, car) * 3600.0])
    oneway = np.asarray(roads.line_oneway, dtype=bool)[line]
    u, v = roads.edge_u.astype(np.int64), roads.edge_v.astype(np.int64)
    return EdgeTable(
        u=u, v=v, key=_parallel_keys(u, v),
        length_m=length, base_time_s=times,
        segment_code=line, segment_names=SegmentNames("w", roads.line_source),
        ref_code=np.asarray(roads.line_ref, dtype=np.int32)[line],
        highway_code=np.asarray(roads.line_highway, dtype=np.int16)[line],
        texts=roads.texts, highways=roads.highways,
        geom_line=line, geom_forward=np.asarray(roads.edge_forward, dtype=bool),
        geom_offset=np.asarray(roads.geom_offset, dtype=np.int64),
        geom_x=np.asarray(roads.geom_x, dtype=float), geom_y=np.asarray(roads.geom_y, dtype=float),
        node_x=np.asarray(roads.node_x, dtype=float), node_y=np.asarray(roads.node_y, dtype=float),
        traffic={"oneway": oneway},
    )


def _parallel_keys(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Keys numbering the parallel edges of each (u, v) pair 0, 1, ... in input order (as a MultiDiGraph does)."""
    order = np.lexsort((np.arange(len(u)), v, u))
    su, sv = u[order], v[order]
    start = np.r_[True, (su[1:] != su[:-1]) | (sv[1:] != sv[:-1])] if len(u) else np.zeros(0, dtype=bool)
    run_start = np.maximum.accumulate(np.where(start, np.arange(len(u)), 0)) if len(u) else np.zeros(0, dtype=int)
    keys = np.empty(len(u), dtype=np.int64)
    keys[order] = np.arange(len(u)) - run_start
    return keys
