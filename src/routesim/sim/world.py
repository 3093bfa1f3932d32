"""The state a freight simulation shares: the environment, the network state, routes, trips.

:class:`Sim` holds what every simpy process of a run reads and writes: the
environment, the network state in force, route caches, hourly volumes, the
per-trip arrays and per-edge statistics. The pieces a truck carries are
:class:`SimRoute` (a path under one state, with the per-edge figures trucks
need), :class:`Leg` (a stretch driven without stopping), :class:`Batch`
(trucks driving straight through, with no process) and :class:`TripTotals`
(running totals of a truck that left the fast path). The model is described in
:mod:`routesim.sim.model`.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import simpy

from routesim.demand.flows import Flow, TruckClass
from routesim.events.eventset import EventSet
from routesim.models.vehicles import vehicle_index
from routesim.network.core import ShortestPaths
from routesim.network.graph import Network
from routesim.network.state import NetworkState
from routesim.sim.model import Prices, SimConfig

TRUCK = vehicle_index("truck")
#: Ring of hourly entry counts: 4 days of hours.
RING_H = 96

IN_TRANSIT, DELIVERED, STRANDED = 0, 1, 2

#: ``verdict(route, position)``: why a change of state concerns a truck at that
#: position of that route (``"closed"``, ``"changed"``, ``"opened"``), or ``None``.
Verdict = Callable[["SimRoute", int], "str | None"]


# -- internal data --------------------------------------------------------------------
class SimRoute:
    """A path under one epoch's state, with the per-edge figures trucks need."""

    __slots__ = (
        "dst", "edge_delay_h", "edges", "entry", "fee_syp", "fee_usd", "head", "inv_cap", "km", "m",
        "next_stop", "roads", "src", "stop", "t0", "unsafe",
    )

    def __init__(self, sim: Sim, src: int, dst: int, path: list[int], cls: TruckClass) -> None:
        E, st = sim.net.edges, sim.state
        e = np.asarray(path, dtype=np.int64)
        self.src, self.dst, self.edges, self.m = src, dst, e, len(e)
        self.head = E.v[e]
        self.km = E.length_m[e] / 1000.0
        t0 = E.base_time_s[TRUCK, e] / (st.speed_factor[e] * cls.speed_factor) / 3600.0
        if cls.max_kph:
            t0 = np.maximum(t0, self.km / cls.max_kph)
        self.t0 = t0
        self.inv_cap = sim.config.truck_pce / (sim.capacity[e] * st.capacity_factor[e])
        self.fee_usd, self.fee_syp = st.fee_usd[e], st.fee_syp[e]
        self.edge_delay_h = st.delay_s[e] / 3600.0
        self.stop = self.edge_delay_h > 0
        # next_stop[p]: first stop position > p (or m): the end of a leg starting at p.
        nxt = np.full(self.m + 1, self.m, dtype=np.int64)
        for p in np.flatnonzero(self.stop)[::-1]:
            nxt[:p] = p
        self.next_stop = nxt.tolist()
        night = st.night_closed[e]
        if sim.unsafe is not None and sim.config.night_ban:
            night = night | sim.unsafe[e]
        self.unsafe = night if night.any() else None
        seg = E.segment_code[e]
        self.entry = np.r_[True, seg[1:] != seg[:-1]] if self.m else np.zeros(0, dtype=bool)
        self.roads = road_code(sim, e)


class Leg:
    """The stretch ``[a, b)`` of a route driven without stopping, for ``k`` trucks.

    ``ends[r, j]`` is the clock hour truck ``r`` leaves edge ``a + j``; ``delay`` its
    congestion + night-wait hours on that edge; ``wait`` the night-wait part.
    """

    __slots__ = ("a", "b", "delay", "ends", "finish", "route", "start", "tons", "wait")

    def __init__(self, route: SimRoute, a: int, b: int, start: np.ndarray, tons: float) -> None:
        self.route, self.a, self.b, self.start, self.tons = route, a, b, start, tons
        self.ends = self.delay = self.wait = np.zeros((len(start), b - a))
        self.finish: list[float] = start.tolist()


