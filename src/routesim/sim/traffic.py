"""Traffic on edges: capacities, hourly volumes and BPR times, night waits, checkpoint service times.

Two schedulers give the same numbers. :func:`count` and :func:`times` schedule the
trucks of one leg with numpy, truck by edge (what a truck on the general path
uses, one truck at a time). :func:`schedule_group` schedules all the batches a
day dispatches at once, in compiled passes over their trucks and edges (a cost
per truck and edge of a few nanoseconds, none per flow), and evaluates the BPR
curve once per (edge, clock hour) *cell* rather than once per truck and edge:
every truck entering an edge in the same hour sees the same volume. Each
floating-point operation of the truck-by-edge schedule is made on the same
operands in the same order (the BPR power, whose vectorised numpy form rounds
differently from the C library's ``pow``, is left to numpy), so the two agree
to the bit (``tests/test_freight.py`` checks it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numba import njit

from routesim.network.graph import Network
from routesim.sim.model import SimConfig
from routesim.sim.world import DELIVERED, RING_H, Batch, CellStore, EdgeTraffic, Leg, Sim, SimRoute

#: Lane capacity multiplier by road class (see :mod:`routesim.sim.model`).
CLASS_CAPACITY = {"motorway": 1.0, "trunk": 0.9, "primary": 0.8, "secondary": 0.7}
OTHER_CLASS_CAPACITY = 0.6
DEFAULT_LANES = {"motorway": 4.0, "trunk": 4.0}
NIGHT_START_H, NIGHT_END_H = 20.0, 5.0


def edge_traffic(net: Network, config: SimConfig) -> EdgeTraffic:
    """Per-edge capacity (pcu/h, one direction), the night-unsafe mask (``None`` if no edge is)
    and checkpoint lanes (edge attribute ``checkpoint_servers``, else ``config.checkpoint_servers``).

    Read from the edge table's traffic columns (:data:`routesim.network.edges.TRAFFIC_ATTRIBUTES`).
    """
    E = net.edges
    n = E.n
    hw_names = list(E.highways)
    default_lanes = np.array([DEFAULT_LANES.get(h, 2.0) for h in hw_names] or [2.0])[E.highway_code]
    class_factor = np.array([CLASS_CAPACITY.get(h, OTHER_CLASS_CAPACITY) for h in hw_names] or [1.0])[E.highway_code]
    lanes = E.traffic.get("lanes", np.full(n, np.nan))
    lanes = np.where(np.isfinite(lanes) & (lanes > 0), lanes, default_lanes)
    oneway = E.traffic.get("oneway", np.zeros(n, dtype=bool))
    per_dir = np.where(oneway, lanes, lanes / 2.0)
    cap = np.maximum(per_dir, 1.0) * config.lane_capacity_pcu_h * class_factor
    unsafe = E.traffic.get("night_unsafe", np.zeros(n, dtype=bool)).astype(bool)
    lanes_cp = E.traffic.get("checkpoint_servers", np.full(n, np.nan))
    servers = np.where(np.isfinite(lanes_cp) & (lanes_cp >= 1), np.nan_to_num(lanes_cp), config.checkpoint_servers)
    return EdgeTraffic(cap, unsafe if unsafe.any() else None, servers.astype(np.int64))


def night_waits(start: np.ndarray, t: np.ndarray, unsafe: np.ndarray) -> np.ndarray:
    """Hours each truck (row) is held before entering each edge closed at night (20:00-05:00).

    ``start``: leg start per truck; ``t``: edge times per truck and edge.
    Vectorised over trucks, and over the edges between two night-closed ones:
    the clock is advanced by a sequential cumulative sum (the same additions,
    in the same order, as stepping edge by edge), so a route of thousands of
    edges with a few closed at night costs a few array operations.
    """
    wait = np.zeros_like(t)
    clock = start.astype(float)
    done = 0
    for j in np.flatnonzero(unsafe).tolist():
        if j > done:
            clock = np.cumsum(np.column_stack([clock, t[:, done:j]]), axis=1)[:, -1]
        hod = clock % 24.0
        w = np.where(hod >= NIGHT_START_H, 24.0 - hod + NIGHT_END_H,
                     np.where(hod < NIGHT_END_H, NIGHT_END_H - hod, 0.0))
        wait[:, j] = w
        clock = clock + w + t[:, j]
        done = j + 1
    return wait


def entry_limit(sim: Sim) -> float:
    """Latest clock hour an entry is counted in: the last hour of the ring's third day ahead."""
    return 24.0 * (math.floor(sim.env.now / 24.0) + 3) - 1.0


