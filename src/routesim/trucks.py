"""The engine behind :mod:`routesim.freight`: shared state and the truck processes.

:class:`Sim` holds everything the simpy processes share (environment, network
state, route caches, hourly volumes, per-trip arrays); :func:`controller` steps
through the days, :func:`dispatch` starts each day's trucks, and :func:`truck`,
:func:`drive` and :func:`caught` move them. The model is described in
:mod:`routesim.freight`.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Generator, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from routesim.network import edge_flag, edge_number
from routesim.state import NetworkState, vehicle_index

if TYPE_CHECKING:
    from routesim.events import EventSet
    from routesim.freight import Flow, Prices, SimConfig, TruckClass
    from routesim.network import Network

TRUCK = vehicle_index("truck")
#: Ring of hourly entry counts: 4 days of hours.
RING_H = 96
#: Lane capacity multiplier by road class (see the module docstring).
CLASS_CAPACITY = {"motorway": 1.0, "trunk": 0.9, "primary": 0.8, "secondary": 0.7}
OTHER_CLASS_CAPACITY = 0.6
DEFAULT_LANES = {"motorway": 4.0, "trunk": 4.0}
NIGHT_START_H, NIGHT_END_H = 20.0, 5.0

IN_TRANSIT, DELIVERED, STRANDED = 0, 1, 2


# -- internal data --------------------------------------------------------------------
class _Route:
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
        seg = E.segment[e]
        self.entry = np.r_[True, seg[1:] != seg[:-1]] if self.m else np.zeros(0, dtype=bool)
        self.roads = _roads(sim, e)


class _Leg:
    """The stretch ``[a, b)`` of a route driven without stopping, for ``k`` trucks.

    ``ends[r, j]`` is the clock hour truck ``r`` leaves edge ``a + j``; ``delay`` its
    congestion + night-wait hours on that edge; ``wait`` the night-wait part.
    """

    __slots__ = ("a", "b", "delay", "ends", "finish", "route", "start", "tons", "wait")

    def __init__(self, route: _Route, a: int, b: int, start: np.ndarray, tons: float) -> None:
        self.route, self.a, self.b, self.start, self.tons = route, a, b, start, tons
        self.ends = self.delay = self.wait = np.zeros((len(start), b - a))
        self.finish: list[float] = start.tolist()


class _Batch:
    """Trucks of one flow and day driving one leg straight to the destination, without processes.

    Nothing can happen to such a truck but a change of the road ahead, and changes
    come only at state changes: its arrival is known at dispatch, so it needs no
    simpy event at all. At a state change, :meth:`concerned` picks the trucks the
    change concerns; each becomes a process from that moment (:func:`caught`).
    """

    __slots__ = ("alive", "first", "flow_i", "last", "leg")

    def __init__(self, leg: _Leg, first: int, flow_i: int) -> None:
        self.leg, self.first, self.flow_i = leg, first, flow_i
        self.alive = np.ones(len(leg.start), dtype=bool)
        self.last = max(leg.finish)

    def concerned(self, verdict: Any, now: float) -> list[tuple[int, str]]:
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


class _Trip:
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
        self.route: _Route | None = None  # the route driven from the start, while never rerouted


class Sim:
    """Everything the processes share: environment, network state, caches, tables."""

    def __init__(
        self, net: Network, events: EventSet, flows: Sequence[Flow], config: SimConfig, prices: Prices,
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
        self.capacity, self.unsafe, self.servers = _edge_capacity(net, config)
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
        self.trees: OrderedDict[tuple[bytes, int], Any] = OrderedDict()
        self.routes: dict[tuple[int, int, int], _Route | None] = {}
        self.checkpoints: dict[int, simpy.Resource] = {}
        self.changed = self.env.event()
        self.road_names: list[str] = [""]
        self.road_codes: dict[str, int] = {"": 0}
        self.moving: dict[int, tuple[Any, ...]] = {}  # trip -> (process, route, leg|None, row|pos, _Trip|None)
        # Trucks on a direct leg to their destination, with no process (see _Batch).
        self.batches: list[_Batch] = []
        self.returns: dict[int, list[tuple[_Batch, np.ndarray]]] = {}  # day -> batches' rows returning then
        self.active: dict[int, _Trip] = {}
        # Edge statistics.
        self.e_trucks = np.zeros(n_edges)
        self.e_tons = np.zeros(n_edges)
        self.e_km = np.zeros(n_edges)
        self.e_delay = np.zeros(n_edges)
        self._plan_dispatch()
        self._alloc(self.n_loaded * (2 if any(f.return_empty for f in self.flows) else 1))
        self.progress: Any = None

    # -- dispatch plan ------------------------------------------------------------------
    def _plan_dispatch(self) -> None:
        """Draw every departure up front (day-major, flow-minor) from the dispatch stream."""
        self.plan: list[list[tuple[int, np.ndarray]]] = []
        n = 0
        for _ in range(self.n_days):
            today = []
            for i, f in enumerate(self.flows):
                whole = math.floor(f.trucks_per_day)
                k = whole + int(self.rng.random() < f.trucks_per_day - whole)
                if f.depart_profile is None:
                    deps = np.sort(self.rng.uniform(f.depart_hours[0], f.depart_hours[1], k))
                else:
                    w = np.asarray(f.depart_profile, dtype=float)
                    deps = np.sort(self.rng.choice(24, size=k, p=w / w.sum()) + self.rng.random(k))
                today.append((i, deps))
                n += k
            self.plan.append(today)
        self.n_loaded = n
        self.n_trips = 0
        self.unserved = np.zeros((self.n_days, len(self.flows)), dtype=np.int64)

    def _alloc(self, cap: int) -> None:
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

    def service_time(self, mean: float) -> float:
        """One checkpoint service time (hours) of the configured distribution."""
        kind = self.config.checkpoint_service
        if kind == "fixed":
            return float(mean)
        if kind == "lognormal":
            sigma2 = math.log1p(self.config.checkpoint_service_cv**2)
            return float(self.rng_service.lognormal(math.log(mean) - sigma2 / 2.0, math.sqrt(sigma2)))
        return float(self.rng_service.exponential(mean))

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

    def plan_returns(self, batch: _Batch) -> None:
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
    def tree(self, src: int) -> Any:
        """Fastest truck paths from ``src`` under the current state (cached)."""
        tkey = (self.state.key(), src)
        tree = self.trees.get(tkey)
        if tree is None:
            tree = self.net.compiled(self.state, vehicle="truck", weight="time").solve([src])
            self.trees[tkey] = tree
            if len(self.trees) > 1024:
                self.trees.popitem(last=False)
        return tree

    def route(self, src: int, dst: int, cls: TruckClass) -> _Route | None:
        """Fastest truck route under the current state (``None``: unreachable)."""
        key = (src, dst, self.class_index[cls])
        if key in self.routes:
            return self.routes[key]
        tree = self.tree(src)
        path = tree.edge_path(0, dst) if src != dst else []
        route = None if path is None else _Route(self, src, dst, path, cls)
        self.routes[key] = route
        return route

    def set_state(self, state: NetworkState) -> None:
        """Swap the network state; re-plan the trucks under way that the change concerns.

        A truck is concerned when its remaining path (after the edge it is on)
        now has an edge closed to trucks (``"closed"``: it must reroute), or an
        edge whose speed, capacity, checkpoint delay or fee changed
        (``"changed"``), or when a road opened and a faster path now exists from
        the end of its current edge (``"opened"``). Trucks queuing at a
        checkpoint react to closures only.
        """
        old = self.state
        self.state = state
        self.closed = state.closed[TRUCK]
        self.routes = {}
        changed = (
            (old.speed_factor != state.speed_factor) | (old.capacity_factor != state.capacity_factor)
            | (old.delay_s != state.delay_s) | (old.fee_usd != state.fee_usd) | (old.fee_syp != state.fee_syp)
            | (old.night_closed != state.night_closed)
        )
        weights = self.net.weights(state, vehicle="truck") if (old.closed[TRUCK] & ~self.closed).any() else None
        cache: dict[tuple[int, int], str | None] = {}

        def verdict(route: _Route, pos: int) -> str | None:
            key = (id(route), pos)
            if key not in cache:
                rest = route.edges[pos:]
                cause = None
                if self.closed[rest].any():
                    cause = "closed"
                elif changed[rest].any():
                    cause = "changed"
                elif weights is not None and len(rest):
                    best = self.tree(int(self.net.edges.u[rest[0]])).dist[0, route.dst]
                    if best < weights[rest].sum() - 1.0:  # a second is below the data's precision
                        cause = "opened"
                cache[key] = cause
            return cache[key]

        now = self.env.now
        for trip in sorted(self.moving):
            proc, route, leg, where, _ = self.moving[trip]
            if leg is None:  # queuing at a checkpoint: the edge ahead is route.edges[where]
                if verdict(route, where) == "closed":
                    proc.interrupt("closed")
                continue
            pos = leg.a  # on a leg: the edge after the one in progress
            if now >= leg.start[where]:
                done = int(np.searchsorted(leg.ends[where], now, side="right")) + 1
                pos = leg.a + min(done, leg.b - leg.a)
            cause = verdict(route, pos)
            if cause is not None:
                proc.interrupt(cause)
        for batch in self.batches:
            for row, cause in batch.concerned(verdict, now):
                self.env.process(caught(self, batch.first + row, batch.leg, row, cause))
        changed, self.changed = self.changed, self.env.event()
        changed.succeed()

    # -- hourly volumes and leg times ---------------------------------------------------
    def count(self, route: _Route, a: int, b: int, start: np.ndarray) -> np.ndarray:
        """Add the entries of ``len(start)`` trucks starting leg ``[a, b)``; return their ring rows."""
        t0 = route.t0[a:b]
        off = np.cumsum(t0) - t0
        hour = np.floor(start[:, None] + off[None, :])
        limit = 24.0 * (math.floor(self.env.now / 24.0) + 3) - 1.0
        rows = (np.minimum(hour, limit) % RING_H).astype(np.int64)
        e = route.edges[a:b]
        if len(start) == 1:
            self.vol[rows[0], e] += 1.0
        else:
            np.add.at(self.vol, (rows, np.broadcast_to(e, rows.shape)), 1.0)
        return rows

    def times(self, route: _Route, a: int, b: int, start: np.ndarray, rows: np.ndarray, tons: float) -> _Leg:
        """Congested schedule of leg ``[a, b)`` for trucks starting at ``start`` (entries already counted)."""
        leg = _Leg(route, a, b, start, tons)
        if b == a:
            return leg
        cfg = self.config
        e = route.edges[a:b]
        x = self.vol[rows, e] * route.inv_cap[a:b]
        if self.bg:
            x += self.bg
        t0 = route.t0[a:b]
        delay = t0 * (cfg.bpr_alpha * x**cfg.bpr_beta)
        t = t0 + delay
        if route.unsafe is not None and route.unsafe[a:b].any():
            wait = _night_waits(start, t, route.unsafe[a:b])
            t += wait
            delay += wait
            leg.wait = wait
        leg.ends = start[:, None] + np.cumsum(t, axis=1)
        leg.delay = delay
        leg.finish = leg.ends[:, -1].tolist()
        self.edge_stats(route, a, b, len(start), tons, delay.sum(axis=0))
        return leg

    def plan_leg(self, route: _Route, a: int, tons: float) -> _Leg:
        """Schedule one truck from position ``a`` to the next stop, starting now."""
        b = route.next_stop[a]
        start = np.array([float(self.env.now)])
        if b == a:
            return _Leg(route, a, b, start, tons)
        return self.times(route, a, b, start, self.count(route, a, b, start), tons)

    def edge_stats(self, route: _Route, a: int, b: int, k: float, tons: float, delay: np.ndarray) -> None:
        """Add (``k > 0``) or withdraw (``k < 0``) ``|k|`` passages of edges ``[a, b)``."""
        if b <= a:
            return
        e = route.edges[a:b]
        entry = route.entry[a:b]
        self.e_trucks[e] += k * entry
        self.e_tons[e] += k * tons * entry
        self.e_km[e] += k * route.km[a:b]
        self.e_delay[e] += delay

    def stop_leg(self, acc: _Trip, leg: _Leg, row: int, done: int, frac: float = 0.0) -> None:
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
    def write(self, acc: _Trip, status: int) -> None:
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
            self.t_road[i] = _roads(self, np.concatenate(acc.edges)) if acc.edges else 0


# -- helpers ------------------------------------------------------------------------
def _edge_capacity(net: Network, config: SimConfig) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Per-edge capacity (pcu/h, one direction), the night-unsafe mask (``None`` if no edge is)
    and checkpoint lanes (graph attribute ``checkpoint_servers``, else ``config.checkpoint_servers``)."""
    E, G = net.edges, net.graph
    cap = np.empty(E.n)
    unsafe = np.zeros(E.n, dtype=bool)
    servers = np.full(E.n, config.checkpoint_servers, dtype=np.int64)
    for i in range(E.n):
        d = G.edges[net.node_ids[E.u[i]], net.node_ids[E.v[i]], int(E.key[i])]
        hw = str(E.highway[i])
        lanes = edge_number(d.get("lanes"), DEFAULT_LANES.get(hw, 2.0))
        oneway = d.get("oneway")
        per_dir = lanes if (oneway is True or str(oneway).lower() in ("true", "yes", "1")) else lanes / 2.0
        cap[i] = max(per_dir, 1.0) * config.lane_capacity_pcu_h * CLASS_CAPACITY.get(hw, OTHER_CLASS_CAPACITY)
        unsafe[i] = edge_flag(d.get("night_unsafe"))
        lanes_cp = edge_number(d.get("checkpoint_servers"), 0.0)
        if lanes_cp >= 1:
            servers[i] = int(lanes_cp)
    return cap, (unsafe if unsafe.any() else None), servers