class Batch:
    """Trucks of one flow and day driving one leg straight to the destination, without processes.

    Nothing can happen to such a truck but a change of the road ahead, and changes
    come only at state changes: its arrival is known at dispatch, so it needs no
    simpy event at all. At a state change, :meth:`concerned` picks the trucks the
    change concerns; each becomes a process from that moment
    (:func:`routesim.sim.movement.caught`).
    """

    __slots__ = ("alive", "first", "flow_i", "last", "leg")

    def __init__(self, leg: Leg, first: int, flow_i: int) -> None:
        self.leg, self.first, self.flow_i = leg, first, flow_i
        self.alive = np.ones(len(leg.start), dtype=bool)
        self.last = max(leg.finish)

    def concerned(self, verdict: Verdict, now: float) -> list[tuple[int, str]]:
        """Rows under way at ``now`` for which ``verdict(route, next position)`` is a cause; they leave the batch."""
        leg = self.leg
        ends = leg.ends
        rows = np.flatnonzero(self.alive & (ends[:, -1] > now))
        if len(rows) == 0:
            return []
        # Position of the next edge to enter: after the one in progress, or the first if not started.
        done = (ends[rows] <= now).sum(axis=1)
        pos = np.where(leg.start[rows] <= now, leg.a + np.minimum(done + 1, leg.b - leg.a), leg.a)
        out = []
        for p in np.unique(pos).tolist():
            cause = verdict(leg.route, p)
            if cause is not None:
                picked = rows[pos == p]
                self.alive[picked] = False
                out += [(int(r), cause) for r in picked]
        out.sort()
        return out

    def under_way(self, now: float) -> np.ndarray:
        """Rows still driving at ``now``."""
        return np.flatnonzero(self.alive & (self.leg.ends[:, -1] > now))


class TripTotals:
    """Running totals of a trip that left the fast path (several legs, reroutes, waits)."""

    __slots__ = (
        "dst", "edges", "fee_syp", "fee_usd", "flow", "id", "km", "queue_h", "reroutes", "route", "since", "tons",
    )

    def __init__(self, trip: int, flow: Flow, dst: int, tons: float) -> None:
        self.id, self.flow, self.dst, self.tons = trip, flow, dst, tons
        self.km = self.queue_h = self.fee_syp = 0.0
        self.fee_usd = flow.fee_usd_per_trip if tons > 0 else 0.0
        self.reroutes = 0
        self.edges: list[np.ndarray] = []
        self.since = math.nan  # start of a checkpoint stop in progress
        self.route: SimRoute | None = None  # the route driven from the start, while never rerouted


class EdgeTraffic:
    """What the network says of each edge's traffic: capacity (pcu/h, one direction),
    edges flagged unsafe at night (``None`` if none is) and checkpoint lanes."""

    __slots__ = ("capacity", "servers", "unsafe")

    def __init__(self, capacity: np.ndarray, unsafe: np.ndarray | None, servers: np.ndarray) -> None:
        self.capacity, self.unsafe, self.servers = capacity, unsafe, servers


