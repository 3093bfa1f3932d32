"""Replications of a scenario's freight simulation, reduced to tables as they finish.

:func:`run_replications` runs :func:`routesim.sim.simulate` once per
replication of a scenario's flows and folds each result into a
:class:`ScenarioSimulation` at once, keeping no replication's trips or segment
table: the tables ``routesim run`` writes come from per-replication summaries,
running sums (per flow, per segment) and the small daily tables, and the trips
go to a :class:`~routesim.sim.tripfile.TripFile` replication by replication. So
memory does not grow with the number of replications
(``benchmarks/bench_memory.py``).

Replication ``r`` (1-based) runs with seed :func:`replication_seeds` ``(seed, n)[r - 1]``:
independent streams derived from the scenario seed with :class:`numpy.random.SeedSequence`,
so adding replications never changes the earlier ones. With an ``uncertainty:``
block, replication ``r`` also draws its input factors from ``seed``
(:mod:`routesim.sim.draws`).
"""

from __future__ import annotations

import math
import multiprocessing
import os
import sys
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from routesim._util.interrupts import deaf_workers, quiet_worker_interrupts, stop_workers_on_interrupt
from routesim._util.stats import interval
from routesim.demand.flows import Flow
from routesim.events.eventset import EventSet
from routesim.models.scenario import Scenario
from routesim.network.graph import Network
from routesim.sim.draws import apply_draws, replication_draws
from routesim.sim.engine import simulate
from routesim.sim.model import Prices, SimConfig, SimResult
from routesim.sim.tripfile import TripFile