def _night_waits(start: np.ndarray, t: np.ndarray, unsafe: np.ndarray) -> np.ndarray:
    """Hours each truck (row) is held before entering each edge closed at night (20:00-05:00).

    ``start``: leg start per truck; ``t``: edge times per truck and edge. Vectorised
    over trucks: a leg has few edges, a batch many trucks.
    """
    wait = np.zeros_like(t)
    clock = start.astype(float)
    for j in range(t.shape[1]):
        if unsafe[j]:
            hod = clock % 24.0
            w = np.where(hod >= NIGHT_START_H, 24.0 - hod + NIGHT_END_H,
                         np.where(hod < NIGHT_END_H, NIGHT_END_H - hod, 0.0))
            wait[:, j] = w
            clock = clock + w
        clock = clock + t[:, j]
    return wait


def _roads(sim: Sim, edges: np.ndarray) -> int:
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


# -- processes ------------------------------------------------------------------------
def controller(sim: Sim) -> Generator[simpy.Event, Any, None]:
    """Step through the days: swap the state at epoch starts, clear old volumes, dispatch."""
    env = sim.env
    for d in range(sim.n_days):
        if d in sim.epoch_days and d > 0:
            sim.set_state(sim.events.state_at(sim.config.start + timedelta(days=d)))
        sim.batches = [b for b in sim.batches if b.last > env.now]
        block = ((d + 2) * 24) % RING_H
        sim.vol[block : block + 24] = 0.0
        dispatch(sim, d)
        if sim.progress is not None:
            sim.progress[0].update(sim.progress[1], completed=d + 1)
        yield env.timeout(24.0 * (d + 1) - env.now)


