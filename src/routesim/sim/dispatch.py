"""Dispatch: departures drawn up front, the day's trucks started, batches for trucks that drive straight through.

:func:`controller` is the process that steps through the days: it swaps the
network state at epoch starts, clears old hourly volumes and calls
:func:`dispatch`, which prepares the day's trucks per flow at once and
launches them as batches (no process) or as truck processes.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from datetime import timedelta
from typing import Any

import numpy as np
import simpy

from routesim.sim.movement import apply_state, truck
from routesim.sim.traffic import count, times
from routesim.sim.world import DELIVERED, RING_H, Batch, Sim, SimRoute


def plan_departures(sim: Sim) -> None:
    """Draw every departure up front (day-major, flow-minor) from the dispatch stream,
    and size the trip arrays for them (and their empty returns)."""
    sim.plan = []
    n = 0
    for _ in range(sim.n_days):
        today = []
        for i, f in enumerate(sim.flows):
            whole = math.floor(f.trucks_per_day)
            k = whole + int(sim.rng.random() < f.trucks_per_day - whole)
            if f.depart_profile is None:
                deps = np.sort(sim.rng.uniform(f.depart_hours[0], f.depart_hours[1], k))
            else:
                w = np.asarray(f.depart_profile, dtype=float)
                deps = np.sort(sim.rng.choice(24, size=k, p=w / w.sum()) + sim.rng.random(k))
            today.append((i, deps))
            n += k
        sim.plan.append(today)
    sim.n_loaded = n
    sim.alloc(n * (2 if any(f.return_empty for f in sim.flows) else 1))


def controller(sim: Sim) -> Generator[simpy.Event, Any, None]:
    """Step through the days: swap the state at epoch starts, clear old volumes, dispatch."""
    env = sim.env
    for d in range(sim.n_days):
        if d in sim.epoch_days and d > 0:
            apply_state(sim, sim.events.state_at(sim.config.start + timedelta(days=d)))
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


def _prepare(sim: Sim, i: int, back: bool, start: np.ndarray, route: SimRoute | None) -> tuple[Any, ...]:
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
    return (i, back, first, start, route, b, count(sim, route, 0, b, start))


def _launch(
    sim: Sim, i: int, back: bool, first: int, start: np.ndarray, route: SimRoute | None, b: int,
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
    leg = times(sim, route, 0, b, start, rows, 0.0 if back else f.tons_per_truck)
    sl = slice(first, first + k)
    sim.t_end[sl] = leg.finish
    sim.t_km[sl] = route.km[:b].sum()
    sim.t_fee_usd[sl] = route.fee_usd[:b].sum() + (0.0 if back else f.fee_usd_per_trip)
    sim.t_fee_syp[sl] = route.fee_syp[:b].sum()
    sim.t_queue[sl] = leg.wait.sum(axis=1) if leg.wait.size else 0.0
    if b == route.m:
        sim.t_road[sl] = route.roads
        sim.t_status[sl] = DELIVERED
        batch = Batch(leg, first, i)
        sim.batches.append(batch)
        if f.return_empty and not back:
            sim.plan_returns(batch)
        return
    moving = sim.moving
    for r in range(k):
        trip = first + r
        moving[trip] = (env.process(truck(sim, trip, route, leg, r)), route, leg, r, None)
