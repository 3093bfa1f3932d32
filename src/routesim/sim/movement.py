"""How trucks move: the truck processes, reroutes at state changes, waits, strandings.

:func:`truck` drives a truck whose first leg was scheduled at dispatch;
:func:`drive` is the general path (checkpoint queues, legs between stops,
reroutes, waits for a route); :func:`caught` takes over a truck of a batch that
a change of state concerns; :func:`apply_state` makes such a change;
:func:`finish_in_transit` books the trucks still moving at the end.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from routesim.network.state import NetworkState
from routesim.sim.traffic import plan_leg, service_time
from routesim.sim.world import DELIVERED, IN_TRANSIT, STRANDED, TRUCK, Leg, Sim, SimRoute, TripTotals, road_code


def apply_state(sim: Sim, state: NetworkState) -> None:
    """Swap the network state; re-plan the trucks under way that the change concerns.

    A truck is concerned when its remaining path (after the edge it is on)
    now has an edge closed to trucks (``"closed"``: it must reroute), or an
    edge whose speed, capacity, checkpoint delay or queue, or fee changed
    (``"changed"``), or when a road opened and a faster path now exists from
    the end of its current edge (``"opened"``). Trucks queuing at a
    checkpoint react to closures only.
    """
    old = sim.state
    sim.state = state
    sim.closed = state.closed[TRUCK]
    sim.routes = {}
    sim.tables = {}
    changed = (
        (old.speed_factor != state.speed_factor) | (old.capacity_factor != state.capacity_factor)
        | (old.delay_s != state.delay_s) | (old.fee_usd != state.fee_usd) | (old.fee_syp != state.fee_syp)
        | (old.night_closed != state.night_closed) | (old.queue_tph != state.queue_tph)
        | (old.queue_lanes != state.queue_lanes)
    )
    weights = sim.net.weights(state, vehicle="truck") if (old.closed[TRUCK] & ~sim.closed).any() else None
    cache: dict[tuple[int, int], str | None] = {}

    def verdict(route: SimRoute, pos: int) -> str | None:
        key = (id(route), pos)
        if key not in cache:
            rest = route.edges[pos:]
            cause = None
            if sim.closed[rest].any():
                cause = "closed"
            elif changed[rest].any():
                cause = "changed"
            elif weights is not None and len(rest):
                best = sim.dist_to(route.dst)[int(sim.net.edges.u[rest[0]])]
                if best < weights[rest].sum() - 1.0:  # a second is below the data's precision
                    cause = "opened"
            cache[key] = cause
        return cache[key]

    now = sim.env.now
    for trip in sorted(sim.moving):
        proc, route, leg, where, _ = sim.moving[trip]
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
    for batch in sim.batches:
        for i, row, cause in batch.concerned(verdict, now):
            sim.env.process(caught(sim, batch.first + int(batch.r0[i]) + row, batch.leg(i), row, cause))
    changed, sim.changed = sim.changed, sim.env.event()
    changed.succeed()


def totals_for(sim: Sim, trip: int) -> TripTotals:
    """Fresh running totals for a trip (an empty return heads back to its flow's origin)."""
    i = int(sim.t_flow[trip])
    f = sim.flows[i]
    if sim.t_leg[trip] == 1:
        return TripTotals(trip, f, sim.src[i], 0.0)
    return TripTotals(trip, f, sim.dst[i], f.tons_per_truck)


def truck(
    sim: Sim, trip: int, route: SimRoute | None, leg: Leg | None, at: float | int,
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
            acc = totals_for(sim, trip)
            sim.active[trip] = acc
            yield from _replan(sim, acc, leg, row, str(stop.cause))
        else:
            del sim.moving[trip]
            if leg.b == route.m:  # type: ignore[union-attr]
                sim.t_status[trip] = DELIVERED
            else:
                acc = totals_for(sim, trip)
                acc.route = route
                sim.active[trip] = acc
                sim.stop_leg(acc, leg, row, leg.b - leg.a)
                yield from drive(sim, acc, route, leg.b, -1)
    else:
        yield env.timeout(at - env.now)
        acc = totals_for(sim, trip)
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
        acc = totals_for(sim, back)
        sim.active[back] = acc
        yield from drive(sim, acc, None, 0, sim.dst[i])


def drive(
    sim: Sim, acc: TripTotals, route: SimRoute | None, pos: int, node: int, prev: np.ndarray | None = None,
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
            lanes = int(route.lanes[pos])
            res = sim.checkpoints.get((e, lanes))
            if res is None:
                res = sim.checkpoints[e, lanes] = simpy.Resource(env, capacity=lanes)
            acc.since = env.now
            sim.moving[acc.id] = (proc, route, None, pos, acc)
            try:
                with res.request() as req:
                    yield req
                    yield env.timeout(service_time(sim, route.service_h[pos]))
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
        leg = plan_leg(sim, route, pos, acc.tons)
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


def caught(sim: Sim, trip: int, leg: Leg, row: int, cause: str) -> Generator[simpy.Event, Any, None]:
    """A truck of a :class:`Batch` concerned by a state change: from now on, a process of its own."""
    acc = totals_for(sim, trip)
    sim.active[trip] = acc
    yield from _replan(sim, acc, leg, row, cause)
    yield from _return_empty(sim, trip)


def _replan(sim: Sim, acc: TripTotals, leg: Leg, row: int, cause: str) -> Generator[simpy.Event, Any, None]:
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


def _leave_leg(sim: Sim, acc: TripTotals, leg: Leg, row: int) -> Generator[simpy.Event, Any, tuple[int, int]]:
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
        for i, row in batch.under_way(end):
            leg = batch.leg(i)
            sim.moving[batch.first + int(batch.r0[i]) + row] = (None, leg.route, leg, row, None)
    sim.batches.clear()
    for trip in sorted(set(sim.moving) | set(sim.active)):
        entry = sim.moving.get(trip)
        acc = sim.active.get(trip)
        if acc is None:
            assert entry is not None
            acc = totals_for(sim, trip)
        if entry is not None and entry[2] is not None:
            leg, row = entry[2], entry[3]
            if end > leg.start[row] and leg.b > leg.a:
                ends = leg.ends[row]
                done = int(np.searchsorted(ends, end, side="right"))
                frac = 0.0
                if done < len(ends):
                    left = float(ends[done - 1]) if done else float(leg.start[row])
                    wait = float(leg.wait_row(row)[done])
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
        sim.t_road[i] = road_code(sim, np.concatenate(acc.edges)) if acc.edges else 0
    sim.moving.clear()
    sim.active.clear()