__all__ = [
    "SIM_METRICS",
    "UNTIL_CI_MIN",
    "ScenarioSimulation",
    "interval",
    "precise_enough",
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
#: Unit of the ``draw_<factor>`` rows of ``replications.csv``.
DRAW_UNIT = "factor"
#: ``until_ci`` never stops before this many replications: with two, the interval
#: has one degree of freedom and is narrow by chance too often.
UNTIL_CI_MIN = 3


def scenario_config(scenario: Scenario, *, seed: int) -> SimConfig:
    """The engine settings a scenario asks for (period, waits, checkpoints, value of time)."""
    sim = scenario.simulation
    return SimConfig(
        start=scenario.start, end=scenario.end, seed=seed, wait_limit_h=sim.wait_limit_h,
        checkpoint_servers=sim.checkpoint_servers, checkpoint_service=sim.checkpoint_service,
        checkpoint_service_cv=sim.checkpoint_service_cv, value_of_time_usd_h=scenario.costs.value_of_time_usd_h,
        night_ban=sim.night_ban, background_pcu_share=sim.background_pcu_share,
        drain_days=sim.drain_limit_days if sim.drain else 0, actor=scenario.actor,
    )


def replication_seeds(seed: int, n: int) -> list[int]:
    """Seeds of replications ``1..n``: independent, and the first ``k`` do not depend on ``n``."""
    children = np.random.SeedSequence(int(seed) % 2**64).spawn(n)  # any int, negatives distinct
    return [int(c.generate_state(1, dtype=np.uint32)[0]) for c in children]


def summarize(summaries: Sequence[dict[str, float]]) -> list[dict[str, Any]]:
    """Summary rows (metric, value, unit, low, high) over replications: mean and 95 % interval.

    ``summaries``: each replication's :attr:`SimResult.summary`.
    """
    rows = []
    for metric, unit in SIM_METRICS:
        mean, low, high = interval([m[metric] for m in summaries])
        rows.append({"engine": "sim", "metric": metric, "value": mean, "unit": unit,
                     "low": None if math.isnan(low) else low, "high": None if math.isnan(high) else high})
    return rows


class _KahanSums:
    """Running compensated sums of rows keyed by label, as pandas' groupby sum/mean adds them.

    Adding a label's values in the same order and with the same (Kahan) algorithm
    as pandas gives bit-identical totals, so the reduced tables equal those made
    from all replications stacked. NaN values are skipped and counted apart.
    """

    def __init__(self, columns: Sequence[str]) -> None:
        self.columns = list(columns)
        self.index: dict[Any, int] = {}
        k = len(self.columns)
        self.sum = np.zeros((0, k))
        self.comp = np.zeros((0, k))
        self.count = np.zeros((0, k), dtype=np.int64)

    def add(self, labels: Sequence[Any], values: np.ndarray) -> None:
        new = [x for x in dict.fromkeys(labels) if x not in self.index]
        if new:
            for x in new:
                self.index[x] = len(self.index)
            grow = ((0, len(new)), (0, 0))
            self.sum, self.comp = np.pad(self.sum, grow), np.pad(self.comp, grow)
            self.count = np.pad(self.count, grow)
        rows = np.fromiter((self.index[x] for x in labels), dtype=np.int64, count=len(labels))
        if len(set(rows.tolist())) != len(rows):
            raise ValueError("labels repeat within one replication")
        v = np.asarray(values, dtype=float)
        ok = ~np.isnan(v)
        s, c = self.sum[rows], self.comp[rows]
        y = v - c
        t = s + y
        comp = (t - s) - y
        # As pandas: an infinite value makes the compensation nan; reset it so the sum stays infinite.
        self.comp[rows] = np.where(ok, np.where(np.isnan(comp), 0.0, comp), c)
        self.sum[rows] = np.where(ok, t, s)
        self.count[rows] += ok

    def labels(self) -> list[Any]:
        return list(self.index)


@dataclass
class ScenarioSimulation:
    """Replications of a scenario, reduced to the tables of a run as each finishes.

    Attributes
    ----------
    seeds
        Seed of each replication, in order.
    draws
        Input factors of each replication (empty dicts without ``uncertainty``).
    summaries
        :attr:`SimResult.summary` of each replication.
    trips
        Where the trips of every replication went (``None``: not kept).
    """

    seeds: list[int] = field(default_factory=list)
    draws: list[dict[str, float]] = field(default_factory=list)
    summaries: list[dict[str, float]] = field(default_factory=list)
    trips: Path | None = None
    _daily: list[pd.DataFrame] = field(default_factory=list, repr=False)
    _flows: _KahanSums | None = field(default=None, repr=False)
    _segments: _KahanSums | None = field(default=None, repr=False)

    @property
    def n(self) -> int:
        """Replications folded in so far."""
        return len(self.summaries)

    def add(self, result: SimResult, *, seed: int, draws: dict[str, float]) -> None:
        """Fold in the next replication (its trips go elsewhere: see :func:`run_replications`)."""
        self.seeds.append(seed)
        self.draws.append(dict(draws))
        self.summaries.append(dict(result.summary))
        r = self.n
        self._daily.append(result.daily.assign(replication=r)[["replication", *result.daily.columns]])
        flows = result.flows.set_index("flow")
        if self._flows is None:
            self._flows = _KahanSums(list(flows.columns))
        self._flows.add(list(flows.index), flows[self._flows.columns].to_numpy(dtype=float))
        seg = result.segments
        if self._segments is None:
            self._segments = _KahanSums(["trucks", "tons", "vehicle_km", "delay_h"])
        values = np.column_stack([
            seg["trucks"].to_numpy(dtype=float), seg["tons"].to_numpy(dtype=float),
            seg["vehicle_km"].to_numpy(dtype=float),
            (seg["mean_delay_h"] * seg["trucks"]).to_numpy(dtype=float),
        ]) if len(seg) else np.zeros((0, 4))
        self._segments.add(list(seg["segment"]), values)

    def summary(self) -> list[dict[str, Any]]:
        """Summary rows: each metric's mean over replications and its 95 % interval."""
        return summarize(self.summaries)

    def daily(self) -> pd.DataFrame:
        """Daily figures of every replication (``replication`` column first)."""
        return pd.concat(self._daily, ignore_index=True)

    def flows(self) -> pd.DataFrame:
        """Per-flow figures, means over replications (flows in scenario order)."""
        acc = self._flows
        assert acc is not None, "no replication yet"
        mean = np.divide(acc.sum, acc.count, out=np.full(acc.sum.shape, np.nan), where=acc.count > 0)
        out = pd.DataFrame(mean, columns=acc.columns)
        out.insert(0, "flow", acc.labels())
        return out

    def segments(self) -> pd.DataFrame:
        """Per segment: mean over replications of trucks, tonnes, vehicle-km and delay hours."""
        acc = self._segments
        assert acc is not None, "no replication yet"
        labels = np.array(acc.labels(), dtype=object)
        order = np.argsort(labels.astype(str), kind="stable")
        totals = acc.sum[order]
        trucks, delay = totals[:, 0], totals[:, 3]
        n = self.n
        return pd.DataFrame({
            "segment": labels[order],
            "trucks": trucks / n, "tons": totals[:, 1] / n, "vehicle_km": totals[:, 2] / n,
            "mean_delay_h": np.divide(delay, trucks, out=np.zeros(len(trucks)), where=trucks > 0),
        })

    def replications(self) -> pd.DataFrame:
        """``replications.csv``: per replication and metric (summary metrics, then ``draw_<factor>``)."""
        units = dict(SIM_METRICS)
        rows = []
        for r, (seed, summ, draws) in enumerate(zip(self.seeds, self.summaries, self.draws, strict=True), start=1):
            rows += [(r, seed, m, summ[m], units[m]) for m, _ in SIM_METRICS]
            rows += [(r, seed, f"draw_{k}", v, DRAW_UNIT) for k, v in draws.items()]
        return pd.DataFrame(rows, columns=["replication", "seed", "metric", "value", "unit"])

    def draw_rows(self) -> list[dict[str, Any]]:
        """The draws per replication, for the manifest (replication, seed, factors)."""
        return [{"replication": r, "seed": s, **d} for r, (s, d) in enumerate(zip(self.seeds, self.draws,
                                                                                  strict=True), start=1)]


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
    quiet_worker_interrupts()  # Ctrl-C is the parent's to handle: it stops the workers
    _SHARED = shared


def _run_worker(config: SimConfig, draws: dict[str, float]) -> SimResult:
    network, events, flows, prices = _SHARED
    flows, prices, config = apply_draws(draws, flows=flows, prices=prices, config=config)
    return simulate(network, events, flows, config, prices)


def precise_enough(values: Sequence[float], *, precision: float) -> bool:
    """Whether the 95 % interval's half-width of ``values``' mean is within ``precision`` x |mean|.

    Never before :data:`UNTIL_CI_MIN` values; a mean of 0 counts as precise only
    with zero width.
    """
    if len(values) < UNTIL_CI_MIN:
        return False
    mean, low, high = interval(values)
    if math.isnan(low):
        return False
    return (high - low) / 2.0 <= precision * abs(mean)


def run_replications(
    network: Network, events: EventSet, flows: Sequence[Flow], scenario: Scenario, prices: Prices, *, seed: int,
    progress: bool = True, trips: Path | None = None, until_ci: float | None = None,
    ci_metric: str = "total_cost_usd",
) -> ScenarioSimulation:
    """Simulate ``flows`` (the scenario's demand) ``simulation.replications`` times.

    Replications run in :func:`replication_workers` processes (``spawn``); each has
    its own seed (and, with ``uncertainty:``, its own input factors), so the
    results do not depend on the number of processes. Each finished replication
    is folded into the result and dropped, in replication order.

    Parameters
    ----------
    seed
        Scenario seed; replication seeds and draws derive from it
        (:func:`replication_seeds`, :func:`routesim.sim.draws.replication_draws`).
    progress
        Progress bar on a terminal (per day of each replication, or per finished
        replication when they run in parallel); silent otherwise (default on).
    trips
        File for the trips of every replication (CSV, or Parquet for a
        ``.parquet`` path), written as they finish; ``None`` (default): trips are
        not kept.
    until_ci
        Stop once the 95 % interval of ``ci_metric``'s mean has a half-width of at
        most ``until_ci`` times the mean (0.01: 1 %), after
        :data:`UNTIL_CI_MIN` replications or more; ``simulation.replications``
        is then the most run. ``None`` (default): run them all. The first ``k``
        replications are the same either way.
    ci_metric
        Summary metric the ``until_ci`` rule watches (default ``total_cost_usd``).
    """
    if until_ci is not None and ci_metric not in dict(SIM_METRICS):
        raise ValueError(f"unknown metric {ci_metric!r}")
    n = scenario.simulation.replications
    seeds = replication_seeds(seed, n)
    all_draws = replication_draws(scenario.uncertainty, seed=seed, n=n)
    configs = [scenario_config(scenario, seed=s) for s in seeds]
    workers = replication_workers(scenario, flows)
    out = ScenarioSimulation(trips=trips)

    def done() -> bool:
        return until_ci is not None and precise_enough([m[ci_metric] for m in out.summaries], precision=until_ci)

    with TripFile(trips) if trips is not None else nullcontext() as trip_file:
        def fold(r: int, result: SimResult) -> None:
            out.add(result, seed=seeds[r - 1], draws=all_draws[r - 1])
            if trip_file is not None:
                trip_file.write(result.trips, replication=r)

        if workers == 1:
            for r, (cfg, draws) in enumerate(zip(configs, all_draws, strict=True), start=1):
                fl, pr, cf = apply_draws(draws, flows=flows, prices=prices, config=cfg)
                fold(r, simulate(network, events, fl, cf, pr, progress=f"replication {r}/{n}" if progress else False))
                if done():
                    break
            return out
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                                 initargs=(network, events, flows, prices)) as pool, stop_workers_on_interrupt(pool):
            bar = _ProgressBar(progress, f"{n} replications in {workers} processes", n)
            with bar as tick:
                for r, result in _in_order(pool, configs, all_draws, window=2 * workers):
                    fold(r, result)
                    tick()
                    if done():
                        pool.shutdown(wait=True, cancel_futures=True)
                        break
    return out


