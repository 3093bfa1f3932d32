"""Side-by-side comparison of result directories.

With replications, each run's 95 % interval is shown, and so is the interval of
each run's difference from the first: *paired* by replication index when the
two runs used the same replication seeds (common random numbers: replication
``r`` of both saw the same random numbers, so most of the noise cancels in the
difference; Student-t on the per-replication differences), else *unpaired*
(Welch's interval for two independent samples). Both come from
``replications.csv``; results without one fall back to comparing the two
intervals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from routesim._util.stats import interval, welch_interval
from routesim.errors import RoutesimError
from routesim.io.results import read_table, run_name

#: ``pairing`` column values.
PAIRED = "paired"
UNPAIRED = "unpaired: different seeds"

OD_METRICS = ("distance_km", "time_h", "detour_km", "extra_time_h", "cost_per_trip_usd", "reachable_share")
#: Simulated per-flow figures, compared when the first run has them.
SIM_OD_METRICS = ("sim_unserved", "sim_delivered", "sim_stranded", "sim_mean_km", "sim_mean_hours",
                  "sim_mean_queue_hours", "sim_fuel_l", "sim_cost_per_ton_usd")


def _delta(value: float, first: float) -> tuple[float, float]:
    d = value - first
    pct = d / first * 100.0 if first and not math.isnan(first) else float("nan")
    return d, pct


def compare(directories: list[str | Path], *, by: str = "metric") -> list[dict[str, Any]]:
    """Rows comparing runs against the first one.

    Parameters
    ----------
    directories
        Result folders written by ``routesim run``.
    by
        ``"metric"`` (summary.csv) or ``"od"`` (od.csv, matched on flow).

    Returns
    -------
    list of dict
        One row per metric (``engine`` and ``metric``; or per flow and metric)
        with each run's value and ``delta``/``delta%`` columns for every run
        after the first. When the runs have replications, also each run's 95 %
        interval (``low <run>``/``high <run>``) and, for the simulated metrics of
        runs with a ``replications.csv``, the 95 % interval of the difference
        from the first run (``delta low <run>``/``delta high <run>``) and how it
        was made (``pairing <run>``: ``paired`` or ``unpaired: different
        seeds``, see the module docs). ``differs <run>`` says ``yes`` when that
        interval excludes 0 (the difference is beyond the noise), ``no`` when it
        does not; for results without ``replications.csv``, ``yes`` when the two
        runs' intervals are disjoint (a conservative test). Blank with a single
        replication.
    """
    dirs = [Path(d) for d in directories]
    if len(dirs) < 2:
        raise RoutesimError("compare needs at least two result directories")
    names = [run_name(d) for d in dirs]
    if len(set(names)) != len(names):
        names = [f"{n} ({d})" for n, d in zip(names, dirs, strict=True)]
    if len(set(names)) != len(names):  # the same folder given twice
        names = [f"{n} #{i}" for i, n in enumerate(names, start=1)]
    rows: list[dict[str, Any]] = []
    if by == "metric":
        tables = [read_table(d, "summary.csv").set_index(["engine", "metric"]) for d in dirs]
        reps = [_replications(d) for d in dirs]
        with_intervals = any(t["low"].notna().any() for t in tables)
        for key in tables[0].index:
            row: dict[str, Any] = {"engine": key[0], "metric": key[1], "unit": tables[0].loc[key, "unit"]}
            values = [_float(t.loc[key, "value"]) if key in t.index else float("nan") for t in tables]
            spans = [_span(t, key) for t in tables]
            for n, v, span in zip(names, values, spans, strict=True):
                row[n] = v
                if with_intervals:
                    row[f"low {n}"], row[f"high {n}"] = span if span is not None else (None, None)
            for n, v, span, rep in zip(names[1:], values[1:], spans[1:], reps[1:], strict=True):
                d, pct = _delta(v, values[0])
                row[f"delta {n}"], row[f"delta% {n}"] = d, pct
                if not with_intervals:
                    continue
                diff = _difference(reps[0], rep, key) if key[0] == "sim" else None
                if diff is None:
                    row[f"delta low {n}"] = row[f"delta high {n}"] = None
                    row[f"pairing {n}"] = ""
                    row[f"differs {n}"] = _differs(spans[0], span)
                else:
                    low, high, pairing = diff
                    row[f"delta low {n}"], row[f"delta high {n}"] = low, high
                    row[f"pairing {n}"] = pairing
                    row[f"differs {n}"] = "" if low is None or high is None else (
                        "yes" if low > 0 or high < 0 else "no")
            rows.append(row)
        return rows
    if by != "od":
        raise RoutesimError(f"unknown comparison {by!r}: use metric or od")
    tables = [read_table(d, "od.csv").set_index("flow") for d in dirs]
    metrics = OD_METRICS + tuple(m for m in SIM_OD_METRICS if m in tables[0].columns)
    for flow in tables[0].index:
        for metric in metrics:
            row = {"flow": flow, "od": f"{tables[0].loc[flow, 'origin']} -> {tables[0].loc[flow, 'destination']}",
                   "metric": metric}
            values = [_float(t.loc[flow, metric]) if flow in t.index and metric in t.columns else float("nan")
                      for t in tables]
            _fill(row, names, values)
            rows.append(row)
    return rows


@dataclass(frozen=True)
class _Replications:
    """A run's ``replications.csv``: per-replication values by metric, and the seeds."""

    values: pd.DataFrame  # replication x metric
    seeds: pd.Series  # by replication


