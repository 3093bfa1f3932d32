"""The road network: an osmnx-compatible graph with a compiled routing core."""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date as Date
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np

from routesim.errors import UnknownPlaceError
from routesim.places import Place, PlaceIndex
from routesim.route import Detour, Route
from routesim.routing import CompiledWeights, RoutingCore
from routesim.selectors import Selector, resolve
from routesim.state import VEHICLES, NetworkState, vehicle_index

if TYPE_CHECKING:
    from routesim.events import EventSet

#: Truck speed caps (km/h) by road class for graphs without truck speeds.
TRUCK_SPEED_CAP = {"motorway": 80.0, "trunk": 75.0, "primary": 70.0}
DEFAULT_TRUCK_CAP = 60.0
#: Car speeds (km/h) by road class for graphs without ``speed_kph``.
DEFAULT_SPEED = {"motorway": 100.0, "trunk": 90.0, "primary": 70.0, "secondary": 60.0}
FALLBACK_SPEED = 50.0
WEIGHTS = ("time", "distance")
_COORD = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$")


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


#: Edge attributes read as restrictions the network itself carries (see ``Network``).
BASE_ATTRIBUTES = ("checkpoint_min", "fee_usd", "fee_syp", "night_closed")


def _ref_text(value: Any) -> str:
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return "" if value is None or value != value else str(value)


