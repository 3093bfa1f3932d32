"""The state a freight simulation shares: the environment, the network state, routes, trips.

:class:`Sim` holds what every simpy process of a run reads and writes: the
environment, the network state in force, route caches, hourly volumes, the
per-trip arrays and per-edge statistics. The pieces a truck carries are
:class:`SimRoute` (a path under one state, with the per-edge figures trucks
need), :class:`Leg` (a stretch driven without stopping), :class:`Batch`
(the trucks a day starts, all flows together; those driving straight through
need no process) and :class:`TripTotals` (running totals of a truck that left
the fast path). The schedules of a day's batches are kept compactly
(:class:`CellStore`, :class:`LegCells`) and a :class:`Leg` is made only for
trucks that need one. The model is described in :mod:`routesim.sim.model`.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import numpy as np
import simpy
from numba import njit

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
        "drive", "dst", "edges", "entry", "fee_syp", "fee_usd", "head", "inv_cap", "km", "lanes", "lead", "m",
        "next_stop", "off", "reg", "roads", "service_h", "src", "stop", "t0", "unsafe", "vcol",
    )

    def __init__(self, sim: Sim, src: int, dst: int, path: list[int], cls: TruckClass) -> None:
        E, st = sim.net.edges, sim.state
        e = np.asarray(path, dtype=np.int64)
        self.src, self.dst, self.edges, self.m = src, dst, e, len(e)
        self.vcol = sim.columns(e)
        self.head = E.v[e]
        self.km = E.length_m[e] / 1000.0
        cfg = sim.config
        drive = E.base_time_s[TRUCK, e] / (st.speed_factor[e] * cls.speed_factor * cfg.speed_factor) / 3600.0
        if cls.max_kph:
            drive = np.maximum(drive, self.km / cls.max_kph)
        # Hours driven (congestion applies to them) and the fixed delays of checkpoints on top:
        # t0, the free-flow time of each edge, is their sum.
        self.drive = drive
        t0 = drive + st.delay_s[e] * (cfg.delay_factor / 3600.0) if st.delay_s[e].any() else drive
        self.t0 = t0
        self.inv_cap = cfg.truck_pce / (sim.capacity[e] * st.capacity_factor[e])
        self.fee_usd, self.fee_syp = st.fee_usd[e], st.fee_syp[e]
        # Queues: trucks stop before the edge and wait for one of its lanes (mean service time in hours).
        rate = st.queue_tph[e]
        self.stop = rate > 0
        self.service_h = np.divide(cfg.delay_factor, rate, out=np.zeros(self.m), where=self.stop)
        self.lanes = np.where(st.queue_lanes[e] > 0, st.queue_lanes[e], sim.servers[e])
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
        self.entry = np.ones(self.m, dtype=bool)
        np.not_equal(seg[1:], seg[:-1], out=self.entry[1:])
        self.roads = road_code(sim, e)
        # Free-flow hours from the route's start to each edge's entry: what a leg from position 0
        # uses to place its entries in clock hours (``np.cumsum`` is sequential, so any prefix of
        # this equals the leg's own ``cumsum(t0) - t0``).
        self.off = np.cumsum(t0) - t0
        # The leg a dispatched truck drives first, ``[0, b)`` up to the first stop, and its sums
        # (the same numpy reductions over the same slices as one truck would make): ``None`` when
        # the route is empty or starts with a stop.
        self.lead: tuple[int, float, float, float] | None = None
        if self.m and not self.stop[0]:
            b = self.next_stop[0]
            self.lead = (b, self.km[:b].sum(), self.fee_usd[:b].sum(), self.fee_syp[:b].sum())
        self.reg = -1  # offset of the route's edges in the registry (RouteRegistry.add), once added


class Leg:
    """The stretch ``[a, b)`` of a route driven without stopping, for ``k`` trucks.

    ``ends[r, j]`` is the clock hour truck ``r`` leaves edge ``a + j``; :meth:`delay_row`
    its congestion + night-wait hours on each edge, :meth:`wait_row` the night-wait
    part. A leg scheduled truck by truck (:func:`routesim.sim.traffic.times`) holds
    both as matrices; a leg scheduled with its day's batches
    (:func:`routesim.sim.traffic.schedule_group`) holds their compact form
    (:class:`LegCells`) and rebuilds a row only when a truck leaves the fast path.
    """

    __slots__ = ("_delay", "_finish", "_wait", "a", "b", "cells", "ends", "route", "start", "tons")

    def __init__(
        self, route: SimRoute, a: int, b: int, start: np.ndarray, tons: float, *, ends: np.ndarray | None = None,
        delay: np.ndarray | None = None, wait: np.ndarray | None = None, cells: LegCells | None = None,
    ) -> None:
        self.route, self.a, self.b, self.start, self.tons = route, a, b, start, tons
        # A leg with cells rebuilds its delay and wait rows from them: no matrices to hold.
        zeros = np.zeros((len(start), b - a) if cells is None or ends is None else (0, 0))
        self.ends: np.ndarray = zeros if ends is None else ends
        self._delay: np.ndarray = zeros if delay is None else delay
        self._wait: np.ndarray = zeros if wait is None else wait
        self.cells = cells
        self._finish: list[float] | None = None

    @property
    def finish(self) -> list[float]:
        """Clock hour each truck reaches ``b`` (its start, for a leg without edges)."""
        if self._finish is None:
            self._finish = self.ends[:, -1].tolist() if self.b > self.a else self.start.tolist()
        return self._finish

    def delay_row(self, r: int) -> np.ndarray:
        """Congestion + night-wait hours of truck ``r`` on each edge of the leg."""
        if self.cells is not None:
            return self.cells.delay_row(self, r)
        return self._delay[r]

    def wait_row(self, r: int) -> np.ndarray:
        """Night-wait hours of truck ``r`` before each edge of the leg (0 on most)."""
        if self.cells is not None:
            return self.cells.wait_row(self, r)
        return self._wait[r]


class CellStore:
    """The cells of a group of batches scheduled together (:func:`routesim.sim.traffic.schedule_group`).

    ``reg[p]`` is the registry position (route offset + edge position) of cell ``p``,
    ``hour[p]`` its clock hour (a whole number), ``t[p]`` and ``delay[p]`` the hours an
    entry then takes and its congestion part. Column ``c`` (an edge of a batch's lead
    leg, batch by batch) owns cells ``[col[c], col[c + 1])``; batch ``i`` owns columns
    ``[c0[i], c0[i + 1])``. ``waits`` holds the night waits of every truck at every
    night-closed edge of its leg, batch ``i``'s from ``w0[i]`` on, ``nights[i]`` per
    truck; ``limit`` is the hour entries were capped at.
    """

    __slots__ = ("c0", "col", "delay", "hour", "limit", "nights", "reg", "t", "w0", "waits")

    def __init__(
        self, reg: np.ndarray, hour: np.ndarray, t: np.ndarray, delay: np.ndarray, col: np.ndarray, c0: np.ndarray,
        waits: np.ndarray, w0: np.ndarray, nights: np.ndarray, limit: float,
    ) -> None:
        self.reg, self.hour, self.t, self.delay, self.col, self.c0 = reg, hour, t, delay, col, c0
        self.waits, self.w0, self.nights, self.limit = waits, w0, nights, limit


class LegCells:
    """What the lead leg of batch ``i`` of a group keeps instead of per-truck delay matrices.

    All trucks entering edge ``j`` of the leg in the same clock hour ``h`` meet the
    same congestion, so the schedule was computed from one value per (edge, hour)
    *cell* (``store``, in ascending (position, hour) order). Night waits depend on
    each truck's clock: ``store.waits[w0 + r * nights + u]`` at the ``u``-th
    night-closed edge of the leg. A row rebuilt from these holds the values a
    truck-by-truck schedule (:func:`routesim.sim.traffic.times`) would.
    """

    __slots__ = ("_key", "i", "store")

    def __init__(self, store: CellStore, i: int) -> None:
        self.store, self.i = store, i
        self._key: np.ndarray | None = None

    def wait_row(self, leg: Leg, r: int) -> np.ndarray:
        """Night waits of truck ``r`` (see :meth:`Leg.wait_row`)."""
        st, i = self.store, self.i
        row = np.zeros(leg.b - leg.a)
        nu = int(st.nights[i])
        if nu:
            assert leg.route.unsafe is not None
            w = int(st.w0[i]) + r * nu
            row[np.flatnonzero(leg.route.unsafe[leg.a : leg.b])] = st.waits[w : w + nu]
        return row

    def delay_row(self, leg: Leg, r: int) -> np.ndarray:
        """Congestion + night waits of truck ``r`` (see :meth:`Leg.delay_row`)."""
        st, i = self.store, self.i
        p0 = int(st.col[st.c0[i]])
        if self._key is None:
            p1 = int(st.col[st.c0[i + 1]])
            pos = st.reg[p0:p1] - (leg.route.reg + leg.a)
            self._key = (pos << 32) + st.hour[p0:p1].astype(np.int64)
        # The clock hour the truck's entries were counted in: floor(start + off), capped (a lead
        # leg starts at 0, so the route's own offsets are the leg's).
        off = leg.route.off[leg.a : leg.b]
        hour = np.minimum(np.floor(leg.start[r] + off), st.limit).astype(np.int64)
        cell = np.searchsorted(self._key, (np.arange(len(hour), dtype=np.int64) << 32) + hour)
        return st.delay[p0 + cell] + self.wait_row(leg, r)


class Batch:
    """Batches scheduled together (:func:`routesim.sim.traffic.schedule_group`): one per flow of a day.

    Batch ``i`` holds ``k[i]`` trucks, trips ``first + r0[i] ..`` (rows ``r0[i] ..`` of
    the group), driving the lead leg ``[0, m[i])`` of ``routes[i]`` (``m[i] = 0``: no
    leg; those trucks start as processes). The trucks whose leg reaches the destination
    are *alive*: nothing can happen to such a truck but a change of the road ahead, and
    changes come only at state changes, so its arrival is known at dispatch and it needs
    no simpy event at all. At a state change, :meth:`concerned` picks the trucks the
    change concerns; each becomes a process from that moment
    (:func:`routesim.sim.movement.caught`). A batch's :class:`Leg` is made only when
    some truck of it needs one (:meth:`leg`).
    """

    __slots__ = (
        "_legs", "alive", "cells", "finish", "first", "flow", "k", "last", "m", "r0", "returns", "routes", "starts",
        "tons",
    )

    def __init__(
        self, first: int, starts: np.ndarray, k: np.ndarray, m: np.ndarray, routes: list[SimRoute | None],
        flow: np.ndarray, tons: np.ndarray, cells: CellStore, finish: np.ndarray,
    ) -> None:
        self.first, self.starts, self.k, self.m, self.routes = first, starts, k, m, routes
        self.flow, self.tons, self.cells, self.finish = flow, tons, cells, finish
        self.r0 = np.zeros(len(k), dtype=np.int64)
        np.cumsum(k[:-1], out=self.r0[1:])
        self.alive = np.zeros(len(starts), dtype=bool)
        self.last = -math.inf
        self.returns: np.ndarray | None = None  # day each row's empty return leaves (-1: none)
        self._legs: dict[int, Leg] = {}

    def leg(self, i: int) -> Leg:
        """The lead leg of batch ``i`` (``m[i] > 0``)."""
        leg = self._legs.get(i)
        if leg is None:
            route = self.routes[i]
            assert route is not None and self.m[i] > 0
            k, m, r0 = int(self.k[i]), int(self.m[i]), int(self.r0[i])
            start = self.starts[r0 : r0 + k]
            st = self.cells
            ends = np.empty((m, k))  # edge by edge, as the schedule ran; seen as (k, m)
            leg_ends(start, route.off, route.unsafe if route.unsafe is not None else np.zeros(m, dtype=bool),
                     st.col[st.c0[i] : st.c0[i + 1] + 1], st.hour, st.t, st.waits[st.w0[i] :], int(st.nights[i]),
                     ends)
            leg = self._legs[i] = Leg(route, 0, m, start, float(self.tons[i]), ends=ends.T,
                                      cells=LegCells(self.cells, i))
        return leg

    def batch_of(self, rows: np.ndarray) -> np.ndarray:
        """Batch of each row of the group."""
        return np.searchsorted(self.r0, rows, side="right") - 1

    def concerned(self, verdict: Verdict, now: float) -> list[tuple[int, int, str]]:
        """Trucks under way at ``now`` for which ``verdict(route, next position)`` is a cause: ``(batch, row in
        the batch, cause)``, by batch then row. They leave the group."""
        rows = np.flatnonzero(self.alive & (self.finish > now))
        out: list[tuple[int, int, str]] = []
        if len(rows) == 0:
            return out
        which = self.batch_of(rows)
        for i in np.unique(which).tolist():
            leg = self.leg(i)
            r0 = int(self.r0[i])
            mine = rows[which == i] - r0
            # Position of the next edge to enter: after the one in progress, or the first if not started.
            done = (leg.ends[mine] <= now).sum(axis=1)
            pos = np.where(leg.start[mine] <= now, leg.a + np.minimum(done + 1, leg.b - leg.a), leg.a)
            found = []
            for p in np.unique(pos).tolist():
                cause = verdict(leg.route, p)
                if cause is not None:
                    picked = mine[pos == p]
                    self.alive[picked + r0] = False
                    found += [(int(r), cause) for r in picked]
            found.sort()
            out += [(i, r, cause) for r, cause in found]
        return out

    def under_way(self, now: float) -> list[tuple[int, int]]:
        """Trucks still driving at ``now``: ``(batch, row in the batch)``, by batch then row."""
        rows = np.flatnonzero(self.alive & (self.finish > now))
        which = self.batch_of(rows)
        return list(zip(which.tolist(), (rows - self.r0[which]).tolist(), strict=True))


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


class RouteRegistry:
    """The per-edge figures of the routes trucks were dispatched on, end to end in flat arrays.

    The kernels that schedule a day's batches (:mod:`routesim.sim.traffic`) read a
    route's edges from ``offset = route.reg`` on, so a day costs no copying of routes;
    a route is added once, the first time it is dispatched on (routes are made once
    per epoch).
    """

    __slots__ = ("drive", "edge", "entry", "inv_cap", "km", "n", "night", "off", "t0", "vcol")

    def __init__(self, cap: int = 1024) -> None:
        self.n = 0
        self.edge = np.zeros(cap, dtype=np.int64)
        self.vcol = np.zeros(cap, dtype=np.int64)
        self.off = np.zeros(cap)
        self.t0 = np.zeros(cap)
        self.drive = np.zeros(cap)
        self.inv_cap = np.zeros(cap)
        self.km = np.zeros(cap)
        self.night = np.zeros(cap, dtype=np.bool_)
        self.entry = np.zeros(cap, dtype=np.bool_)

    def add(self, route: SimRoute) -> int:
        """Offset of ``route`` in the registry (adding it if needed)."""
        if route.reg >= 0:
            return route.reg
        first, m = self.n, route.m
        if first + m > len(self.edge):
            cap = max(2 * len(self.edge), first + m)
            for name in self.__slots__:
                if name != "n":
                    old = getattr(self, name)
                    new = np.zeros(cap, dtype=old.dtype)
                    new[:first] = old[:first]
                    setattr(self, name, new)
        sl = slice(first, first + m)
        self.edge[sl], self.vcol[sl], self.off[sl], self.t0[sl] = route.edges, route.vcol, route.off, route.t0
        self.drive[sl] = route.drive
        self.inv_cap[sl], self.km[sl], self.entry[sl] = route.inv_cap, route.km, route.entry
        self.night[sl] = False if route.unsafe is None else route.unsafe
        self.n = first + m
        route.reg = first
        return first


class FlowRoutes:
    """The route of each flow in one direction under the state in force, and its lead leg's figures.

    Filled as the days need them, in the order the flows are dispatched (so routes and road
    names are made in the order a flow-by-flow dispatch would make them); dropped at each
    state change. ``lead[i] = 0``: no lead leg (no route, an empty route or a stop at the
    origin); ``road[i] = -1``: the lead leg stops before the destination.
    """

    __slots__ = ("fee_syp", "fee_usd", "has", "km", "known", "lead", "nights", "reg", "road", "routes")

    def __init__(self, n: int) -> None:
        self.known = np.zeros(n, dtype=bool)
        self.has = np.zeros(n, dtype=bool)
        self.lead = np.zeros(n, dtype=np.int64)
        self.reg = np.zeros(n, dtype=np.int64)
        self.nights = np.zeros(n, dtype=np.int64)
        self.road = np.full(n, -1, dtype=np.int64)
        self.km = np.zeros(n)
        self.fee_usd = np.zeros(n)
        self.fee_syp = np.zeros(n)
        self.routes: list[SimRoute | None] = [None] * n

    def set(self, i: int, route: SimRoute | None, registry: RouteRegistry) -> None:
        """Record flow ``i``'s route."""
        self.known[i] = True
        self.routes[i] = route
        if route is None:
            return
        self.has[i] = True
        if route.lead is not None:
            b, self.km[i], self.fee_usd[i], self.fee_syp[i] = route.lead
            self.lead[i] = b
            self.reg[i] = registry.add(route)
            self.nights[i] = 0 if route.unsafe is None else int(route.unsafe[:b].sum())
            if b == route.m:
                self.road[i] = route.roads