def count(sim: Sim, route: SimRoute, a: int, b: int, start: np.ndarray) -> np.ndarray:
    """Add the entries of ``len(start)`` trucks starting leg ``[a, b)``; return their ring rows."""
    t0 = route.t0[a:b]
    off = np.cumsum(t0) - t0
    hour = np.floor(start[:, None] + off[None, :])
    limit = entry_limit(sim)
    rows = (np.minimum(hour, limit) % RING_H).astype(np.int64)
    e = route.vcol[a:b]
    if len(start) == 1:
        sim.vol[e, rows[0]] += 1.0
        return rows
    # Count entries per (clock hour, edge) over the few hours the batch spans, then add each
    # hour's row at once: a route has distinct edges and the span is under the ring's length,
    # so no (row, edge) pair repeats in the final addition.
    h = np.minimum(hour, limit).astype(np.int64)
    h0 = int(h.min())
    span = int(h.max()) - h0 + 1
    if span > RING_H:  # cannot happen while entries are capped at three days ahead; stay exact anyway
        np.add.at(sim.vol, (np.broadcast_to(e, rows.shape), rows), 1.0)
        return rows
    m = b - a
    counts = np.bincount(((h - h0) * m + np.arange(m)).ravel(), minlength=span * m).reshape(span, m)
    ring = (np.arange(h0, h0 + span) % RING_H)[:, None]
    sim.vol[e[None, :], ring] += counts
    return rows


def times(sim: Sim, route: SimRoute, a: int, b: int, start: np.ndarray, rows: np.ndarray, tons: float) -> Leg:
    """Congested schedule of leg ``[a, b)`` for trucks starting at ``start`` (entries already counted)."""
    if b == a:
        return Leg(route, a, b, start, tons)
    cfg = sim.config
    x = sim.vol[route.vcol[a:b], rows] * route.inv_cap[a:b]
    if sim.bg:
        x += sim.bg
    t0 = route.t0[a:b]
    bpr = route.drive[a:b] * (cfg.bpr_alpha * x**cfg.bpr_beta)
    t = t0 + bpr
    delay = bpr + (t0 - route.drive[a:b])  # congestion and the checkpoints' fixed delays
    if route.unsafe is not None and route.unsafe[a:b].any():
        wait = night_waits(start, t, route.unsafe[a:b])
        t += wait
        delay += wait
    else:
        wait = np.zeros_like(t)
    leg = Leg(route, a, b, start, tons, ends=start[:, None] + np.cumsum(t, axis=1), delay=delay, wait=wait)
    sim.edge_stats(route, a, b, len(start), tons, delay.sum(axis=0))
    return leg


def plan_leg(sim: Sim, route: SimRoute, a: int, tons: float) -> Leg:
    """Schedule one truck from position ``a`` to the next stop, starting now."""
    b = route.next_stop[a]
    start = np.array([float(sim.env.now)])
    if b == a:
        return Leg(route, a, b, start, tons)
    return times(sim, route, a, b, start, count(sim, route, a, b, start), tons)


# -- a day's batches at once ---------------------------------------------------------
class Group:
    """Batches to start together (a day's departures, or the empty returns of its arrivals), as arrays.

    Batch ``i`` is ``k[i]`` trucks of flow ``flow[i]`` (``back[i]``: empty returns), their
    departure hours ``starts[r0[i] : r0[i] + k[i]]`` (sorted), on ``routes[i]`` whose lead leg
    ``[0, lead[i])`` starts at ``reg[i]`` in the route registry and has ``nights[i]``
    night-closed edges; ``km``, ``fee_usd`` (with the flow's fee per loaded trip),
    ``fee_syp``: the lead leg's sums; ``road[i] >= 0``: the leg reaches the destination
    (the trip's road code). ``tons`` and ``rate`` (litres/km) per truck.
    """

    __slots__ = ("back", "fee_syp", "fee_usd", "flow", "k", "km", "lead", "nights", "rate", "reg", "road", "routes",
                 "starts", "tons")

    def __init__(
        self, flow: np.ndarray, back: np.ndarray, k: np.ndarray, starts: np.ndarray, routes: list[SimRoute | None],
        lead: np.ndarray, reg: np.ndarray, nights: np.ndarray, road: np.ndarray, km: np.ndarray,
        fee_usd: np.ndarray, fee_syp: np.ndarray, tons: np.ndarray, rate: np.ndarray,
    ) -> None:
        self.flow, self.back, self.k, self.starts, self.routes = flow, back, k, starts, routes
        self.lead, self.reg, self.nights, self.road = lead, reg, nights, road
        self.km, self.fee_usd, self.fee_syp, self.tons, self.rate = km, fee_usd, fee_syp, tons, rate

    @staticmethod
    def join(groups: Sequence[Group]) -> Group:
        """The batches of ``groups`` in order."""
        def cat(name: str) -> np.ndarray:
            return np.concatenate([getattr(g, name) for g in groups])

        return Group(cat("flow"), cat("back"), cat("k"), cat("starts"), [r for g in groups for r in g.routes],
                     cat("lead"), cat("reg"), cat("nights"), cat("road"), cat("km"), cat("fee_usd"), cat("fee_syp"),
                     cat("tons"), cat("rate"))