def dispatch(sim: Sim, d: int) -> None:
    """Start the trucks of day ``d``: routes, entries and first-leg schedules for each flow at once.

    Empty returns whose truck arrives on day ``d`` start here too, at their truck's
    arrival time: first those of trucks that left on earlier days (counted with
    the day's departures), then those of trucks that left today.
    """
    items = _return_items(sim, d)
    for i, deps in sim.plan[d]:
        if len(deps) == 0:
            continue
        f = sim.flows[i]
        route = sim.route(sim.src[i], sim.dst[i], f.truck)
        if route is None:
            sim.unserved[d, i] += len(deps)
            continue
        items.append(_prepare(sim, i, False, 24.0 * d + deps, route))
    for item in items:
        _launch(sim, *item)
    for item in _return_items(sim, d):
        _launch(sim, *item)


def _return_items(sim: Sim, d: int) -> list[tuple[Any, ...]]:
    """Prepared launches of the empty returns planned for day ``d`` (trucks caught on the way excluded)."""
    items = []
    for batch, rows in sim.returns.pop(d, []):
        rows = rows[batch.alive[rows]]
        if len(rows) == 0:
            continue
        i = batch.flow_i
        start = np.sort(batch.leg.ends[rows, -1])
        items.append(_prepare(sim, i, True, start, sim.route(sim.dst[i], sim.src[i], sim.flows[i].truck)))
    return items


