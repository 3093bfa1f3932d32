"""How big a run will be, before it starts: trips, peak memory, bytes written.

A scenario of a few lines can ask for a run that would never finish or that
would exhaust the machine (``trucks_per_day: 1e9``, a century-long period,
200 replications with every trip kept). :func:`estimate_run` sizes the run from
the scenario alone, and :func:`check_run_size` refuses one beyond the limits
(:class:`SizeLimits`) with a message that says what drives its size and how to
raise the limits (``--max-trips N``, ``--allow-large``).

The figures are estimates of the order of magnitude, from constants measured on
the built-in network (see the constants' notes); they are meant to stop runaways,
not to predict a run to the megabyte.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from routesim.demand.flows import scenario_flows
from routesim.errors import InputFileError, Problem, RoutesimError
from routesim.io.scenario_file import LoadedScenario

#: Default limit on the trips a run simulates, over all replications and directions
#: (empty returns included): about an hour of simulation on one core.
MAX_TRIPS = 200_000_000
#: Share of the machine's physical memory a run's estimated peak may reach by default.
MEMORY_SHARE = 0.8
#: Memory of a process that has loaded the built-in network and simulated a little:
#: measured peak 470 MB (59 days of the 2010 baseline, 98,530 trips), bytes.
BASE_MEMORY = 450 * 2**20
#: Memory per trip of a replication: measured 200 bytes (peak 490 MB at 200,400 trips
#: against 470 MB at 98,530), with a margin, bytes.
BYTES_PER_TRIP = 250
#: Bytes of one row of ``trips.csv`` (measured: 150) and of ``trips.parquet`` (measured: 22).
CSV_ROW_BYTES = 150
PARQUET_ROW_BYTES = 22
#: Bytes of the tables that do not grow with trips (``segments.csv`` of the built-in network: 3.2 MB).
FIXED_OUTPUT_BYTES = 4_000_000
#: Bytes of a row of ``daily.csv`` (one per flow, day and replication; measured: 10), with a margin.
DAILY_ROW_BYTES = 20


def physical_memory() -> int | None:
    """Bytes of physical memory of this machine (``None`` where the OS does not say)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, OSError, ValueError):
        return None


@dataclass(frozen=True)
class SizeLimits:
    """What a run may cost before it is refused.

    Parameters
    ----------
    max_trips
        Most trips over all replications (default :data:`MAX_TRIPS`).
    max_memory
        Most estimated peak memory, bytes (default ``None``: :data:`MEMORY_SHARE`
        of the physical memory, no limit where it is unknown).
    allow_large
        Refuse nothing (default ``False``); the estimate is still printed.
    """

    max_trips: int = MAX_TRIPS
    max_memory: int | None = None
    allow_large: bool = False

    def memory_limit(self) -> int | None:
        if self.max_memory is not None:
            return self.max_memory
        total = physical_memory()
        return int(total * MEMORY_SHARE) if total else None


@dataclass(frozen=True)
class RunEstimate:
    """The size of a run.

    Attributes
    ----------
    days, replications, workers
        Days of the period, replications, processes that run them at once.
    trucks_per_day
        Loaded trucks per day over every flow (both directions counted).
    trips_per_day
        Trips per day (an empty return is a trip of its own).
    trips
        Trips over the run: ``trips_per_day × days × replications``.
    peak_memory
        Estimated peak memory, bytes.
    output_bytes
        Estimated bytes of the result folder.
    heaviest
        Index of the demand row with the most trips (``None`` without demand).
    simulated
        Whether the run simulates trucks (demand and ``simulation.freight``).
    """

    days: int
    replications: int
    workers: int
    trucks_per_day: float
    trips_per_day: float
    trips: int
    peak_memory: int
    output_bytes: int
    heaviest: int | None
    simulated: bool

    def text(self) -> str:
        """One line: ``estimate: 610,000 trips (...), peak memory ~0.6 GB, output ~67 MB``."""
        if not self.simulated:
            return f"estimate: no simulation (route-level only), output ~{_size(self.output_bytes)}"
        reps = f" × {self.replications} replications" if self.replications != 1 else ""
        return (f"estimate: {self.trips:,} trips ({self.trips_per_day:,.0f}/day × {self.days:,} days{reps}), "
                f"peak memory ~{_size(self.peak_memory)}, output ~{_size(self.output_bytes)}")

    def as_dict(self) -> dict[str, Any]:
        return {"days": self.days, "replications": self.replications, "trips": self.trips,
                "peak_memory_bytes": self.peak_memory, "output_bytes": self.output_bytes}


