"""The freight simulation model: settings, results, and how trucks are simulated.

:func:`routesim.sim.simulate` dispatches the trucks of each :class:`Flow` day by day, moves each
one as a simpy process along its fastest truck route, and reroutes, holds or
strands trucks as dated events close and open roads. Results are per trip, per
day and per segment, with fuel, fees and totals (:class:`SimResult`).

Model
-----
Clock
    Hours from ``config.start`` 00:00; the run ends at ``config.end`` 00:00.
Network state
    Changes only at the start of an epoch of the event set (always a midnight).
    One ``controller`` process steps through the days: at an epoch start it swaps
    the state, interrupts the trucks whose *remaining* path now contains an edge
    closed to trucks, wakes trucks waiting for a route, then dispatches the day.
Dispatch
    Per flow and day: ``floor(trucks_per_day)`` trucks plus one more with
    probability ``frac(trucks_per_day)``; departure times uniform in
    ``depart_hours`` or drawn from the hourly ``depart_profile``, sorted. All
    draws come from ``numpy.random.default_rng([seed, 0])``; checkpoint service
    times come from a second stream ``[seed, 1]``, so closures never change who
    departs when. A truck whose destination cannot be
    reached from its origin on its departure day is not dispatched: the trip is
    counted as *unserved* (shippers do not send trucks into a closed road), and
    it is not a trip of the results.
Trucks
    A truck is a simpy process with a handful of events, not one per edge, and
    becomes one only when something can happen to it. A route is split into
    *legs* at *stops*: edges with a checkpoint queue (``state.queue_tph > 0``). A
    truck queues at a stop (simpy ``Resource`` per directed edge and lane count,
    ``state.queue_lanes`` or ``checkpoint_servers`` servers, exponential service
    time with mean ``1 / queue_tph``) *before* entering the edge, then drives the next leg in one
    timeout. Because the state is constant over a day, the route of a truck is
    known when the day is dispatched, and its first leg is scheduled for all
    trucks of the day at once, all flows together (compiled; the congestion of
    each edge and clock hour is computed once for all trucks entering it then:
    :func:`routesim.sim.traffic.schedule_group`). When that leg reaches the
    destination (no stop on the way), nothing but a closure can change the trip,
    and closures come only at state changes: such trucks form a *batch* with no
    simpy event at all; at a state change, those whose road ahead closed leave
    the batch and continue as processes from where they are. This is what keeps
    a simulated trip at about two bare simpy events of cost
    (``benchmarks/bench_freight.py``).
Route choice
    Fastest path for ``vehicle="truck"`` under the state in force (free-flow
    truck times / ``speed_factor`` + ``delay_s``; congestion and queues do not
    change route choice). Paths are cached per (state key, source) and legs per (epoch, origin,
    destination, truck class).
Congestion (BPR)
    Edge time = driving time x ``(1 + alpha (V/C)^beta)`` + the edge's fixed
    checkpoint delay (``delay_s``, time added to every truck, never a queue);
    driving time = free-flow truck time / (state speed factor x class speed factor),
    at most ``max_kph``. ``V`` is the number of
    trucks entering the edge in that clock hour x ``truck_pce`` (+ background
    ``background_pcu_share`` x C). Hourly entry counts live in a ring of 96 hourly
    rows x edges (four days; one day-block is cleared at each midnight). A truck's
    entry hour on each edge is estimated from its leg start plus the cumulative
    *free-flow* time, and all trucks dispatched on a day are counted before their
    times are computed, so each sees the full planned volume of its hours (trucks
    of later days, and legs started later, are not known yet: an approximation).
    Entries more than ~3 days ahead are counted in the last row of the ring.
Capacity
    ``C = lanes_per_direction x lane_capacity_pcu_h x class factor x
    capacity_factor``; ``lanes`` (graph edge attribute) is the total of both
    directions unless the edge is ``oneway`` (then per direction), at least one
    lane per direction; missing lanes default to 4 (motorway, trunk) else 2. Class
    factor: motorway 1.0, trunk 0.9, primary 0.8, secondary 0.7, other 0.6
    (multilane divided roads carry near the nominal per-lane rate; two-lane and
    minor roads much less).
Interruptions
    At a state change, trucks whose remaining path has a closed edge reroute;
    those whose remaining path has an edge with a changed restriction (speed,
    capacity, checkpoint delay, fee), or for which an opened road now gives a
    faster path, re-plan (counted as a reroute only if the path changes). An
    interrupted truck finishes the edge it is on (arriving at its head node at
    that edge's scheduled end, uninterruptible meanwhile; a truck queuing at a
    checkpoint leaves the queue at once, for closures only), then routes afresh
    from there. With no route it waits at that node, re-checking at each state
    change, up to ``wait_limit_h``, then is stranded there.
Night closures
    A truck does not *enter* an edge closed at night between 20:00 and 05:00: it
    waits at the edge's tail until 05:00 (counted in ``queue_hours``). Edges are
    closed at night by events (``restrict: {night_closed: true}``, always
    enforced) and, with ``night_ban``, when their graph attribute
    ``night_unsafe`` is truthy (the optional ban on roads flagged unsafe).
Accounting
    Fees (state ``fee_usd``/``fee_syp``) and km are counted per edge passed. Fuel
    = km / 100 x (empty + (loaded - empty) x load factor) L for loaded legs, the
    empty rate for empty returns; priced with the diesel price and exchange rate
    of the trip's departure date. ``queue_hours`` is time stopped at checkpoints
    (queue + service) and night-ban waits; time spent waiting for a route counts in
    ``hours`` only. Trucks still moving at ``end`` are ``in_transit`` with the km
    done so far (the edge in progress pro rata by time). Empty returns are trips
    of their own (``leg == "empty_return"``) leaving at the loaded trip's arrival
    (batched per arrival day like departures); ``dispatched``/``delivered``/...
    count trips of both legs. A truck arriving after ``end`` has no return.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from routesim.demand.prices import PriceSource as Prices

__all__ = ["Prices", "SimConfig", "SimResult"]


@dataclass(frozen=True)
class SimConfig:
    """Run settings (see the module docstring for the model).

    Attributes
    ----------
    start, end
        Simulated period; ``end`` is exclusive.
    seed
        Seed of every random draw; the same seed gives identical results.
    wait_limit_h
        How long a truck without a route waits before it is stranded.
    bpr_alpha, bpr_beta
        BPR congestion curve ``1 + alpha (V/C)^beta``.
    truck_pce
        Passenger-car units per truck.
    lane_capacity_pcu_h
        Capacity per lane and hour of a motorway; other classes are scaled down.
    background_pcu_share
        Non-freight volume as a share of capacity.
    checkpoint_servers
        Parallel inspection lanes per checkpoint and direction, where the graph
        edge has no ``checkpoint_servers`` attribute of its own.
    checkpoint_service, checkpoint_service_cv
        Distribution of a checkpoint's service time around its mean delay:
        ``"exponential"`` (default; coefficient of variation 1), ``"lognormal"``
        with coefficient of variation ``checkpoint_service_cv``, or ``"fixed"``.
    value_of_time_usd_h
        Cost of a truck hour, for ``time_cost_usd``.
    night_ban
        Trucks also keep off edges flagged ``night_unsafe`` in the graph between
        20:00 and 05:00 (edges closed at night by events always are).
    speed_factor, delay_factor
        Multipliers of every free-flow speed and of every checkpoint delay (default
        1): the draws of an uncertain scenario's replication (``uncertainty:``).
    drain_days
        After ``end``, keep following the trucks already dispatched, day by day, until
        every one has arrived or is stranded, for at most this many days (default 0:
        the run stops at ``end`` and trucks still on the road are ``in_transit``). No
        truck leaves after ``end``; the network keeps changing by its events.
    actor
        Who the trucks are: decides which crossings of front lines they may use
        (default ``commercial``; :data:`routesim.control.ACTORS`).
    """

    start: date
    end: date
    seed: int = 1
    wait_limit_h: float = 48.0
    bpr_alpha: float = 0.15
    bpr_beta: float = 4.0
    truck_pce: float = 2.0
    lane_capacity_pcu_h: float = 1800.0
    background_pcu_share: float = 0.0
    checkpoint_servers: int = 2
    checkpoint_service: str = "exponential"
    checkpoint_service_cv: float = 0.5
    value_of_time_usd_h: float = 0.0
    night_ban: bool = False
    speed_factor: float = 1.0
    delay_factor: float = 1.0
    drain_days: int = 0
    actor: str = "commercial"


@dataclass
class SimResult:
    """Output of :func:`simulate`.

    Attributes
    ----------
    trips
        One row per trip (loaded legs and empty returns), by ``trip_id``; columns
        ``routesim.sim.tables.TRIP_COLUMNS``. ``flow``, ``vehicle``, ``leg``, ``status`` and ``roads``
        are categoricals; ``depart`` and ``arrive`` are ``datetime64[s]``
        (``arrive`` is NaT unless delivered).
    daily
        One row per simulated day. Trips are counted on their departure day for
        ``dispatched``, ``vehicle_km``, ``fuel_l``, ``fuel_cost_usd`` and ``fees_usd``,
        on their arrival day for ``delivered``/``tons_delivered``, on the day they
        gave up for ``stranded``; ``in_transit`` is the count at the end of the day.
    segments
        One row per segment passed by some truck: passages (``trucks``), tonnes
        carried through, vehicle-km, and mean delay (checkpoint queue and service,
        night waits, congestion) per passage, hours.
    summary
        Totals (see :func:`simulate`).
    flows
        One row per flow (``routesim.sim.tables.FLOW_COLUMNS``): loaded trips unserved, dispatched,
        delivered, stranded and in transit; tonnes delivered; mean km, hours and
        queue hours of delivered loaded trips; and, over all its trips (empty
        returns included), reroutes, vehicle-km, fuel, total cost and cost per
        tonne delivered.
    """

    trips: pd.DataFrame
    daily: pd.DataFrame
    segments: pd.DataFrame
    summary: dict[str, float]
    flows: pd.DataFrame