def _prepare(sim: Sim, i: int, back: bool, start: np.ndarray, route: _Route | None) -> tuple[Any, ...]:
    """Allocate the trips of a batch and count its first-leg entries; the schedule comes in :func:`_launch`."""
    f = sim.flows[i]
    k = len(start)
    first = sim.take(k)
    sl = slice(first, first + k)
    sim.t_flow[sl], sim.t_leg[sl], sim.t_depart[sl] = i, int(back), start
    sim.t_tons[sl] = 0.0 if back else f.tons_per_truck
    sim.t_rate[sl] = f.truck.litres_per_km(0.0 if back else f.load_factor)
    if route is None or route.m == 0 or route.stop[0]:
        return (i, back, first, start, route, 0, None)
    b = route.next_stop[0]
    return (i, back, first, start, route, b, sim.count(route, 0, b, start))


def _launch(
    sim: Sim, i: int, back: bool, first: int, start: np.ndarray, route: _Route | None, b: int,
    rows: np.ndarray | None,
) -> None:
    """Schedule a prepared batch: without processes when it drives straight through, else one per truck."""
    env = sim.env
    k = len(start)
    if rows is None:
        for r in range(k):
            env.process(truck(sim, first + r, route, None, float(start[r])))
        return
    assert route is not None
    f = sim.flows[i]
    leg = sim.times(route, 0, b, start, rows, 0.0 if back else f.tons_per_truck)
    sl = slice(first, first + k)
    sim.t_end[sl] = leg.finish
    sim.t_km[sl] = route.km[:b].sum()
    sim.t_fee_usd[sl] = route.fee_usd[:b].sum() + (0.0 if back else f.fee_usd_per_trip)
    sim.t_fee_syp[sl] = route.fee_syp[:b].sum()
    sim.t_queue[sl] = leg.wait.sum(axis=1) if leg.wait.size else 0.0
    if b == route.m:
        sim.t_road[sl] = route.roads
        sim.t_status[sl] = DELIVERED
        batch = _Batch(leg, first, i)
        sim.batches.append(batch)
        if f.return_empty and not back:
            sim.plan_returns(batch)
        return
    moving = sim.moving
    for r in range(k):
        trip = first + r
        moving[trip] = (env.process(truck(sim, trip, route, leg, r)), route, leg, r, None)