def _replications(directory: Path) -> _Replications | None:
    """The run's per-replication values, or None when it has no ``replications.csv`` (older results)."""
    if not (directory / "replications.csv").is_file():
        return None
    frame = read_table(directory, "replications.csv")
    missing = {"replication", "seed", "metric", "value"} - set(frame.columns)
    if missing:
        raise RoutesimError(f"{directory / 'replications.csv'}: not a replications table "
                            f"(no column {', '.join(sorted(missing))})")
    values = frame.pivot_table(index="replication", columns="metric", values="value", aggfunc="first")
    seeds = frame.drop_duplicates("replication").set_index("replication")["seed"]
    return _Replications(values=values, seeds=seeds)


def _difference(
    first: _Replications | None, other: _Replications | None, key: tuple[str, str],
) -> tuple[float | None, float | None, str] | None:
    """95 % interval of ``other - first`` for a simulated metric, and the pairing used.

    Paired on the replications both runs have when their seeds agree there (common
    random numbers), else Welch's unpaired interval. None without the data.
    """
    metric = key[1]
    if first is None or other is None or metric not in first.values or metric not in other.values:
        return None
    a, b = first.values[metric], other.values[metric]
    common = first.seeds.index.intersection(other.seeds.index)
    if len(common) and (first.seeds[common] == other.seeds[common]).all():
        _, low, high = interval((b[common] - a[common]).tolist())
        pairing = PAIRED
    else:
        _, low, high = welch_interval(a.tolist(), b.tolist())
        pairing = UNPAIRED
    return (None if math.isnan(low) else low), (None if math.isnan(high) else high), pairing


def _span(table: pd.DataFrame, key: tuple[str, str]) -> tuple[float, float] | None:
    """The 95 % interval of an (engine, metric), if the run has one."""
    if key not in table.index:
        return None
    low, high = _float(table.loc[key, "low"]), _float(table.loc[key, "high"])
    return None if math.isnan(low) or math.isnan(high) else (low, high)


def _float(value: Any) -> float:
    return float(value)


def _differs(a: tuple[float, float] | None, b: tuple[float, float] | None) -> str:
    """``yes`` when the two 95 % intervals do not overlap (a conservative test), ``no`` when
    they do, empty without intervals (one replication)."""
    if a is None or b is None:
        return ""
    return "yes" if a[1] < b[0] or b[1] < a[0] else "no"


def _fill(row: dict[str, Any], names: list[str], values: list[float]) -> None:
    for n, v in zip(names, values, strict=True):
        row[n] = v
    for n, v in zip(names[1:], values[1:], strict=True):
        d, pct = _delta(v, values[0])
        row[f"delta {n}"] = d
        row[f"delta% {n}"] = pct
