"""Side-by-side comparison of result directories."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from routesim.errors import RoutesimError
from routesim.io.results import read_table, run_name

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
        after the first. When the runs have replications, ``differs <run>`` says
        whether the 95 % intervals of the two runs are disjoint (``yes``: the
        difference is beyond the simulation's noise; ``no``: it may not be).
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
        with_intervals = any(t["low"].notna().any() for t in tables)
        for key in tables[0].index:
            row: dict[str, Any] = {"engine": key[0], "metric": key[1], "unit": tables[0].loc[key, "unit"]}
            values = [_float(t.loc[key, "value"]) if key in t.index else float("nan") for t in tables]
            _fill(row, names, values)
            if with_intervals:
                spans = [_span(t, key) for t in tables]
                for n, span in zip(names[1:], spans[1:], strict=True):
                    row[f"differs {n}"] = _differs(spans[0], span)
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