class EdgeTraffic:
    """What the network says of each edge's traffic: capacity (pcu/h, one direction),
    edges flagged unsafe at night (``None`` if none is) and checkpoint lanes."""

    __slots__ = ("capacity", "servers", "unsafe")

    def __init__(self, capacity: np.ndarray, unsafe: np.ndarray | None, servers: np.ndarray) -> None:
        self.capacity, self.unsafe, self.servers = capacity, unsafe, servers


class Sim:
    """Everything the processes share: environment, network state, caches, tables.

    The departures are drawn as the days come (:func:`routesim.sim.dispatch.plan_departures`);
    the trip arrays grow as trips are made.
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
        # Days the clock may run: the period, then up to drain_days more with no departures.
        self.run_days = self.n_days + max(0, int(config.drain_days))
        # Where the clock stops: the end of the period, or of the drain when it ends (set by the controller).
        self.end_h = 24.0 * self.n_days
        self.rng = np.random.default_rng([config.seed, 0])
        self.rng_service = np.random.default_rng([config.seed, 1])
        self.capacity, self.unsafe, self.servers = traffic.capacity, traffic.unsafe, traffic.servers
        n_edges = net.edges.n
        # Hourly entries per edge that some route uses, in the order routes first use them
        # (``vol[vcol[e], hour % RING_H]``): trucks of a route meet its edges in memory order,
        # and a network of 100,000 edges costs only the few thousand that carry trucks.
        self.vcol = np.full(n_edges, -1, dtype=np.int64)
        self.n_vcol = 0
        self.vol = np.zeros((256, RING_H))
        self.registry = RouteRegistry()
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
        # Per flow: what its trips carry and burn (loaded, and on an empty return), its fee per loaded trip.
        self.flow_tons = np.array([float(f.tons_per_truck) for f in self.flows])
        self.flow_fee = np.array([float(f.fee_usd_per_trip) for f in self.flows])
        self.flow_return = np.array([bool(f.return_empty) for f in self.flows], dtype=bool)
        self.rate_loaded = np.array([f.truck.litres_per_km(f.load_factor) for f in self.flows])
        self.rate_empty = np.array([f.truck.litres_per_km(0.0) for f in self.flows])
        self.classes = sorted({f.truck for f in self.flows}, key=repr)
        self.class_index = {c: i for i, c in enumerate(self.classes)}
        # Epochs: index of the days on which the state changes.
        run_end = config.start + timedelta(days=self.run_days)
        self.epoch_days = {(ep.start - config.start).days for ep in events.epochs(config.start, run_end)}
        self.state: NetworkState = events.state_at(config.start, actor=config.actor)
        self.closed = self.state.closed[TRUCK]
        self.trees: OrderedDict[tuple[bytes, int], ShortestPaths] = OrderedDict()
        self.to_dst: OrderedDict[tuple[bytes, int], np.ndarray] = OrderedDict()
        self._reverse: tuple[bytes, Any] | None = None  # (state key, transposed weight matrix)
        self.routes: dict[tuple[int, int, int], SimRoute | None] = {}
        self.checkpoints: dict[tuple[int, int], simpy.Resource] = {}  # (edge, lanes) -> queue
        self.changed = self.env.event()
        self.road_names: list[str] = [""]
        self.road_codes: dict[str, int] = {"": 0}
        self.moving: dict[int, tuple[Any, ...]] = {}  # trip -> (process, route, leg|None, row|pos, TripTotals|None)
        # Trucks on a direct leg to their destination, with no process (see Batch).
        self.batches: list[Batch] = []
        self.returns: dict[int, list[Batch]] = {}  # day -> groups with trucks whose empty return leaves then
        self.active: dict[int, TripTotals] = {}
        # Edge statistics.
        self.e_trucks = np.zeros(n_edges)
        self.e_tons = np.zeros(n_edges)
        self.e_km = np.zeros(n_edges)
        self.e_delay = np.zeros(n_edges)
        # Departures of days [plan_d0, plan_d1) (routesim.sim.dispatch.plan_departures):
        # plan_k[d - plan_d0, i] trucks of flow i on day d, hours
        # plan_deps[plan_at[d - plan_d0, i] :][: plan_k[d - plan_d0, i]] (sorted).
        self.plan_d0 = self.plan_d1 = 0
        self.plan_k: np.ndarray = np.zeros((0, len(self.flows)), dtype=np.int64)
        self.plan_at: np.ndarray = np.zeros((0, len(self.flows)), dtype=np.int64)
        self.plan_deps: np.ndarray = np.zeros(0)
        # Routes of the flows under the state in force, looked up as the days need them.
        self.tables: dict[bool, FlowRoutes] = {}
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

    def dist_to(self, dst: int) -> np.ndarray:
        """Fastest truck time from every node to ``dst`` under the current state (cached per state).

        One search backwards from the destination answers "is there a faster path from
        here now?" for every truck bound there, where a tree from each truck's position
        would cost one search per truck.
        """
        key = (self.state.key(), -1 - dst)
        hit = self.to_dst.get(key)
        if hit is None:
            from scipy.sparse.csgraph import dijkstra

            rkey = self.state.key()
            if self._reverse is None or self._reverse[0] != rkey:
                matrix = self.net.compiled(self.state, vehicle="truck", weight="time").matrix
                self._reverse = (rkey, matrix.T.tocsr())
            hit = self.to_dst[key] = dijkstra(self._reverse[1], directed=True, indices=dst)
            if len(self.to_dst) > 256:
                self.to_dst.popitem(last=False)
        return hit

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


    def columns(self, edges: np.ndarray) -> np.ndarray:
        """Rows of ``vol`` for ``edges`` (distinct), new edges taking the next rows in order."""
        col = self.vcol[edges]
        new = col < 0
        if new.any():
            first = self.n_vcol
            col[new] = np.arange(first, first + int(new.sum()))
            self.vcol[edges[new]] = col[new]
            self.n_vcol = first + int(new.sum())
            if self.n_vcol > len(self.vol):
                vol = np.zeros((max(2 * len(self.vol), self.n_vcol), RING_H))
                vol[:first] = self.vol[:first]
                self.vol = vol
        return col

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
        acc.queue_h += float(leg.wait_row(row)[:done].sum())
        if c > a:
            acc.edges.append(route.edges[a:c])
        if c < b:
            self.edge_stats(route, c, b, -1.0, leg.tons, -leg.delay_row(row)[done:])
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



@njit(cache=True)
def leg_ends(
    start: np.ndarray, off: np.ndarray, night: np.ndarray, col: np.ndarray, hour: np.ndarray, t: np.ndarray,
    waits: np.ndarray, nights: int, ends: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """The ends of a lead leg scheduled with its group, replayed from its cells: ``ends[j, r]``.

    The running sum of :func:`routesim.sim.traffic._schedule_cells` again, term for term:
    truck ``r`` takes ``t`` of its (edge, hour) cell on edge ``j`` (plus its night wait
    there), and leaves it at its start plus the sum so far.
    """
    k = len(start)
    cum = np.zeros(k)
    u = 0
    for j in range(ends.shape[0]):
        o = off[j]
        p = col[j]
        end = col[j + 1]
        bound = hour[p + 1] if p + 1 < end else np.inf
        tp = t[p]
        for r in range(k):
            while start[r] + o >= bound:
                p += 1
                tp = t[p]
                bound = hour[p + 1] if p + 1 < end else np.inf
            if night[j]:
                cum[r] = cum[r] + (tp + waits[r * nights + u])
            else:
                cum[r] = cum[r] + tp
            ends[j, r] = start[r] + cum[r]
        if night[j]:
            u += 1


def road_code(sim: Sim, edges: np.ndarray) -> int:
    """Code (into ``sim.road_names``) of the ';'-joined road refs along ``edges``, consecutive repeats merged."""
    E = sim.net.edges
    out: list[str] = []
    # A ref repeating the one before it adds nothing (its first part, or one already last, is
    # in it): only where the ref changes along the path is there anything to look at.
    code = E.ref_code[edges]
    keep = np.ones(len(code), dtype=bool)
    np.not_equal(code[1:], code[:-1], out=keep[1:])
    for ref in E.ref[edges[keep]]:
        parts = [p for p in str(ref).split(";") if p]
        if parts and not (out and out[-1] in parts):
            out.append(parts[0])
    name = ";".join(out)
    code = sim.road_codes.get(name)
    if code is None:
        code = sim.road_codes[name] = len(sim.road_names)
        sim.road_names.append(name)
    return code

