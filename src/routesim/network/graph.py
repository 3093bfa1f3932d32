"""The road network: an osmnx-compatible graph with a compiled routing core."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from datetime import date as Date
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from routesim._util.dates import parse_date
from routesim.errors import NetworkError, RoutesimError
from routesim.models.selectors import Selector
from routesim.models.vehicles import vehicle_index
from routesim.network.compiled import CompiledRoads
from routesim.network.components import largest_component
from routesim.network.core import CompiledWeights, RoutingCore
from routesim.network.edges import EdgeTable, compile_edges, edges_from_roads
from routesim.network.lookup import DEFAULT_SNAP_LIMIT_KM, NodeLookup, Resolved
from routesim.network.places import Place, PlaceIndex, places_from_roads
from routesim.network.route import Detour, Route, describe_path
from routesim.network.selection import resolve
from routesim.network.spatial import EdgePoints
from routesim.network.state import NetworkState

if TYPE_CHECKING:
    # networkx is imported where a graph is given or asked for: routing a compiled network does not need it.
    import networkx as nx

WEIGHTS = ("time", "distance")


class StateSource(Protocol):
    """Anything that gives the network state on a day, such as an
    :class:`routesim.events.EventSet`."""

    def state_at(self, day: Date, *, actor: str = ...) -> NetworkState: ...


class Network:
    """A road network with places, closures and fast routing.

    Parameters
    ----------
    graph
        An osmnx-style ``MultiDiGraph``: nodes with ``x``/``y`` (lon/lat), edges
        with ``length`` in metres. ``speed_kph``/``travel_time`` are used when
        present, else derived from ``highway``; ``truck_travel_time`` likewise,
        else the car speed capped by class (:mod:`routesim.network.edges`).
    places
        Named places; default: every node with a ``name`` attribute.
    snap_limit_km
        Farthest a place that is no node, or a ``"lat,lon"`` point, may lie from
        the node it snaps to (default 5 km). Points snap to the largest
        strongly connected component, so every snapped point can reach and be
        reached from the rest of the network.

    Notes
    -----
    The graph is compiled when the network is created (:attr:`edges`,
    :attr:`core`); build a new ``Network`` after changing the graph. Dated
    queries (``date=``) use the events given, else the network's default events
    (:meth:`set_default_events`; :func:`routesim.load_network` binds the
    built-in library).

    Raises
    ------
    NetworkError
        For a graph whose nodes lack coordinates or whose edges lack a length.
    """

    def __init__(
        self, graph: nx.MultiDiGraph, places: PlaceIndex | None = None, *,
        snap_limit_km: float = DEFAULT_SNAP_LIMIT_KM,
    ) -> None:
        import networkx as nx

        if not isinstance(graph, nx.MultiDiGraph):
            raise TypeError("graph must be a networkx.MultiDiGraph (osmnx-style)")
        node_ids = list(graph.nodes)
        try:
            node_x = np.array([float(graph.nodes[n]["x"]) for n in node_ids])
            node_y = np.array([float(graph.nodes[n]["y"]) for n in node_ids])
        except (KeyError, TypeError, ValueError):
            raise NetworkError("every node needs numeric 'x' (longitude) and 'y' (latitude)") from None
        nodes = NodeLookup(node_ids, node_x, node_y, places if places is not None else _places_from_nodes(graph),
                           eligible=self._largest_component, snap_limit_km=snap_limit_km)
        self._setup(nodes, compile_edges(graph, nodes.index, node_x, node_y), graph)

    @classmethod
    def from_graph(cls, graph: nx.MultiDiGraph, *, places: PlaceIndex | None = None) -> Network:
        """Wrap any osmnx-compatible graph (see the class docstring)."""
        return cls(graph, places)

    @classmethod
    def from_compiled(
        cls, roads: CompiledRoads, *, places: PlaceIndex | None = None, snap_limit_km: float = DEFAULT_SNAP_LIMIT_KM,
    ) -> Network:
        """A network straight from compiled columns (:mod:`routesim.network.compiled`).

        No networkx graph is built unless :attr:`graph` is asked for (exports).

        Parameters
        ----------
        roads
            Nodes, lines and directed edges, e.g. from ``routesim network build``.
        places
            Named places; default: the places the roads carry (``place_*`` columns),
            each snapping to its nearest node of the largest strongly connected
            component.
        snap_limit_km
            Farthest a place or point may snap (default 5 km).
        """
        self = cls.__new__(cls)
        index = places if places is not None else places_from_roads(roads)
        nodes = NodeLookup(roads.node_id, np.asarray(roads.node_x, dtype=float),
                           np.asarray(roads.node_y, dtype=float), index,
                           eligible=self._largest_component, snap_limit_km=snap_limit_km)
        order = roads.node_order if len(roads.node_order) == roads.n_nodes else None
        self._setup(nodes, edges_from_roads(roads), None, order=order)
        self.meta = dict(roads.meta)
        self.dropped = dict(roads.dropped)
        return self

    def _setup(
        self, nodes: NodeLookup, edges: EdgeTable, graph: nx.MultiDiGraph | None, *, order: np.ndarray | None = None
    ) -> None:
        self._graph = graph
        self.nodes = nodes
        self.edges = edges
        self.meta: dict[str, Any] = dict(graph.graph) if graph is not None else {}
        self.dropped: dict[str, int] = {}
        self.points = EdgePoints(self.edges)
        self.core = RoutingCore(len(nodes.node_ids), self.edges.u, self.edges.v, order=order)
        self._compiled: OrderedDict[tuple[str, str, bytes], CompiledWeights] = OrderedDict()
        self._open = self.base_state()
        self._selector_cache: dict[str, np.ndarray] = {}
        self._events: StateSource | None = None
        self._events_factory: Callable[[Network], StateSource] | None = None

    def _largest_component(self) -> np.ndarray:
        return largest_component(len(self.nodes.node_ids), self.edges.u, self.edges.v)

    @property
    def graph(self) -> nx.MultiDiGraph:
        """The osmnx-style ``MultiDiGraph`` (built from the arrays on first use for compiled networks)."""
        if self._graph is None:
            from routesim.network.graphs import graph_from_edges

            self._graph = graph_from_edges(self.edges, self.nodes, meta=self.meta)
        return self._graph

    # -- nodes and places ---------------------------------------------------------------
    @property
    def node_ids(self) -> Sequence[Any] | np.ndarray:
        """Node ids; a node's internal index is its position here."""
        return self.nodes.node_ids

    @property
    def node_x(self) -> np.ndarray:
        return self.nodes.node_x

    @property
    def node_y(self) -> np.ndarray:
        return self.nodes.node_y

    @property
    def places(self) -> PlaceIndex:
        return self.nodes.places

    def node_index(self, where: str | int) -> int:
        """Internal index of a node given by place name, node id or ``"lat,lon"``
        (see :meth:`routesim.network.lookup.NodeLookup.resolve`)."""
        return self.nodes.node_index(where)

    def resolve(self, where: str | int) -> Resolved:
        """The node for a place, node id or ``"lat,lon"``, with the distance it snapped."""
        return self.nodes.resolve(where)

    def node_label(self, index: int) -> str:
        """Display name of the node at ``index`` (its place name, else its id)."""
        return self.nodes.label(index)

    # -- states ------------------------------------------------------------------------
    def select(self, selector: Selector) -> np.ndarray:
        """Boolean edge mask of a selector (see :mod:`routesim.models.selectors`)."""
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
        attributes (:data:`routesim.network.edges.BASE_ATTRIBUTES`):
        ``checkpoint_min`` (minutes a checkpoint or border post adds to each
        passage), ``checkpoint_trucks_per_hour`` (trucks its lanes each clear
        per hour: a queue in the freight simulation, with the edge's
        ``checkpoint_servers`` lanes), ``fee_usd`` and ``fee_syp`` (per truck passage),
        ``night_closed`` (no traffic 20:00-05:00). Events apply on top; a
        ``restrict`` or ``open`` event replaces these on the edges it selects.
        """
        state = NetworkState.open(self.edges.n)
        base = self.edges.base
        if "checkpoint_min" in base:
            state.delay_s[:] = base["checkpoint_min"] * 60.0
        if "checkpoint_trucks_per_hour" in base:
            state.queue_tph[:] = np.maximum(base["checkpoint_trucks_per_hour"], 0.0)
        if "fee_usd" in base:
            state.fee_usd[:] = base["fee_usd"]
        if "fee_syp" in base:
            state.fee_syp[:] = base["fee_syp"]
        if "night_closed" in base:
            state.night_closed[:] = base["night_closed"]
        return state

    def set_default_events(
        self, events: StateSource | None = None, *, factory: Callable[[Network], StateSource] | None = None
    ) -> None:
        """Make ``events`` (or what ``factory(network)`` builds on first use) the events of dated queries."""
        self._events, self._events_factory = events, factory

    @property
    def default_events(self) -> StateSource | None:
        """The events dated queries use when given none (``None``: no default bound)."""
        if self._events is None and self._events_factory is not None:
            self._events = self._events_factory(self)
        return self._events

    def closed_mask(self, closures: Iterable[Selector]) -> np.ndarray:
        """Edges covered by any of ``closures``."""
        mask = np.zeros(self.edges.n, dtype=bool)
        for sel in closures:
            mask |= self.select(sel)
        return mask

    def state(
        self,
        *,
        closures: Iterable[Selector] = (),
        date: Date | str | None = None,
        events: StateSource | None = None,
        actor: str | None = None,
    ) -> NetworkState:
        """Network state from closures and, when ``date`` is given, events.

        Parameters
        ----------
        closures
            Selectors closed to every vehicle, on top of the events.
        date
            Apply the events in force on this day (``YYYY-MM-DD`` or a date).
        events
            An event set (:func:`routesim.load_events`); default
            :attr:`default_events` whenever ``date`` is given.
        actor
            Who travels (``commercial``, ``un``, ``military``, ``civilian``): which
            crossings of front lines it may use on ``date``. Default: the event
            set's default, ``commercial``.
        """
        state = self.state_at(date, events=events, actor=actor) if date is not None else self._open
        mask = self.closed_mask(closures)
        return state.with_closed(mask) if mask.any() else state

    def state_at(
        self, date: Date | str, *, events: StateSource | None = None, actor: str | None = None,
    ) -> NetworkState:
        """State on ``date`` under ``events`` (default :attr:`default_events`) for ``actor`` (see :meth:`state`)."""
        source = events if events is not None else self.default_events
        if source is None:
            raise RoutesimError("no events for a dated query: pass events=routesim.load_events(network)")
        day = parse_date(date)
        return source.state_at(day) if actor is None else source.state_at(day, actor=actor)

    # -- routing -----------------------------------------------------------------------
    def weights(self, state: NetworkState, *, vehicle: str = "car", weight: str = "time") -> np.ndarray:
        """Per-edge cost: seconds (``time``) or metres (``distance``)."""
        if weight == "distance":
            return self.edges.length_m
        if weight != "time":
            raise ValueError(f"unknown weight {weight!r}; expected one of {list(WEIGHTS)}")
        t = self.edges.base_time_s[vehicle_index(vehicle)]
        return np.asarray(t / state.speed_factor + state.delay_s)

    def compiled(
        self, state: NetworkState | None = None, *, vehicle: str = "car", weight: str = "time"
    ) -> CompiledWeights:
        """Routing weights for a state, vehicle and weight (cached).

        A state other than :attr:`open_state` is compiled as a patch on the open
        network's weights (:meth:`RoutingCore.compile` with ``base``), so a fresh
        set of closures costs a pass over the edges, not a rebuild. The cache
        keeps the open network's weights and at most the 16 most recent others
        within 256 MiB of their own arrays.
        """
        state = state or self._open
        cache_key = (vehicle, weight, state.key())
        hit = self._compiled.get(cache_key)
        if hit is not None:
            self._compiled.move_to_end(cache_key)
            return hit
        open_key = (vehicle, weight, self._open.key())
        base = None if cache_key == open_key else self.compiled(self._open, vehicle=vehicle, weight=weight)
        compiled = self.core.compile(
            self.weights(state, vehicle=vehicle, weight=weight), state.usable(vehicle), base=base
        )
        self._compiled[cache_key] = compiled
        open_keys = {k for k in self._compiled if k[2] == open_key[2]}
        others = [k for k in self._compiled if k not in open_keys]
        held = sum(self._compiled[k].nbytes for k in others)
        while others and (len(others) > 16 or held > 256 << 20) and others[0] != cache_key:
            held -= self._compiled.pop(others.pop(0)).nbytes
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
        events: StateSource | None = None,
        state: NetworkState | None = None,
        actor: str | None = None,
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
        date, events, actor
            Apply dated events and the ground for an actor (see :meth:`state`).
        state
            A precomputed state; closures are added on top of it.

        Returns
        -------
        Route
            ``reachable=False`` with ``nan`` figures when no path exists.
        """
        vehicle_index(vehicle)
        if state is None:
            state = self.state(closures=closures, date=date, events=events, actor=actor)
        elif closures:
            state = state.with_closed(self.closed_mask(closures))
        src, dst = self.resolve(origin), self.resolve(destination)
        _, path = self.compiled(state, vehicle=vehicle, weight=weight).path(src.index, dst.index)
        return describe_path(self.edges, self.nodes, src, dst, path, state, vehicle=vehicle, weight=weight)

    def detour(self, origin: str | int, destination: str | int, **kwargs: Any) -> Detour:
        """:meth:`route` with its arguments, and the same query on the open network."""
        route = self.route(origin, destination, **kwargs)
        base_kw = {k: kwargs[k] for k in ("vehicle", "weight") if k in kwargs}
        return Detour(route=route, baseline=self.route(origin, destination, **base_kw))

    def travel_times(
        self,
        origins: Sequence[str | int],
        destinations: Sequence[str | int],
        *,
        closures: Iterable[Selector] = (),
        vehicle: str = "car",
        weight: str = "time",
        date: Date | str | None = None,
        events: StateSource | None = None,
        state: NetworkState | None = None,
        actor: str | None = None,
    ) -> np.ndarray:
        """Matrix of best costs, ``(len(origins), len(destinations))``.

        Hours for ``weight="time"``, km for ``weight="distance"``; ``inf`` where
        unreachable. ``origins``/``destinations`` are place names, node ids or
        ``"lat,lon"`` (each distinct one resolved once), or integer numpy arrays
        of internal node indices (as :meth:`node_index` gives), used as they
        are. One Dijkstra run per distinct origin, by chunks of origins so that
        memory stays bounded whatever the size of the matrix.
        """
        state = state or self.state(closures=closures, date=date, events=events, actor=actor)
        n_nodes = self.core.n_nodes

        def indices(items: Sequence[str | int] | np.ndarray) -> np.ndarray:
            if isinstance(items, np.ndarray) and items.dtype.kind in "iu":
                idx = items.astype(np.int64, copy=False).reshape(-1)
                if idx.size and (idx.min() < 0 or idx.max() >= n_nodes):
                    raise IndexError(f"node indices must lie in [0, {n_nodes})")
                return idx
            known = self.nodes.index
            seen: dict[Any, int] = {}
            out = np.empty(len(items), dtype=np.int64)
            for k, item in enumerate(items):
                i = seen.get(item)
                if i is None:
                    i = known.get(item) if not isinstance(item, str) else None
                    seen[item] = i = self.node_index(item) if i is None else i
                out[k] = i
            return out

        src, dst = indices(origins), indices(destinations)
        if len(src) == 0 or len(dst) == 0:
            return np.zeros((len(src), len(dst)))
        uniq, inverse = np.unique(src, return_inverse=True)
        dist = self.compiled(state, vehicle=vehicle, weight=weight).distances(uniq, dst)
        dist /= 3600.0 if weight == "time" else 1000.0
        return dist if len(uniq) == len(src) and np.array_equal(uniq, src) else dist[inverse.reshape(-1)]

    def __repr__(self) -> str:
        return (
            f"Network({len(self.node_ids)} nodes, {self.edges.n} edges, "
            f"{len(self.places)} places, {len(self.edges.road_edges)} roads)"
        )


def _places_from_nodes(graph: nx.MultiDiGraph) -> PlaceIndex:
    """Places of the nodes that carry a ``name`` (id from ``place``, aliases ``;``-separated)."""
    index = PlaceIndex()
    for n, data in graph.nodes(data=True):
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