def _acc(sim: Sim, trip: int) -> _Trip:
    """Fresh running totals for a trip (an empty return heads back to its flow's origin)."""
    i = int(sim.t_flow[trip])
    f = sim.flows[i]
    if sim.t_leg[trip] == 1:
        return _Trip(trip, f, sim.src[i], 0.0)
    return _Trip(trip, f, sim.dst[i], f.tons_per_truck)


def truck(
    sim: Sim, trip: int, route: _Route | None, leg: _Leg | None, at: float | int,
) -> Generator[simpy.Event, Any, None]:
    """One truck: departure and first leg in one timeout, then whatever the road brings.

    With ``leg`` given, the truck's first leg was scheduled at dispatch and ``at`` is
    the truck's row in ``leg``; otherwise ``at`` is the departure hour and the truck
    starts on the general path (a stop at the origin, or no route).
    """
    env = sim.env
    if leg is not None:
        row = int(at)
        try:
            yield env.timeout(leg.finish[row] - env.now)
        except simpy.Interrupt as stop:
            acc = _acc(sim, trip)
            sim.active[trip] = acc
            yield from _replan(sim, acc, leg, row, stop.cause)
        else:
            del sim.moving[trip]
            if leg.b == route.m:  # type: ignore[union-attr]
                sim.t_status[trip] = DELIVERED
            else:
                acc = _acc(sim, trip)
                acc.route = route
                sim.active[trip] = acc
                sim.stop_leg(acc, leg, row, leg.b - leg.a)
                yield from drive(sim, acc, route, leg.b, -1)
    else:
        yield env.timeout(at - env.now)
        acc = _acc(sim, trip)
        acc.route = route
        sim.active[trip] = acc
        i = int(sim.t_flow[trip])
        yield from drive(sim, acc, route, 0, sim.dst[i] if sim.t_leg[trip] == 1 else sim.src[i])
    yield from _return_empty(sim, trip)