def schedule_group(sim: Sim, group: Group) -> Batch:
    """Allocate and fill the trips of ``group``; count the entries of all its lead legs, then schedule them.

    The same as :func:`count` for each batch in turn, then :func:`times` for each
    (so each truck sees the entries of the whole group), to the bit: the counts are
    whole numbers; the BPR delay of each (edge, clock hour) cell the group enters is
    computed once by numpy with the expression :func:`times` applies per truck and
    edge; the running sums (clock, leg ends, delay per edge over the trucks, the
    night-wait total per truck) add the same terms in the same order.

    Returns the group as a :class:`Batch` with no truck alive yet. Fills the trip rows
    (all but the status of trips with no lead leg or a stop ahead) and the edge
    statistics.
    """
    k, lead, reg, nights = group.k, group.lead, group.reg, group.nights
    starts = group.starts
    n = len(starts)
    first = sim.take(n)
    sl = slice(first, first + n)
    sim.t_flow[sl] = np.repeat(group.flow, k)
    sim.t_leg[sl] = np.repeat(group.back, k)
    sim.t_depart[sl] = starts
    sim.t_tons[sl] = np.repeat(group.tons, k)
    sim.t_rate[sl] = np.repeat(group.rate, k)
    reg_ = sim.registry
    limit = entry_limit(sim)
    # A column holds at most one cell per truck, and at most one per clock hour up to the limit.
    cap = int((lead * np.minimum(k, RING_H)).sum())
    col_start = np.empty(int(lead.sum()) + 1, dtype=np.int64)
    cell_reg = np.empty(cap, dtype=np.int64)
    cell_hour = np.empty(cap)
    nc = _count_cells(starts, k, lead, reg, reg_.vcol, reg_.off, limit, sim.vol, col_start, cell_reg, cell_hour)
    cell_reg, cell_hour = cell_reg[:nc], cell_hour[:nc]
    # The BPR time of each cell: the expression of `times`, on the cells instead of truck x edge.
    cfg = sim.config
    x = np.empty(nc)
    t0 = np.empty(nc)
    _cell_loads(cell_reg, cell_hour, sim.vol, reg_.vcol, reg_.inv_cap, reg_.t0, x, t0)
    if sim.bg:
        x += sim.bg
    drive = reg_.drive[cell_reg]
    bpr = drive * (cfg.bpr_alpha * x**cfg.bpr_beta)
    t = t0 + bpr
    delay = bpr + (t0 - drive)
    waits = np.empty(int((k * nights).sum()))
    many = np.zeros(len(k), dtype=np.bool_)
    _schedule_cells(starts, k, lead, reg, nights, group.tons, group.km, group.fee_usd, group.fee_syp, group.road,
                    reg_.edge, reg_.off, reg_.night, reg_.entry, reg_.km, col_start, cell_hour, t, delay, waits,
                    many, sim.t_end[sl], sim.t_queue[sl], sim.t_km[sl], sim.t_fee_usd[sl], sim.t_fee_syp[sl],
                    sim.t_road[sl], sim.t_status[sl], sim.e_trucks, sim.e_tons, sim.e_km, sim.e_delay)
    c0 = np.zeros(len(k) + 1, dtype=np.int64)  # first column of each batch
    np.cumsum(lead, out=c0[1:])
    w0 = np.zeros(len(k), dtype=np.int64)
    np.cumsum((k * nights)[:-1], out=w0[1:])
    cells = CellStore(cell_reg, cell_hour, t, delay, col_start, c0, waits, w0, nights, limit)
    batch = Batch(first, starts, k, lead, group.routes, group.flow, group.tons, cells, sim.t_end[sl].copy())
    for i in np.flatnonzero(many).tolist():
        # Three or more waits in a row: numpy's pairwise sum may group them differently
        # from a running sum, so the total is numpy's, over the full row as `times` has it.
        leg = batch.leg(i)
        rows = np.stack([leg.wait_row(r) for r in range(int(k[i]))])
        lo = first + int(batch.r0[i])
        sim.t_queue[lo : lo + int(k[i])] = rows.sum(axis=1)
    return batch