def _size(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.3g} {unit}"
        n /= 1000
    return f"{n:,.3g} TB"


def estimate_run(loaded: LoadedScenario, *, replications: int | None = None,
                 workers: int | None = None) -> RunEstimate:
    """Estimate the size of running ``loaded``.

    Parameters
    ----------
    replications, workers
        Overrides of ``simulation.replications``/``simulation.workers``, as
        ``routesim run`` takes them (default: the scenario's; automatic workers as
        :func:`routesim.sim.replications.replication_workers` chooses them).
    """
    sc = loaded.scenario
    days = (sc.end - sc.start).days
    reps = replications if replications is not None else sc.simulation.replications
    simulated = bool(sc.demand) and sc.simulation.freight
    flows = scenario_flows(sc)
    # Imported here: the simulation package is only needed once there is a run to size.
    from routesim.sim.replications import replication_workers

    update = {"replications": reps} | ({"workers": workers} if workers is not None else {})
    procs = replication_workers(sc.model_copy(update={"simulation": sc.simulation.model_copy(update=update)}), flows)
    trucks = sum(f.trucks_per_day for f in flows)
    per_row: dict[int, float] = {}
    for i, d in enumerate(sc.demand):
        back = 2 if d.both_directions else 1
        per_truck = sc.vehicles[d.vehicle].payload_t * d.load_factor if d.vehicle in sc.vehicles else 1.0
        n = d.trucks_per_day if d.trucks_per_day is not None else (d.tons_per_day or 0.0) / per_truck
        per_row[i] = n * back * (2 if d.return_empty else 1)
    per_day = sum(f.trucks_per_day * (2 if f.return_empty else 1) for f in flows) if simulated else 0.0
    trips_f = per_day * days * reps
    trips = int(min(trips_f, 2**62))
    per_rep = per_day * days
    peak = BASE_MEMORY + procs * per_rep * BYTES_PER_TRIP if simulated else BASE_MEMORY
    row_bytes = PARQUET_ROW_BYTES if sc.outputs.trips_format == "parquet" else CSV_ROW_BYTES
    out = trips_f * row_bytes if (simulated and sc.outputs.trips) else 0.0
    out += (days * len(flows) * reps * DAILY_ROW_BYTES if simulated else 0) + FIXED_OUTPUT_BYTES
    heaviest = max(per_row, key=lambda i: per_row[i]) if per_row else None
    return RunEstimate(days=days, replications=reps, workers=procs, trucks_per_day=trucks, trips_per_day=per_day,
                       trips=trips, peak_memory=int(min(peak, 2**62)), output_bytes=int(min(out, 2**62)),
                       heaviest=heaviest, simulated=simulated)


def check_run_size(loaded: LoadedScenario, estimate: RunEstimate, limits: SizeLimits | None = None) -> None:
    """Refuse a run beyond ``limits`` (default :class:`SizeLimits`).

    Raises
    ------
    InputFileError
        Located at the demand row with the most trips (or the period), saying
        what drives the size and how to raise the limits.
    """
    limits = limits or SizeLimits()
    if limits.allow_large or not estimate.simulated:
        return
    reasons = []
    if estimate.trips > limits.max_trips:
        reasons.append(f"{estimate.trips:,} trips is more than the limit of {limits.max_trips:,}")
    memory = limits.memory_limit()
    if memory is not None and estimate.peak_memory > memory:
        reasons.append(f"~{_size(estimate.peak_memory)} of memory is more than the limit of {_size(memory)}")
    if not reasons:
        return
    doc = loaded.doc
    loc: tuple[str | int, ...] = ("demand", estimate.heaviest) if estimate.heaviest is not None else ("period",)
    hint = "raise the limit with --max-trips N, or --allow-large"
    if estimate.replications > 1:
        hint = f"fewer replications, {hint}"
    message = f"run too large: {'; '.join(reasons)} ({estimate.text()}); {hint}"
    problem = doc.problem(loc, message)
    raise InputFileError([Problem(problem.file, problem.line, "", problem.message)])


def check_space(out: str | os.PathLike[str], estimate: RunEstimate) -> None:
    """Refuse a run whose result would not fit on the disk of ``out``.

    Raises
    ------
    RoutesimError
        Naming the folder, the estimated size and the space left.
    """
    folder = Path(out).absolute()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return  # unknown: the write itself reports a full disk
    if estimate.output_bytes > free:
        raise RoutesimError(f"{out}: the result needs ~{_size(estimate.output_bytes)} but only {_size(free)} "
                            "is free there; free space, choose another --out, or set outputs.trips: false")
