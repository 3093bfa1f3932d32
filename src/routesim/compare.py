"""Side-by-side comparison of result directories."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from routesim.errors import RoutesimError

OD_METRICS = ("distance_km", "time_h", "detour_km", "extra_time_h", "cost_per_trip_usd", "reachable_share")


def _name(directory: Path) -> str:
    manifest = directory / "manifest.json"
    if manifest.is_file():
        data = json.loads(manifest.read_text(encoding="utf-8"))
        return str(data.get("resolved_scenario", {}).get("name") or directory.name)
    return directory.name


def _read(directory: Path, table: str) -> pd.DataFrame:
    path = directory / table
    if not (directory / "manifest.json").is_file():
        raise RoutesimError(f"{directory}: not a complete routesim result (no manifest.json)")
    if not path.is_file():
        raise RoutesimError(f"{path}: missing")
    return pd.read_csv(path)


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
    One row per metric (or per flow and metric) with each run's value and
    ``delta``/``delta_pct`` columns for every run after the first.
    """
    dirs = [Path(d) for d in directories]
    if len(dirs) < 2:
        raise RoutesimError("compare needs at least two result directories")
    names = [_name(d) for d in dirs]
    if len(set(names)) != len(names):
        names = [f"{n} ({d})" for n, d in zip(names, dirs, strict=True)]
    rows: list[dict[str, Any]] = []
    if by == "metric":
        tables = [_read(d, "summary.csv").set_index("metric") for d in dirs]
        for metric in tables[0].index:
            row: dict[str, Any] = {"metric": metric, "unit": tables[0].loc[metric, "unit"]}
            values = [float(t.loc[metric, "value"]) if metric in t.index else float("nan") for t in tables]
            _fill(row, names, values)
            rows.append(row)
        return rows
    if by != "od":
        raise RoutesimError(f"unknown comparison {by!r}: use metric or od")
    tables = [_read(d, "od.csv").set_index("flow") for d in dirs]
    for flow in tables[0].index:
        for metric in OD_METRICS:
            row = {"flow": flow, "od": f"{tables[0].loc[flow, 'origin']} -> {tables[0].loc[flow, 'destination']}",
                   "metric": metric}
            values = [float(t.loc[flow, metric]) if flow in t.index else float("nan") for t in tables]
            _fill(row, names, values)
            rows.append(row)
    return rows


def _fill(row: dict[str, Any], names: list[str], values: list[float]) -> None:
    for n, v in zip(names, values, strict=True):
        row[n] = v
    for n, v in zip(names[1:], values[1:], strict=True):
        d, pct = _delta(v, values[0])
        row[f"delta {n}"] = d
        row[f"delta% {n}"] = pct