class Sim:
    """Everything the processes share: environment, network state, caches, tables.

    The departures are planned afterwards (:func:`routesim.sim.dispatch.plan_departures`),
    which also sizes the trip arrays.
    """

    def __init__(
        self, net: Network, events: EventSet, flows: Sequence[Flow], config: SimConfig, prices: Prices,
        traffic: EdgeTraffic,
    ) -> None:
        if config.end <= config.start:
            raise ValueError(f"end {config.end} must be after start {config.start}")
        if config.checkpoint_service not in ("exponential", "lognormal", "fixed"):
            raise ValueError(f"checkpoint_service must be exponential, lognormal or fixed, "
                             f"got {config.checkpoint_service!r}")
        self.net, self.events, self.flows, self.config, self.prices = net, events, list(flows), config, prices
        self.env = simpy.Environment()
        self.n_days = (config.end - config.start).days
        self.end_h = 24.0 * self.n_days
        self.rng = np.random.default_rng([config.seed, 0])
        self.rng_service = np.random.default_rng([config.seed, 1])
        self.capacity, self.unsafe, self.servers = traffic.capacity, traffic.unsafe, traffic.servers
        n_edges = net.edges.n
        self.vol = np.zeros((RING_H, n_edges))
        self.bg = config.background_pcu_share
        self.src = [net.node_index(f.origin) for f in self.flows]
        self.dst = [net.node_index(f.destination) for f in self.flows]
        for f in self.flows:
            a, b = f.depart_hours
            if not (0.0 <= a < b <= 24.0):
                raise ValueError(f"flow {f.id!r}: depart_hours must satisfy 0 <= from < to <= 24, got {f.depart_hours}")
            if f.trucks_per_day < 0:
                raise ValueError(f"flow {f.id!r}: trucks_per_day must be >= 0")
            p = f.depart_profile
            if p is not None and (len(p) != 24 or min(p) < 0 or sum(p) <= 0):
                raise ValueError(f"flow {f.id!r}: depart_profile needs 24 weights >= 0 with a positive sum")
        self.classes = sorted({f.truck for f in self.flows}, key=repr)
        self.class_index = {c: i for i, c in enumerate(self.classes)}
        # Epochs: index of the days on which the state changes.
        self.epoch_days = {(ep.start - config.start).days for ep in events.epochs(config.start, config.end)}
        self.state: NetworkState = events.state_at(config.start)
        self.closed = self.state.closed[TRUCK]
        self.trees: OrderedDict[tuple[bytes, int], ShortestPaths] = OrderedDict()
        self.routes: dict[tuple[int, int, int], SimRoute | None] = {}
        self.checkpoints: dict[int, simpy.Resource] = {}
        self.changed = self.env.event()
        self.road_names: list[str] = [""]
        self.road_codes: dict[str, int] = {"": 0}
        self.moving: dict[int, tuple[Any, ...]] = {}  # trip -> (process, route, leg|None, row|pos, TripTotals|None)
        # Trucks on a direct leg to their destination, with no process (see Batch).
        self.batches: list[Batch] = []
        self.returns: dict[int, list[tuple[Batch, np.ndarray]]] = {}  # day -> batches' rows returning then
        self.active: dict[int, TripTotals] = {}
        # Edge statistics.
        self.e_trucks = np.zeros(n_edges)
        self.e_tons = np.zeros(n_edges)
        self.e_km = np.zeros(n_edges)
        self.e_delay = np.zeros(n_edges)
        self.plan: list[list[tuple[int, np.ndarray]]] = []
        self.n_loaded = 0
        self.n_trips = 0
        self.unserved = np.zeros((self.n_days, len(self.flows)), dtype=np.int64)
        self.alloc(16)
        self.progress: Any = None

    # -- dispatch plan ------------------------------------------------------------------
    def alloc(self, cap: int) -> None:
        """Size the per-trip arrays for ``cap`` trips (they grow as needed)."""
        cap = max(cap, 16)
        self.t_flow = np.zeros(cap, dtype=np.int32)
        self.t_leg = np.zeros(cap, dtype=np.int8)
        self.t_depart = np.zeros(cap)
        self.t_end = np.full(cap, np.nan)
        self.t_status = np.zeros(cap, dtype=np.int8)
        self.t_km = np.zeros(cap)
        self.t_queue = np.zeros(cap)
        self.t_fee_usd = np.zeros(cap)
        self.t_fee_syp = np.zeros(cap)
        self.t_reroutes = np.zeros(cap, dtype=np.int32)
        self.t_tons = np.zeros(cap)
        self.t_rate = np.zeros(cap)
        self.t_road = np.zeros(cap, dtype=np.int32)  # code into self.road_names

    def take(self, k: int) -> int:
        """Allocate ``k`` consecutive trip rows; return the first."""
        first = self.n_trips
        if first + k > len(self.t_flow):
            self._grow(max(2 * len(self.t_flow), first + k))
        self.n_trips += k
        return first

    def new_trip(self, flow_i: int, leg: int, depart: float, tons: float, rate: float) -> int:
        """Allocate one trip row (an empty return started by a truck process)."""
        i = self.take(1)
        self.t_flow[i], self.t_leg[i], self.t_depart[i] = flow_i, leg, depart
        self.t_tons[i], self.t_rate[i] = tons, rate
        return i

    def plan_returns(self, batch: Batch) -> None:
        """Book the empty returns of a batch on the days its trucks arrive (none after the run)."""
        day = (batch.leg.ends[:, -1] // 24.0).astype(np.int64)
        for d in np.unique(day).tolist():
            if d < self.n_days:
                self.returns.setdefault(d, []).append((batch, np.flatnonzero(day == d)))

    def _grow(self, cap: int) -> None:
        for name in (
            "t_flow", "t_leg", "t_depart", "t_end", "t_status", "t_km", "t_queue", "t_fee_usd", "t_fee_syp",
            "t_reroutes", "t_tons", "t_rate", "t_road",
        ):
            old = getattr(self, name)
            new = np.full(cap, np.nan) if name == "t_end" else np.zeros(cap, dtype=old.dtype)
            new[: len(old)] = old
            setattr(self, name, new)

    # -- routing ------------------------------------------------------------------------
    def tree(self, src: int) -> ShortestPaths:
        """Fastest truck paths from ``src`` under the current state (cached)."""
        tkey = (self.state.key(), src)
        tree = self.trees.get(tkey)
        if tree is None:
            tree = self.net.compiled(self.state, vehicle="truck", weight="time").solve([src])
            self.trees[tkey] = tree
            if len(self.trees) > 1024:
                self.trees.popitem(last=False)
        return tree

    def route(self, src: int, dst: int, cls: TruckClass) -> SimRoute | None:
        """Fastest truck route under the current state (``None``: unreachable)."""
        key = (src, dst, self.class_index[cls])
        if key in self.routes:
            return self.routes[key]
        tree = self.tree(src)
        path = tree.edge_path(0, dst) if src != dst else []
        route = None if path is None else SimRoute(self, src, dst, path, cls)
        self.routes[key] = route
        return route


    def edge_stats(self, route: SimRoute, a: int, b: int, k: float, tons: float, delay: np.ndarray) -> None:
        """Add (``k > 0``) or withdraw (``k < 0``) ``|k|`` passages of edges ``[a, b)``."""
        if b <= a:
            return
        e = route.edges[a:b]
        entry = route.entry[a:b]
        self.e_trucks[e] += k * entry
        self.e_tons[e] += k * tons * entry
        self.e_km[e] += k * route.km[a:b]
        self.e_delay[e] += delay

    def stop_leg(self, acc: TripTotals, leg: Leg, row: int, done: int, frac: float = 0.0) -> None:
        """Book the first ``done`` edges of ``leg`` (plus ``frac`` of the next) to ``acc``; withdraw the rest."""
        route, a, b = leg.route, leg.a, leg.b
        c = a + done
        acc.km += float(route.km[a:c].sum())
        acc.fee_usd += float(route.fee_usd[a:c].sum())
        acc.fee_syp += float(route.fee_syp[a:c].sum())
        acc.queue_h += float(leg.wait[row, :done].sum())
        if c > a:
            acc.edges.append(route.edges[a:c])
        self.edge_stats(route, c, b, -1.0, leg.tons, -leg.delay[row, done:])
        if frac > 0 and c < b:
            acc.km += frac * float(route.km[c])
            self.e_km[route.edges[c]] += frac * float(route.km[c])
            acc.edges.append(route.edges[c : c + 1])

    # -- results ------------------------------------------------------------------------
    def write(self, acc: TripTotals, status: int) -> None:
        """Store the totals of a finished (delivered or stranded) slow-path trip."""
        i = acc.id
        self.active.pop(i, None)
        self.t_status[i] = status
        self.t_end[i] = self.env.now
        self.t_km[i], self.t_queue[i] = acc.km, acc.queue_h
        self.t_fee_usd[i], self.t_fee_syp[i] = acc.fee_usd, acc.fee_syp
        self.t_reroutes[i] = acc.reroutes
        if status == DELIVERED and acc.reroutes == 0 and acc.route is not None:
            self.t_road[i] = acc.route.roads
        else:
            self.t_road[i] = road_code(self, np.concatenate(acc.edges)) if acc.edges else 0



def road_code(sim: Sim, edges: np.ndarray) -> int:
    """Code (into ``sim.road_names``) of the ';'-joined road refs along ``edges``, consecutive repeats merged."""
    out: list[str] = []
    for ref in sim.net.edges.ref[edges]:
        parts = [p for p in str(ref).split(";") if p]
        if parts and not (out and out[-1] in parts):
            out.append(parts[0])
    name = ";".join(out)
    code = sim.road_codes.get(name)
    if code is None:
        code = sim.road_codes[name] = len(sim.road_names)
        sim.road_names.append(name)
    return code

