"""Running a freight simulation: :func:`simulate` (the model is :mod:`routesim.sim.model`)."""

from __future__ import annotations

import gc
import sys
from collections.abc import Sequence

from routesim.demand.flows import Flow
from routesim.events.eventset import EventSet, as_event_set
from routesim.network.graph import Network
from routesim.sim.dispatch import controller, expected_trips
from routesim.sim.model import Prices, SimConfig, SimResult
from routesim.sim.movement import finish_in_transit
from routesim.sim.tables import tables
from routesim.sim.traffic import edge_traffic
from routesim.sim.world import Sim


def simulate(
    network: Network,
    events: EventSet | None,
    flows: Sequence[Flow],
    config: SimConfig,
    prices: Prices,
    *,
    progress: bool | str = False,
) -> SimResult:
    """Simulate freight flows over ``[config.start, config.end)``.

    Parameters
    ----------
    network
        The road network.
    events
        Dated events (an :class:`~routesim.events.EventSet`); ``None`` for the
        built-in library.
    flows
        Truck flows to dispatch.
    config
        Period, seed and model parameters.
    prices
        Diesel price (SYP/L) and SYP per USD by day.
    progress
        Show a progress bar on a terminal (stderr); silent otherwise. A string
        is used as the bar's label (default label: ``simulating days``).

    Returns
    -------
    SimResult
        Trips, daily and segment tables, and a summary with ``trips_unserved``
        and ``tons_unserved`` (not dispatched: no route on the day), ``trips_dispatched``,
        ``delivered``, ``stranded``, ``in_transit``, ``tons_delivered``,
        ``vehicle_km``, ``truck_hours``, ``queue_hours``, ``fuel_l``,
        ``fuel_cost_usd``, ``fuel_cost_syp``, ``fees_usd``, ``fees_syp``,
        ``time_cost_usd``, ``total_cost_usd`` (fuel + fees, SYP fees converted at
        the departure day's rate, + time cost), ``reroutes``, ``cost_per_ton_usd``,
        ``fuel_l_per_ton`` and ``vehicle_km_per_ton`` (per tonne delivered), and
        ``mean_trip_km``/``mean_trip_hours`` (per delivered loaded trip).

    Notes
    -----
    Deterministic: the same inputs and seed give identical tables.
    """
    eset = as_event_set(network, events)
    sim = Sim(network, eset, flows, config, prices, edge_traffic(network, config))
    sim.alloc(expected_trips(sim))
    clock = sim.env.process(controller(sim))
    # The run allocates millions of short-lived, acyclic objects (events, processes):
    # the cyclic collector would only rescan them, so it is paused while the clock runs.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        if progress and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import Progress

            with Progress(console=Console(stderr=True), transient=True) as bar:
                label = progress if isinstance(progress, str) else "simulating days"
                sim.progress = (bar, bar.add_task(label, total=sim.n_days))
                sim.env.run(until=clock)
            sim.progress = None
        else:
            sim.env.run(until=clock)
    finally:
        if gc_was_enabled:
            gc.enable()
    sim.end_h = sim.env.now  # the period's end, or the midnight a drain ended
    finish_in_transit(sim)
    return SimResult(**tables(sim))