@dataclass(frozen=True, eq=False)
class EdgeTable:
    """Directed edges of a network as aligned arrays (the compiled form)."""

    u: np.ndarray
    v: np.ndarray
    key: np.ndarray
    length_m: np.ndarray
    base_time_s: np.ndarray  # (len(VEHICLES), n)
    segment: np.ndarray
    ref: np.ndarray
    highway: np.ndarray
    via: tuple[tuple[str, ...], ...]
    segment_edges: dict[str, np.ndarray]
    road_edges: dict[str, np.ndarray]
    coords: list[list[tuple[float, float]] | None]
    node_x: np.ndarray
    node_y: np.ndarray
    base: dict[str, np.ndarray] = field(default_factory=dict)  # BASE_ATTRIBUTES found on some edge
    _points: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list, repr=False)

    @property
    def n(self) -> int:
        return len(self.u)

    def points(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(lat, lon, edge) of points densified along every edge geometry.

        Built on first use (area selectors only): an area touching the middle of a
        long segment must catch it, so each geometry leg gets 8 sample points.
        """
        if not self._points:
            lats: list[np.ndarray] = []
            lons: list[np.ndarray] = []
            owners: list[np.ndarray] = []
            t = np.linspace(0.0, 1.0, 8, endpoint=False)[None, :]
            for i, c in enumerate(self.coords):
                xy = np.asarray(c if c is not None else [
                    (self.node_x[self.u[i]], self.node_y[self.u[i]]),
                    (self.node_x[self.v[i]], self.node_y[self.v[i]]),
                ])
                a, b = xy[:-1], xy[1:]
                lon = (a[:, :1] + (b[:, :1] - a[:, :1]) * t).ravel()
                lat = (a[:, 1:] + (b[:, 1:] - a[:, 1:]) * t).ravel()
                lons += [lon, xy[-1:, 0]]
                lats += [lat, xy[-1:, 1]]
                owners.append(np.full(len(lon) + 1, i))
            self._points.append((np.concatenate(lats), np.concatenate(lons), np.concatenate(owners)))
        return self._points[0]

    @property
    def roads(self) -> list[str]:
        return list(self.road_edges)

    def within_radius(self, lat: float, lon: float, radius_km: float) -> np.ndarray:
        """Edges with a point within ``radius_km`` of (lat, lon)."""
        pts_lat, pts_lon, pts_edge = self.points()
        p1, p2 = np.radians(lat), np.radians(pts_lat)
        dl = np.radians(pts_lon - lon)
        a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
        d = 2 * 6371.0088 * np.arcsin(np.sqrt(np.minimum(a, 1.0)))
        mask = np.zeros(self.n, dtype=bool)
        mask[pts_edge[d <= radius_km]] = True
        return mask

    def within_bbox(self, west: float, south: float, east: float, north: float) -> np.ndarray:
        """Edges with a point inside the box."""
        pts_lat, pts_lon, pts_edge = self.points()
        inside = (pts_lon >= west) & (pts_lon <= east) & (pts_lat >= south) & (pts_lat <= north)
        mask = np.zeros(self.n, dtype=bool)
        mask[pts_edge[inside]] = True
        return mask


class Network:
    """A road network with places, closures and fast routing.

    Parameters
    ----------
    graph
        An osmnx-style ``MultiDiGraph``: nodes with ``x``/``y`` (lon/lat), edges
        with ``length`` in metres. ``speed_kph``/``travel_time`` are used when
        present, else derived from ``highway`` (see ``DEFAULT_SPEED``);
        ``truck_travel_time`` likewise, else car speed capped by class.
    places
        Named places; default: every node with a ``name`` attribute.

    Notes
    -----
    The graph is compiled when the network is created; build a new ``Network``
    after changing the graph.
    """

    def __init__(self, graph: nx.MultiDiGraph, places: PlaceIndex | None = None) -> None:
        if not isinstance(graph, nx.MultiDiGraph):
            raise TypeError("graph must be a networkx.MultiDiGraph (osmnx-style)")
        self.graph = graph
        self.node_ids: list[Any] = list(graph.nodes)
        self._index = {n: i for i, n in enumerate(self.node_ids)}
        self.node_x = np.array([float(graph.nodes[n]["x"]) for n in self.node_ids])
        self.node_y = np.array([float(graph.nodes[n]["y"]) for n in self.node_ids])
        self.places = places if places is not None else self._places_from_nodes()
        self._node_place = {p.node: p for p in self.places if p.node is not None}
        self.edges = self._compile_edges()
        self.core = RoutingCore(len(self.node_ids), self.edges.u, self.edges.v)
        self._compiled: OrderedDict[tuple[str, str, bytes], CompiledWeights] = OrderedDict()
        self._open = self.base_state()
        self._selector_cache: dict[str, np.ndarray] = {}
        self._events: EventSet | None = None

    @classmethod
    def from_graph(cls, graph: nx.MultiDiGraph, *, places: PlaceIndex | None = None) -> Network:
        """Wrap any osmnx-compatible graph (see the class docstring)."""
        return cls(graph, places)

    # -- construction -----------------------------------------------------------------
    def _places_from_nodes(self) -> PlaceIndex:
        index = PlaceIndex()
        for n in self.node_ids:
            data = self.graph.nodes[n]
            name = data.get("name")
            if isinstance(name, str) and name:
                pid = str(data.get("place") or n)
                aliases = tuple(a for a in str(data.get("aliases", "") or "").split(";") if a)
                index.add(
                    Place(
                        id=pid, name=name, lat=float(data["y"]), lon=float(data["x"]),
                        kind=str(data.get("kind", "town")), aliases=aliases, node=n,
                    )
                )
        return index

    def _compile_edges(self) -> EdgeTable:
        G = self.graph
        rows = list(G.edges(keys=True, data=True))
        n = len(rows)
        u = np.empty(n, dtype=np.int64)
        v = np.empty(n, dtype=np.int64)
        key = np.empty(n, dtype=np.int64)
        length = np.empty(n)
        times = np.empty((len(VEHICLES), n))
        segment, ref, highway, via = [], [], [], []
        coords: list[list[tuple[float, float]] | None] = []
        base: dict[str, np.ndarray] = {}
        for i, (a, b, k, d) in enumerate(rows):
            u[i], v[i], key[i] = self._index[a], self._index[b], k
            length[i] = float(d["length"])
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
            coords=coords, node_x=self.node_x, node_y=self.node_y, base=base,
        )

    # -- places and nodes --------------------------------------------------------------
    def node_index(self, where: str | int) -> int:
        """Internal index of a node given by place name, node id or ``"lat,lon"``.

        Raises
        ------
        UnknownPlaceError
            With close matches, for a name that is no place of the network.
        """
        if not isinstance(where, str) and where in self._index:
            return self._index[where]
        text = str(where)
        place = self.places.find(text)
        if place is not None:
            if place.node is None:
                return self._nearest(place.lat, place.lon)
            return self._index[place.node]
        m = _COORD.match(text)
        if m:
            return self._nearest(float(m.group(1)), float(m.group(2)))
        for candidate in (text, int(text) if text.lstrip("-").isdigit() else None):
            if candidate is not None and candidate in self._index:
                return self._index[candidate]
        raise UnknownPlaceError(text, self.places.suggest(text))

    def _nearest(self, lat: float, lon: float) -> int:
        dx = (self.node_x - lon) * np.cos(np.radians(lat))
        return int(np.argmin(dx**2 + (self.node_y - lat) ** 2))

    def node_label(self, index: int) -> str:
        """Display name of the node at ``index`` (its place name, else its id)."""
        node = self.node_ids[index]
        place = self._node_place.get(node)
        return place.name if place else str(node)

    # -- states ------------------------------------------------------------------------
    def select(self, selector: Selector) -> np.ndarray:
        """Boolean edge mask of a selector (see :mod:`routesim.selectors`)."""
        if isinstance(selector, str):
            if selector not in self._selector_cache:
                self._selector_cache[selector] = resolve(self, selector)
            return self._selector_cache[selector]
        return resolve(self, selector)

    @property
    def open_state(self) -> NetworkState:
        """Every edge open, with only the restrictions the network itself carries."""
        return self._open

    def base_state(self) -> NetworkState:
        """A fresh copy of the state the network has without any event.

        Every edge is open. Edges may carry their own restrictions as graph
        attributes (``BASE_ATTRIBUTES``): ``checkpoint_min`` (mean minutes of a
        checkpoint or border post per passage), ``fee_usd`` and ``fee_syp`` (per
        truck passage), ``night_closed`` (no traffic 20:00-05:00). Events apply on
        top; a ``restrict`` or ``open`` event replaces these on the edges it selects.
        """
        state = NetworkState.open(self.edges.n)
        base = self.edges.base
        if "checkpoint_min" in base:
            state.delay_s[:] = base["checkpoint_min"] * 60.0
        if "fee_usd" in base:
            state.fee_usd[:] = base["fee_usd"]
        if "fee_syp" in base:
            state.fee_syp[:] = base["fee_syp"]
        if "night_closed" in base:
            state.night_closed[:] = base["night_closed"]
        return state

    def state(
        self,
        *,
        closures: Iterable[Selector] = (),
        date: Date | str | None = None,
        events: EventSet | Iterable[str] | str | None = None,
    ) -> NetworkState:
        """Network state from closures and, when ``date`` is given, events.

        Parameters
        ----------
        closures
            Selectors closed to every vehicle, on top of the events.
        date
            Apply the events in force on this day (``YYYY-MM-DD`` or a date).
        events
            Event set, event file paths, or ``"none"``; default the built-in
            library whenever ``date`` is given.
        """
        state = self.state_at(date, events=events) if date is not None else self._open
        mask = np.zeros(self.edges.n, dtype=bool)
        for sel in closures:
            mask |= self.select(sel)
        return state.with_closed(mask) if mask.any() else state

    def state_at(
        self, date: Date | str, *, events: EventSet | Iterable[str] | str | None = None
    ) -> NetworkState:
        """State on ``date`` with the given events (default: the built-in library)."""
        from routesim.events import as_event_set
        from routesim.timeline import parse_date

        return as_event_set(self, events).state_at(parse_date(date))

    def bind_events(self, events: EventSet) -> None:
        """Make ``events`` the default event set of this network."""
        self._events = events

    # -- routing -----------------------------------------------------------------------
    def weights(self, state: NetworkState, *, vehicle: str = "car", weight: str = "time") -> np.ndarray:
        """Per-edge cost: seconds (``time``) or metres (``distance``)."""
        if weight == "distance":
            return self.edges.length_m
        if weight != "time":
            raise ValueError(f"unknown weight {weight!r}; expected one of {list(WEIGHTS)}")
        t = self.edges.base_time_s[vehicle_index(vehicle)]
        return t / state.speed_factor + state.delay_s

    def compiled(
        self, state: NetworkState | None = None, *, vehicle: str = "car", weight: str = "time"
    ) -> CompiledWeights:
        """Routing matrix for a state, vehicle and weight (cached)."""
        state = state or self._open
        cache_key = (vehicle, weight, state.key())
        hit = self._compiled.get(cache_key)
        if hit is not None:
            self._compiled.move_to_end(cache_key)
            return hit
        compiled = self.core.compile(
            self.weights(state, vehicle=vehicle, weight=weight), state.usable(vehicle)
        )
        self._compiled[cache_key] = compiled
        if len(self._compiled) > 64:
            self._compiled.popitem(last=False)
        return compiled

    def route(
        self,
        origin: str | int,
        destination: str | int,
        *,
        closures: Iterable[Selector] = (),
        vehicle: str = "car",
        weight: str = "time",
        date: Date | str | None = None,
        events: EventSet | Iterable[str] | str | None = None,
        state: NetworkState | None = None,
    ) -> Route:
        """Best route between two places.

        Parameters
        ----------
        origin, destination
            Place names (any alias), node ids or ``"lat,lon"``.
        closures
            Selectors closed for this query, e.g. ``["M5:Hama:Aleppo"]``.
        vehicle
            ``"car"`` (default) or ``"truck"``: free-flow speeds and bans differ.
        weight
            ``"time"`` (default, fastest) or ``"distance"`` (shortest).
        date, events
            Apply dated events (see :meth:`state`).
        state
            A precomputed state; closures are added on top of it.

        Returns
        -------
        Route
            ``reachable=False`` with ``nan`` figures when no path exists.
        """
        vehicle_index(vehicle)
        if state is None:
            state = self.state(closures=closures, date=date, events=events)
        elif closures:
            mask = np.zeros(self.edges.n, dtype=bool)
            for sel in closures:
                mask |= self.select(sel)
            state = state.with_closed(mask)
        a, b = self.node_index(origin), self.node_index(destination)
        paths = self.compiled(state, vehicle=vehicle, weight=weight).solve([a])
        return self._describe(a, b, paths.edge_path(0, b), state, vehicle, weight)

    def detour(self, origin: str | int, destination: str | int, **kwargs: Any) -> Detour:
        """:meth:`route` with its arguments, and the same query on the open network."""
        route = self.route(origin, destination, **kwargs)
        base_kw = {k: kwargs[k] for k in ("vehicle", "weight") if k in kwargs}
        return Detour(route=route, baseline=self.route(origin, destination, **base_kw))

    def _describe(
        self, a: int, b: int, path: Sequence[int] | None, state: NetworkState,
        vehicle: str, weight: str,
    ) -> Route:
        origin, destination = self.node_label(a), self.node_label(b)
        if path is None:
            return Route(origin, destination, vehicle, weight, False, float("nan"), float("nan"))
        e = np.asarray(path, dtype=np.int64)
        times = self.weights(state, vehicle=vehicle, weight="time")[e]
        roads: list[str] = []
        via: list[str] = []
        segments: list[str] = []
        for i in e:
            refs = [r for r in str(self.edges.ref[i]).split(";") if r]
            if refs and not (roads and roads[-1] in refs):
                roads.append(refs[0])
            via.extend(self.edges.via[i])
            if int(self.edges.v[i]) != b and self.node_ids[self.edges.v[i]] in self._node_place:
                via.append(self.node_label(int(self.edges.v[i])))
            seg = str(self.edges.segment[i])
            if not segments or segments[-1] != seg:
                segments.append(seg)
        nodes = (self.node_ids[a], *(self.node_ids[int(x)] for x in self.edges.v[e]))
        edges = tuple(
            (self.node_ids[int(self.edges.u[i])], self.node_ids[int(self.edges.v[i])], int(self.edges.key[i]))
            for i in e
        )
        truck = vehicle == "truck"
        return Route(
            origin=origin, destination=destination, vehicle=vehicle, weight=weight,
            reachable=True,
            distance_km=float(self.edges.length_m[e].sum() / 1000.0),
            time_h=float(times.sum() / 3600.0),
            roads=tuple(roads), via=tuple(via), nodes=nodes, edges=edges,
            segments=tuple(segments),
            fees_usd=float(state.fee_usd[e].sum()) if truck else 0.0,
            fees_syp=float(state.fee_syp[e].sum()) if truck else 0.0,
            edge_index=tuple(int(i) for i in e),
        )

    def travel_times(
        self,
        origins: Sequence[str | int],
        destinations: Sequence[str | int],
        *,
        closures: Iterable[Selector] = (),
        vehicle: str = "car",
        weight: str = "time",
        date: Date | str | None = None,
        events: EventSet | Iterable[str] | str | None = None,
        state: NetworkState | None = None,
    ) -> np.ndarray:
        """Matrix of best costs, ``(len(origins), len(destinations))``.

        Hours for ``weight="time"``, km for ``weight="distance"``; ``inf`` where
        unreachable. One Dijkstra run per distinct origin.
        """
        state = state or self.state(closures=closures, date=date, events=events)
        src = [self.node_index(o) for o in origins]
        dst = np.array([self.node_index(d) for d in destinations], dtype=np.int64)
        if not src or len(dst) == 0:
            return np.zeros((len(src), len(dst)))
        uniq, inverse = np.unique(np.array(src, dtype=np.int64), return_inverse=True)
        dist = self.compiled(state, vehicle=vehicle, weight=weight).distances(uniq)
        scale = 3600.0 if weight == "time" else 1000.0
        return dist[np.ix_(inverse, dst)] / scale

    def __repr__(self) -> str:
        return (
            f"Network({len(self.node_ids)} nodes, {self.edges.n} edges, "
            f"{len(self.places)} places, {len(self.edges.road_edges)} roads)"
        )