# The kernels below run compiled (numba): `# pragma: no cover` as for the routing kernels.
#
# Along a column (one edge of a batch's leg) the trucks' entry hours never decrease: a
# batch's departures are sorted and a rounded sum is monotonic in each operand. So a truck
# enters a later hour than the one before it exactly when ``start + off`` reaches that
# hour (``floor(x) >= h`` iff ``x >= h`` for a whole number ``h``): one comparison per
# truck and edge finds its cell, with no floor or division in the inner loops.
@njit(cache=True)
def _count_cells(
    starts: np.ndarray, k: np.ndarray, lead: np.ndarray, reg: np.ndarray, r_vcol: np.ndarray, r_off: np.ndarray,
    limit: float, vol: np.ndarray, col_start: np.ndarray, cell_reg: np.ndarray, cell_hour: np.ndarray,
) -> int:  # pragma: no cover - compiled
    """Count the entries of each batch's lead leg in ``vol``; list the (edge, hour) cells they fall in.

    A truck enters edge ``j`` in hour ``min(floor(start + off[j]), limit)``, as in
    :func:`count`. The cells of column ``c`` (batch by batch, position by position) are
    ``[col_start[c], col_start[c + 1])``, in ascending hour; ``cell_hour`` holds whole
    numbers as floats. Returns the number of cells.
    """
    nc = 0
    c = 0
    s0 = 0
    for i in range(len(k)):
        ki = k[i]
        if lead[i] > 0:
            for r in range(1, ki):
                if starts[s0 + r] < starts[s0 + r - 1]:
                    raise ValueError("the departures of a batch must be sorted")
        for j in range(lead[i]):
            g = reg[i] + j
            v = vol[r_vcol[g]]
            o = r_off[g]
            col_start[c] = nc
            c += 1
            bound = -np.inf  # the next hour's start: reaching it opens a new cell
            row = 0
            r0 = 0
            for r in range(ki):
                x = starts[s0 + r] + o
                if x >= bound:
                    if r:
                        v[row] += r - r0  # whole numbers: the order of the additions is immaterial
                    h = np.floor(x)
                    if h >= limit:
                        h = limit
                        bound = np.inf
                    else:
                        bound = h + 1.0
                    if nc == len(cell_hour):
                        raise ValueError("more cells than planned")
                    cell_reg[nc] = g
                    cell_hour[nc] = h
                    nc += 1
                    row = int(h) % RING_H
                    r0 = r
            if ki:
                v[row] += ki - r0
        s0 += ki
    col_start[c] = nc
    return nc


