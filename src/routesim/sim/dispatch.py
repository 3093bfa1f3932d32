"""Dispatch: departures drawn as the days come, the day's trucks started, batches for trucks that need no process.

:func:`controller` is the process that steps through the days: it swaps the
network state at epoch starts, clears old hourly volumes and calls
:func:`dispatch`, which starts the day's trucks of all flows at once: their lead
legs are scheduled together (:func:`routesim.sim.traffic.schedule_group`), and the
trucks become a :class:`~routesim.sim.world.Batch` (no process) or truck processes.
Nothing here is done per flow and day in Python but for trucks that need a process.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from datetime import timedelta
from typing import Any

import numpy as np
import simpy
from numba import njit

from routesim.sim.movement import apply_state, truck
from routesim.sim.traffic import Group, schedule_group
from routesim.sim.world import RING_H, FlowRoutes, Sim

#: Random draws per chunk of days: departures are drawn a chunk at a time (memory bound).
CHUNK_DRAWS = 1 << 21
#: At most this many trip rows are allocated before the run; the arrays grow as trips come.
MAX_PREALLOC = 1 << 22


def expected_trips(sim: Sim) -> int:
    """Trips the run should make: the size the trip arrays start with (they grow as needed)."""
    per_day = sum(f.trucks_per_day for f in sim.flows)
    returns = 2 if any(f.return_empty for f in sim.flows) else 1
    return int(min(per_day * sim.n_days * returns, MAX_PREALLOC))


def plan_departures(sim: Sim, d0: int) -> None:
    """Draw the departures of the days from ``d0`` on, a chunk of days at a time, from the dispatch stream.

    Departures are drawn as the days come (the controller asks for the next chunk
    when it reaches it), so memory holds one chunk's departures, not the run's. The
    draws are those of one long sequence, day-major and flow-minor, whatever the
    chunk size. Per flow and day: one uniform draw decides whether the fractional
    truck goes, then the departures (``uniform(*depart_hours, k)``, or an hour from
    ``depart_profile`` plus a uniform fraction), sorted. With no profile, a chunk is
    drawn in bulk with the same stream and the same values (:func:`_plan_bulk`).
    """
    flows = sim.flows
    nf = len(flows)
    per_day = max(1, nf + int(sum(math.floor(f.trucks_per_day) for f in flows)) + nf)
    d1 = min(sim.n_days, d0 + max(1, CHUNK_DRAWS // per_day))
    if nf and all(f.depart_profile is None for f in flows):
        k, deps = _plan_bulk(sim, d0, d1)
    else:
        k = np.zeros((d1 - d0, nf), dtype=np.int64)
        parts = []
        for d in range(d1 - d0):
            for i, f in enumerate(flows):
                whole = math.floor(f.trucks_per_day)
                ki = whole + int(sim.rng.random() < f.trucks_per_day - whole)
                if f.depart_profile is None:
                    dep = np.sort(sim.rng.uniform(f.depart_hours[0], f.depart_hours[1], ki))
                else:
                    w = np.asarray(f.depart_profile, dtype=float)
                    dep = np.sort(sim.rng.choice(24, size=ki, p=w / w.sum()) + sim.rng.random(ki))
                k[d, i] = ki
                parts.append(dep)
        deps = np.concatenate(parts) if parts else np.zeros(0)
    at = np.zeros(k.size, dtype=np.int64)
    np.cumsum(k.ravel()[:-1], out=at[1:])
    sim.plan_d0, sim.plan_d1 = d0, d1
    sim.plan_k = k
    sim.plan_at = at.reshape(k.shape)
    sim.plan_deps = deps


def _plan_bulk(sim: Sim, d0: int, d1: int) -> tuple[np.ndarray, np.ndarray]:
    """Departures of days ``[d0, d1)`` for every flow, value for value as one flow at a time.

    Per flow and day the stream gives ``u`` (``rng.random()``: the fractional truck goes
    if ``u < frac``), then ``k`` departures (``rng.uniform(lo, hi, k)``). Which draw is
    which depends on the earlier ``u``: so the chunk is drawn twice from the same state,
    first as plain draws to read the ``u`` and so the ``k``, then as one ``uniform``
    call with a ``(lo, hi)`` per draw (``(0, 1)`` for the ``u``: the draw itself), which
    leaves the stream where one flow at a time would and computes each departure with
    the very expression ``uniform`` uses.
    """
    flows, rng = sim.flows, sim.rng
    nf = len(flows)
    whole = np.array([math.floor(f.trucks_per_day) for f in flows], dtype=np.int64)
    frac = np.array([f.trucks_per_day - math.floor(f.trucks_per_day) for f in flows])
    lo = np.array([float(f.depart_hours[0]) for f in flows])
    hi = np.array([float(f.depart_hours[1]) for f in flows])
    per_day = nf + int(whole.sum()) + nf  # at most: one u and whole + 1 departures per flow
    k = np.zeros((d1 - d0, nf), dtype=np.int64)
    state = rng.bit_generator.state
    x = rng.random((d1 - d0) * per_day)
    _walk(x, whole, frac, k)
    del x
    rng.bit_generator.state = state
    span = (1 + k).ravel()  # draws per (day, flow): u, then the departures
    low = np.repeat(np.tile(lo, d1 - d0), span)
    high = np.repeat(np.tile(hi, d1 - d0), span)
    first = np.zeros(len(span), dtype=np.int64)
    np.cumsum(span[:-1], out=first[1:])
    low[first] = 0.0
    high[first] = 1.0
    y = rng.uniform(low, high)
    is_dep = np.ones(len(y), dtype=bool)
    is_dep[first] = False
    dep = y[is_dep]
    _sort_segments(dep, k.ravel())
    return k, dep


@njit(cache=True)
def _walk(x: np.ndarray, whole: np.ndarray, frac: np.ndarray, k: np.ndarray) -> None:  # pragma: no cover - compiled
    """Trucks per (day, flow) of a chunk from its plain draws ``x`` (see :func:`_plan_bulk`)."""
    pos = 0
    for d in range(k.shape[0]):
        for i in range(k.shape[1]):
            ki = whole[i] + (1 if x[pos] < frac[i] else 0)
            k[d, i] = ki
            pos += 1 + ki


@njit(cache=True)
def _sort_segments(values: np.ndarray, k: np.ndarray) -> None:  # pragma: no cover - compiled
    """Sort ``values`` in place within consecutive segments of lengths ``k``."""
    a = 0
    for ki in k:
        if ki > 16:
            values[a : a + ki].sort()
        else:  # a handful of trucks (a flow-day of a small flow): insertion sort, no allocation
            for r in range(a + 1, a + ki):
                x = values[r]
                q = r - 1
                while q >= a and values[q] > x:
                    values[q + 1] = values[q]
                    q -= 1
                values[q + 1] = x
        a += ki


def controller(sim: Sim) -> Generator[simpy.Event, Any, None]:
    """Step through the days: swap the state at epoch starts, clear old volumes, dispatch.

    After the period (``drain_days``), the days go on with no departures until no
    truck is under way; the clock then stops at that midnight.
    """
    env = sim.env
    for d in range(sim.run_days):
        if d >= sim.n_days and not under_way(sim):
            break
        if d < sim.n_days and d >= sim.plan_d1:
            plan_departures(sim, d)
        if d in sim.epoch_days and d > 0:
            apply_state(sim, sim.events.state_at(sim.config.start + timedelta(days=d), actor=sim.config.actor))
        sim.batches = [b for b in sim.batches if b.last > env.now]
        block = ((d + 2) * 24) % RING_H
        sim.vol[: sim.n_vcol, block : block + 24] = 0.0
        if d < sim.n_days:
            dispatch(sim, d)
        if sim.progress is not None:
            sim.progress[0].update(sim.progress[1], completed=min(d + 1, sim.n_days))
        yield env.timeout(24.0 * (d + 1) - env.now)


def under_way(sim: Sim) -> bool:
    """Whether some dispatched truck has neither arrived nor been stranded."""
    return bool(sim.moving or sim.active or any(b.last > sim.env.now for b in sim.batches))


def dispatch(sim: Sim, d: int) -> None:
    """Start the trucks of day ``d``: routes, entries and first-leg schedules of all flows at once.

    Empty returns whose truck arrives on day ``d`` start here too, at their truck's
    arrival time: first those of trucks that left on earlier days (counted with
    the day's departures), then those of trucks that left today.
    """
    parts = [g for g in (_returns(sim, d), _departures(sim, d)) if g is not None]
    if parts:
        _launch(sim, parts[0] if len(parts) == 1 else Group.join(parts))
    later = _returns(sim, d)
    if later is not None:
        _launch(sim, later)


def _table(sim: Sim, back: bool, flows: np.ndarray) -> FlowRoutes:
    """Routes of ``flows`` (loaded legs, or ``back``: empty returns), looked up in that order if not yet known."""
    table = sim.tables.get(back)
    if table is None:
        table = sim.tables[back] = FlowRoutes(len(sim.flows))
    for i in flows[~table.known[flows]].tolist():
        if not table.known[i]:
            f = sim.flows[i]
            src, dst = (sim.dst[i], sim.src[i]) if back else (sim.src[i], sim.dst[i])
            table.set(i, sim.route(src, dst, f.truck), sim.registry)
    return table


def _group(sim: Sim, back: bool, flows: np.ndarray, k: np.ndarray, starts: np.ndarray, table: FlowRoutes) -> Group:
    """A group of one batch per entry of ``flows`` (``k`` trucks each, departing at ``starts`` end to end)."""
    fee = table.fee_usd[flows] + (0.0 if back else sim.flow_fee[flows])
    return Group(
        flows.astype(np.int32), np.full(len(flows), int(back), dtype=np.int8), k, starts,
        [table.routes[i] for i in flows.tolist()], table.lead[flows], table.reg[flows], table.nights[flows],
        table.road[flows], table.km[flows], fee, table.fee_syp[flows],
        np.zeros(len(flows)) if back else sim.flow_tons[flows], (sim.rate_empty if back else sim.rate_loaded)[flows],
    )


def _departures(sim: Sim, d: int) -> Group | None:
    """The day's departures of the flows with a route, as a group (those without count as unserved)."""
    row = d - sim.plan_d0
    kd = sim.plan_k[row]
    sel = np.flatnonzero(kd > 0)
    if len(sel) == 0:
        return None
    table = _table(sim, False, sel)
    has = table.has[sel]
    if not has.all():
        none = sel[~has]
        sim.unserved[d, none] += kd[none]
    flows = sel[has]
    if len(flows) == 0:
        return None
    k = kd[flows]
    first = np.zeros(len(k), dtype=np.int64)
    np.cumsum(k[:-1], out=first[1:])
    idx = np.repeat(sim.plan_at[row, flows] - first, k) + np.arange(int(k.sum()))
    return _group(sim, False, flows, k, 24.0 * d + sim.plan_deps[idx], table)


def _returns(sim: Sim, d: int) -> Group | None:
    """The empty returns planned for day ``d`` (trucks caught on the way excluded), one batch per batch
    they come from, each sorted by departure."""
    flows, ks, starts = [], [], []
    for batch in sim.returns.pop(d, []):
        assert batch.returns is not None
        rows = np.flatnonzero((batch.returns == d) & batch.alive)
        if len(rows) == 0:
            continue
        which = batch.batch_of(rows)
        fin = batch.finish[rows]
        order = np.lexsort((fin, which))
        src, k = np.unique(which, return_counts=True)
        flows.append(batch.flow[src].astype(np.int64))
        ks.append(k)
        starts.append(fin[order])
    if not flows:
        return None
    fl = np.concatenate(flows)
    return _group(sim, True, fl, np.concatenate(ks), np.concatenate(starts), _table(sim, True, fl))


def _launch(sim: Sim, group: Group) -> None:
    """Schedule a group, then start its batches: without processes when they drive straight through,
    else one process per truck."""
    batch = schedule_group(sim, group)
    env = sim.env
    k = group.k
    direct = group.road >= 0
    if direct.any():
        alive = np.repeat(direct, k)
        batch.alive[:] = alive
        batch.last = float(batch.finish[alive].max())
        sim.batches.append(batch)
        back = np.repeat(~group.back.astype(bool) & sim.flow_return[group.flow], k) & alive
        if back.any():
            day = np.full(len(alive), -1, dtype=np.int64)
            day[back] = (batch.finish[back] // 24.0).astype(np.int64)
            batch.returns = day
            for dd in np.unique(day[back]).tolist():
                if dd < sim.n_days:
                    sim.returns.setdefault(dd, []).append(batch)
    if direct.all():
        return
    moving = sim.moving
    for i in np.flatnonzero(~direct).tolist():
        route = group.routes[i]
        first = batch.first + int(batch.r0[i])
        ki = int(k[i])
        if group.lead[i] == 0:
            start = batch.starts[int(batch.r0[i]) : int(batch.r0[i]) + ki]
            for r in range(ki):
                env.process(truck(sim, first + r, route, None, float(start[r])))
            continue
        leg = batch.leg(i)
        for r in range(ki):
            moving[first + r] = (env.process(truck(sim, first + r, route, leg, r)), route, leg, r, None)