def _in_order(pool: ProcessPoolExecutor, configs: Sequence[SimConfig], draws: Sequence[dict[str, float]], *,
              window: int) -> Iterator[tuple[int, SimResult]]:
    """Results in replication order, with at most ``window`` submitted and not yet taken.

    Bounding what is in flight keeps finished results from piling up while the
    trips of an earlier one are written.
    """
    pending: deque[tuple[int, Future[SimResult]]] = deque()
    jobs = iter(enumerate(zip(configs, draws, strict=True), start=1))
    with deaf_workers():  # the first submissions start the workers: they leave Ctrl-C to this process
        for r, (cfg, d) in jobs:
            pending.append((r, pool.submit(_run_worker, cfg, d)))
            if len(pending) >= window:
                break
    while pending:
        r, fut = pending.popleft()
        result = fut.result()
        del fut
        nxt = next(jobs, None)
        if nxt is not None:
            pending.append((nxt[0], pool.submit(_run_worker, nxt[1][0], nxt[1][1])))
        yield r, result


class _ProgressBar:
    """A per-replication progress bar on a terminal's stderr; a no-op otherwise."""

    def __init__(self, progress: bool, label: str, total: int) -> None:
        self.show = progress and sys.stderr.isatty()
        self.label, self.total = label, total
        self._bar: Any = None

    def __enter__(self) -> Any:
        if not self.show:
            return lambda: None
        from rich.console import Console
        from rich.progress import Progress

        self._bar = Progress(console=Console(stderr=True), transient=True)
        self._bar.__enter__()
        task = self._bar.add_task(self.label, total=self.total)
        return lambda: self._bar.advance(task)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