def _return_empty(sim: Sim, trip: int) -> Generator[simpy.Event, Any, None]:
    """Drive a delivered loaded truck of a ``return_empty`` flow back, as a trip of its own."""
    i = int(sim.t_flow[trip])
    f = sim.flows[i]
    if sim.t_leg[trip] == 0 and f.return_empty and sim.t_status[trip] == DELIVERED:
        back = sim.new_trip(i, 1, float(sim.env.now), 0.0, f.truck.litres_per_km(0.0))
        acc = _acc(sim, back)
        sim.active[back] = acc
        yield from drive(sim, acc, None, 0, sim.dst[i])


def drive(
    sim: Sim, acc: _Trip, route: _Route | None, pos: int, node: int, prev: np.ndarray | None = None,
) -> Generator[simpy.Event, Any, None]:
    """General path: legs between stops, checkpoint queues, reroutes, waits; ends delivered or stranded.

    Parameters
    ----------
    route, pos
        Route being driven and the position of the next edge; ``route=None`` to
        route afresh from ``node``.
    prev
        With ``route=None``: the edges the truck meant to drive from ``node``; a
        reroute is counted if the new route differs (``None``: count nothing).
    """
    env = sim.env
    proc = env.active_process
    cls = acc.flow.truck
    while True:
        if route is None:
            deadline = env.now + sim.config.wait_limit_h
            route = sim.route(node, acc.dst, cls)
            while route is None:
                if env.now >= deadline:
                    sim.write(acc, STRANDED)
                    return
                yield sim.changed | env.timeout(deadline - env.now)
                route = sim.route(node, acc.dst, cls)
            if prev is not None and not np.array_equal(route.edges, prev):
                acc.reroutes += 1
            prev = None
            pos = 0
            if acc.reroutes == 0 and not acc.edges:
                acc.route = route
        if pos >= route.m:
            sim.write(acc, DELIVERED)
            return
        if route.stop[pos]:
            e = int(route.edges[pos])
            res = sim.checkpoints.get(e)
            if res is None:
                res = sim.checkpoints[e] = simpy.Resource(env, capacity=int(sim.servers[e]))
            acc.since = env.now
            sim.moving[acc.id] = (proc, route, None, pos, acc)
            try:
                with res.request() as req:
                    yield req
                    yield env.timeout(sim.service_time(route.edge_delay_h[pos]))
            except simpy.Interrupt:
                del sim.moving[acc.id]
                acc.queue_h += env.now - acc.since
                sim.e_delay[e] += env.now - acc.since
                acc.since = math.nan
                acc.reroutes += 1
                node, route = int(sim.net.edges.u[e]), None
                continue
            del sim.moving[acc.id]
            acc.queue_h += env.now - acc.since
            sim.e_delay[e] += env.now - acc.since
            acc.since = math.nan
        leg = sim.plan_leg(route, pos, acc.tons)
        sim.moving[acc.id] = (proc, route, leg, 0, acc)
        try:
            yield env.timeout(leg.finish[0] - env.now)
        except simpy.Interrupt as stop:
            node, at = yield from _leave_leg(sim, acc, leg, 0)
            if stop.cause == "closed":
                acc.reroutes += 1
            else:
                prev = route.edges[at:]
            route = None
            continue
        del sim.moving[acc.id]
        sim.stop_leg(acc, leg, 0, leg.b - leg.a)
        pos = leg.b


