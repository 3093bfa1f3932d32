"""Replications of a scenario's freight simulation, reduced to tables.

:func:`run_replications` runs :func:`routesim.sim.simulate` once per
replication of a scenario's flows; :class:`ScenarioSimulation` reduces the
replications to the tables ``routesim run`` writes: a summary with the mean and
a 95 % interval of each metric, trips, daily figures, per-flow and per-segment use.

Replication ``r`` (1-based) runs with seed :func:`replication_seeds` ``(seed, n)[r - 1]``:
independent streams derived from the scenario seed with :class:`numpy.random.SeedSequence`,
so adding replications never changes the earlier ones.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals
from scipy.special import stdtrit

from routesim.demand.flows import Flow
from routesim.events.eventset import EventSet
from routesim.models.scenario import Scenario
from routesim.network.graph import Network
from routesim.sim.engine import simulate
from routesim.sim.model import Prices, SimConfig, SimResult

__all__ = [
    "SIM_METRICS",
    "ScenarioSimulation",
    "interval",
    "replication_seeds",
    "replication_workers",
    "run_replications",
    "scenario_config",
    "summarize",
]

#: Summary metrics of a simulation, in table order: (metric, unit).
SIM_METRICS: tuple[tuple[str, str], ...] = (
    ("trips_unserved", "trips"),
    ("tons_unserved", "t"),
    ("trips_dispatched", "trips"),
    ("delivered", "trips"),
    ("stranded", "trips"),
    ("in_transit", "trips"),
    ("tons_delivered", "t"),
    ("vehicle_km", "km"),
    ("truck_hours", "h"),
    ("queue_hours", "h"),
    ("reroutes", "count"),
    ("mean_trip_km", "km"),
    ("mean_trip_hours", "h"),
    ("fuel_l", "L"),
    ("fuel_cost_syp", "SYP"),
    ("fuel_cost_usd", "USD"),
    ("fees_usd", "USD"),
    ("fees_syp", "SYP"),
    ("time_cost_usd", "USD"),
    ("total_cost_usd", "USD"),
    ("cost_per_ton_usd", "USD/t"),
    ("fuel_l_per_ton", "L/t"),
    ("vehicle_km_per_ton", "km/t"),
)


def scenario_config(scenario: Scenario, *, seed: int) -> SimConfig:
    """The engine settings a scenario asks for (period, waits, checkpoints, value of time)."""
    sim = scenario.simulation
    return SimConfig(
        start=scenario.start, end=scenario.end, seed=seed, wait_limit_h=sim.wait_limit_h,
        checkpoint_servers=sim.checkpoint_servers, checkpoint_service=sim.checkpoint_service,
        checkpoint_service_cv=sim.checkpoint_service_cv, value_of_time_usd_h=scenario.costs.value_of_time_usd_h,
        night_ban=sim.night_ban, background_pcu_share=sim.background_pcu_share,
    )


def replication_seeds(seed: int, n: int) -> list[int]:
    """Seeds of replications ``1..n``: independent, and the first ``k`` do not depend on ``n``."""
    children = np.random.SeedSequence(int(seed) % 2**64).spawn(n)  # any int, negatives distinct
    return [int(c.generate_state(1, dtype=np.uint32)[0]) for c in children]


def interval(values: Sequence[float], *, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval of the mean of ``values``.

    Returns ``(mean, low, high)``; ``low``/``high`` are nan with fewer than two
    finite values. Identical values give ``low == high == mean``.
    """
    x = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    if len(x) == 0:
        return math.nan, math.nan, math.nan
    mean = float(x.mean())
    if len(x) < 2:
        return mean, math.nan, math.nan
    # stdtrit is the Student-t quantile; scipy.stats would cost ~0.8 s of import per run.
    half = float(stdtrit(len(x) - 1, 0.5 + level / 2.0) * x.std(ddof=1) / math.sqrt(len(x)))
    return mean, mean - half, mean + half


def summarize(results: Sequence[SimResult]) -> list[dict[str, Any]]:
    """Summary rows (metric, value, unit, low, high) over replications: mean and 95 % interval."""
    per_rep = [r.summary for r in results]
    rows = []
    for metric, unit in SIM_METRICS:
        mean, low, high = interval([m[metric] for m in per_rep])
        rows.append({"engine": "sim", "metric": metric, "value": mean, "unit": unit,
                     "low": None if math.isnan(low) else low, "high": None if math.isnan(high) else high})
    return rows