@njit(cache=True)
def _cell_loads(
    cell_reg: np.ndarray, cell_hour: np.ndarray, vol: np.ndarray, r_vcol: np.ndarray, r_inv_cap: np.ndarray,
    r_t0: np.ndarray, x: np.ndarray, t0: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """Per cell: volume x truck PCE / capacity (``x`` before background traffic) and free-flow hours."""
    for p in range(len(cell_reg)):
        g = cell_reg[p]
        x[p] = vol[r_vcol[g], int(cell_hour[p]) % RING_H] * r_inv_cap[g]
        t0[p] = r_t0[g]


@njit(cache=True)
def _schedule_cells(
    starts: np.ndarray, k: np.ndarray, lead: np.ndarray, reg: np.ndarray, nights: np.ndarray, tons: np.ndarray,
    km: np.ndarray, fee_usd: np.ndarray, fee_syp: np.ndarray, road: np.ndarray, r_edge: np.ndarray,
    r_off: np.ndarray, r_night: np.ndarray, r_entry: np.ndarray, r_km: np.ndarray, col_start: np.ndarray,
    cell_hour: np.ndarray, cell_t: np.ndarray, cell_delay: np.ndarray, waits: np.ndarray, many: np.ndarray,
    t_end: np.ndarray, t_queue: np.ndarray, t_km: np.ndarray, t_fee_usd: np.ndarray, t_fee_syp: np.ndarray,
    t_road: np.ndarray, t_status: np.ndarray, e_trucks: np.ndarray, e_tons: np.ndarray, e_km: np.ndarray,
    e_delay: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """Drive each batch's lead leg edge by edge, all its trucks at once: the arithmetic of `times`.

    Per truck: the clock that decides night waits (the running sum of `night_waits`), the
    leg's running time (``cumsum``; the truck's end is its start plus the last: the ends
    along the way are replayed only for the trucks that need them,
    :func:`routesim.sim.world.leg_ends`), the night-wait total; per edge, the delay summed
    over the trucks in their order (``sum(axis=0)``) and the edge statistics of
    :meth:`Sim.edge_stats`. Running sums start from 0.0, which adds nothing to the
    non-negative hours. ``many[i]``: some truck of batch ``i`` waited three times or more
    (its total is then left to numpy's pairwise sum). The trips (rows from the group's
    first) get their end, queue hours, km and fees, and, when the leg reaches the
    destination (``road >= 0``), their road and status.
    """
    c = 0
    s0 = 0
    w0 = 0
    for i in range(len(k)):
        ki = k[i]
        m = lead[i]
        if m == 0:
            s0 += ki
            continue
        nu = nights[i]
        st = starts[s0 : s0 + ki]
        cum = np.zeros(ki)
        clock = st.copy()
        waited = np.zeros(ki, dtype=np.int64)
        queue = np.zeros(ki)
        kt = ki * tons[i]
        u = 0
        for j in range(m):
            g = reg[i] + j
            o = r_off[g]
            p = col_start[c]
            end = col_start[c + 1]
            c += 1
            bound = cell_hour[p + 1] if p + 1 < end else np.inf
            t = cell_t[p]
            d = cell_delay[p]
            total = 0.0
            # Three copies of the loop over the trucks, so that the common case (no night-closed
            # edge on the leg) carries no clock at all.
            if r_night[g]:
                for r in range(ki):
                    while st[r] + o >= bound:
                        p += 1
                        t = cell_t[p]
                        d = cell_delay[p]
                        bound = cell_hour[p + 1] if p + 1 < end else np.inf
                    now = clock[r]
                    hod = now % 24.0
                    if hod >= NIGHT_START_H:
                        w = 24.0 - hod + NIGHT_END_H
                    elif hod < NIGHT_END_H:
                        w = NIGHT_END_H - hod
                    else:
                        w = 0.0
                    clock[r] = now + w + t
                    waits[w0 + r * nu + u] = w
                    if w != 0.0:
                        waited[r] += 1
                        queue[r] += w
                    cum[r] = cum[r] + (t + w)
                    total = total + (d + w)
                u += 1
            elif u < nu:
                for r in range(ki):
                    while st[r] + o >= bound:
                        p += 1
                        t = cell_t[p]
                        d = cell_delay[p]
                        bound = cell_hour[p + 1] if p + 1 < end else np.inf
                    clock[r] = clock[r] + t
                    cum[r] = cum[r] + t
                    total = total + d
            else:
                for r in range(ki):
                    while st[r] + o >= bound:
                        p += 1
                        t = cell_t[p]
                        d = cell_delay[p]
                        bound = cell_hour[p + 1] if p + 1 < end else np.inf
                    cum[r] = cum[r] + t
                    total = total + d
            e = r_edge[g]
            if r_entry[g]:
                e_trucks[e] += ki
                e_tons[e] += kt
            e_km[e] += ki * r_km[g]
            e_delay[e] += total
        for r in range(ki):
            t_end[s0 + r] = st[r] + cum[r]
            t_queue[s0 + r] = queue[r]
            t_km[s0 + r] = km[i]
            t_fee_usd[s0 + r] = fee_usd[i]
            t_fee_syp[s0 + r] = fee_syp[i]
            if road[i] >= 0:
                t_road[s0 + r] = road[i]
                t_status[s0 + r] = DELIVERED
            if waited[r] > 2:
                many[i] = True
        s0 += ki
        w0 += ki * nu


def service_time(sim: Sim, mean: float) -> float:
    """One checkpoint service time (hours) of the configured distribution."""
    kind = sim.config.checkpoint_service
    if kind == "fixed":
        return float(mean)
    if kind == "lognormal":
        sigma2 = math.log1p(sim.config.checkpoint_service_cv**2)
        return float(sim.rng_service.lognormal(math.log(mean) - sigma2 / 2.0, math.sqrt(sigma2)))
    return float(sim.rng_service.exponential(mean))