def caught(sim: Sim, trip: int, leg: _Leg, row: int, cause: str) -> Generator[simpy.Event, Any, None]:
    """A truck of a :class:`_Batch` concerned by a state change: from now on, a process of its own."""
    acc = _acc(sim, trip)
    sim.active[trip] = acc
    yield from _replan(sim, acc, leg, row, cause)
    yield from _return_empty(sim, trip)


def _replan(sim: Sim, acc: _Trip, leg: _Leg, row: int, cause: str) -> Generator[simpy.Event, Any, None]:
    """Finish the edge in progress, then drive on from there on the best route under the new state.

    A closure ahead always counts as a reroute; otherwise the truck counts one
    only if its new path differs from the rest of its old one.
    """
    node, pos = yield from _leave_leg(sim, acc, leg, row)
    prev = None
    if cause == "closed":
        acc.reroutes += 1
    else:
        prev = leg.route.edges[pos:]
    yield from drive(sim, acc, None, 0, node, prev)


def _leave_leg(sim: Sim, acc: _Trip, leg: _Leg, row: int) -> Generator[simpy.Event, Any, tuple[int, int]]:
    """After an interrupt: finish the edge in progress; return the node reached and the route position there."""
    env = sim.env
    sim.moving.pop(acc.id, None)
    route, now = leg.route, env.now
    if now < leg.start[row] or leg.b == leg.a:
        sim.stop_leg(acc, leg, row, 0)
        node = int(sim.net.edges.u[route.edges[leg.a]]) if leg.a < route.m else route.dst
        return node, leg.a
    done = min(int(np.searchsorted(leg.ends[row], now, side="right")) + 1, leg.b - leg.a)
    sim.stop_leg(acc, leg, row, done)
    arrive = float(leg.ends[row, done - 1])
    if arrive > now:
        yield env.timeout(arrive - now)
    return int(route.head[leg.a + done - 1]), leg.a + done


def finish_in_transit(sim: Sim) -> None:
    """Book the progress of trucks still under way at the end of the run."""
    end = sim.end_h
    for batch in sim.batches:
        for row in batch.under_way(end).tolist():
            sim.moving[batch.first + row] = (None, batch.leg.route, batch.leg, row, None)
    sim.batches.clear()
    for trip in sorted(set(sim.moving) | set(sim.active)):
        entry = sim.moving.get(trip)
        acc = sim.active.get(trip)
        if acc is None:
            assert entry is not None
            acc = _acc(sim, trip)
        if entry is not None and entry[2] is not None:
            leg, row = entry[2], entry[3]
            if end > leg.start[row] and leg.b > leg.a:
                ends = leg.ends[row]
                done = int(np.searchsorted(ends, end, side="right"))
                frac = 0.0
                if done < len(ends):
                    left = float(ends[done - 1]) if done else float(leg.start[row])
                    wait = float(leg.wait[row, done])
                    acc.queue_h += min(max(end - left, 0.0), wait)
                    span = float(ends[done]) - left - wait
                    frac = min(max((end - left - wait) / span, 0.0), 1.0) if span > 0 else 0.0
                sim.stop_leg(acc, leg, row, done, frac)
            else:
                sim.stop_leg(acc, leg, row, 0)
        if not math.isnan(acc.since):
            acc.queue_h += end - acc.since
        i = acc.id
        sim.t_status[i] = IN_TRANSIT
        sim.t_end[i] = np.nan
        sim.t_km[i], sim.t_queue[i] = acc.km, acc.queue_h
        sim.t_fee_usd[i], sim.t_fee_syp[i] = acc.fee_usd, acc.fee_syp
        sim.t_reroutes[i] = acc.reroutes
        sim.t_road[i] = _roads(sim, np.concatenate(acc.edges)) if acc.edges else 0
    sim.moving.clear()
    sim.active.clear()