@dataclass
class ScenarioSimulation:
    """Replications of a scenario and the tables made from them.

    Attributes
    ----------
    seeds
        Seed of each replication, in order.
    results
        The engine's result of each replication.
    """

    seeds: list[int]
    results: list[SimResult]

    def summary(self) -> list[dict[str, Any]]:
        return summarize(self.results)

    def _stacked(self, attr: str) -> pd.DataFrame:
        frames = []
        for r, res in enumerate(self.results, start=1):
            frame = getattr(res, attr)
            frames.append(frame.assign(replication=r)[["replication", *frame.columns]])
        out = pd.concat(frames, ignore_index=True)
        # Replications meet different road sequences: unite the categories rather than fall back to strings.
        for col in frames[0].columns:
            if isinstance(frames[0][col].dtype, pd.CategoricalDtype) and len(frames) > 1:
                out[col] = union_categoricals([f[col] for f in frames])
        return out

    def trips(self) -> pd.DataFrame:
        """Every trip of every replication (``replication`` column first)."""
        return self._stacked("trips")

    def daily(self) -> pd.DataFrame:
        """Daily figures of every replication."""
        return self._stacked("daily")

    def flows(self) -> pd.DataFrame:
        """Per-flow figures, means over replications (flows in scenario order)."""
        frame = self._stacked("flows").drop(columns="replication")
        return frame.groupby("flow", sort=False).mean().reset_index()

    def segments(self) -> pd.DataFrame:
        """Per segment: mean over replications of trucks, tonnes, vehicle-km and delay hours."""
        frame = self._stacked("segments")
        frame["delay_h"] = frame["mean_delay_h"] * frame["trucks"]
        n = len(self.results)
        agg = frame.groupby("segment", sort=True).agg(
            trucks=("trucks", "sum"), tons=("tons", "sum"),
            vehicle_km=("vehicle_km", "sum"), delay_h=("delay_h", "sum"),
        )
        out = pd.DataFrame({
            "trucks": agg["trucks"] / n, "tons": agg["tons"] / n, "vehicle_km": agg["vehicle_km"] / n,
        })
        out["mean_delay_h"] = np.divide(agg["delay_h"], agg["trucks"], out=np.zeros(len(agg)),
                                        where=agg["trucks"] > 0)
        return out.reset_index()


#: Below this many trips over all replications (about 4 s of simulation), starting
#: worker processes (about a second each, in parallel) costs more than it saves.
PARALLEL_MIN_TRIPS = 4_000_000


def replication_workers(scenario: Scenario, flows: Sequence[Flow]) -> int:
    """Processes to run the replications in: ``simulation.workers``, else automatic.

    Automatic: one per replication up to the CPUs available, when there are at
    least two replications and :data:`PARALLEL_MIN_TRIPS` trips or more in all; else 1.
    """
    sim = scenario.simulation
    n = sim.replications
    if sim.workers is not None:
        return max(1, min(sim.workers, n))
    trips = sum(f.trucks_per_day for f in flows) * (scenario.end - scenario.start).days
    if n < 2 or n * trips < PARALLEL_MIN_TRIPS:
        return 1
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(n, cpus))


_SHARED: tuple[Any, ...] = ()


def _init_worker(*shared: Any) -> None:
    # The network and events reach each worker once, not once per replication.
    global _SHARED
    _SHARED = shared


def _run_worker(config: SimConfig) -> SimResult:
    network, events, flows, prices = _SHARED
    return simulate(network, events, flows, config, prices)


def run_replications(
    network: Network, events: EventSet, flows: Sequence[Flow], scenario: Scenario, prices: Prices, *, seed: int,
    progress: bool = True,
) -> ScenarioSimulation:
    """Simulate ``flows`` (the scenario's demand) ``simulation.replications`` times.

    Replications run in :func:`replication_workers` processes (``spawn``); each has
    its own seed, so the results do not depend on the number of processes.

    Parameters
    ----------
    seed
        Scenario seed; replication seeds derive from it (:func:`replication_seeds`).
    progress
        Progress bar on a terminal (per day of each replication, or per finished
        replication when they run in parallel); silent otherwise (default on).
    """
    n = scenario.simulation.replications
    seeds = replication_seeds(seed, n)
    configs = [scenario_config(scenario, seed=s) for s in seeds]
    workers = replication_workers(scenario, flows)
    if workers == 1:
        results = [
            simulate(network, events, flows, cfg, prices, progress=f"replication {r}/{n}" if progress else False)
            for r, cfg in enumerate(configs, start=1)
        ]
        return ScenarioSimulation(seeds=seeds, results=results)
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                             initargs=(network, events, flows, prices)) as pool:
        futures = [pool.submit(_run_worker, cfg) for cfg in configs]
        if progress and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import Progress

            with Progress(console=Console(stderr=True), transient=True) as bar:
                task = bar.add_task(f"{n} replications in {workers} processes", total=n)
                for _ in as_completed(futures):
                    bar.advance(task)
        results = [f.result() for f in futures]
    return ScenarioSimulation(seeds=seeds, results=results)
