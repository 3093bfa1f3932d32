"""Result folders: the tables of a run, written atomically and read back."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from routesim.errors import RoutesimError

#: Columns of ``summary.csv``: ``engine`` says which estimate a row belongs to.
SUMMARY_COLUMNS = ["engine", "metric", "value", "unit", "low", "high"]
#: ``engine`` values: a figure of the run itself (days, flows, replications), the
#: freight simulation, or the route-level estimate.
ENGINES = ("run", "sim", "route")


def write_table(frame: pd.DataFrame, path: Path, *, decimals: int = 6) -> None:
    """Write ``frame`` as CSV (or Parquet for a ``.parquet`` path).

    Floats are rounded to ``decimals`` places (default 6; trips use 4: 0.1 m,
    0.4 s) so tables diff cleanly; missing values are empty cells. The CSV
    writer is pyarrow's, ~10x faster than pandas on trip tables of a million rows.
    """
    floats = frame.select_dtypes(include="float").columns
    if len(floats):
        frame = frame.assign(**{c: frame[c].round(decimals) for c in floats})
    table = pa.Table.from_pandas(frame, preserve_index=False)
    if path.suffix == ".parquet":
        pq.write_table(table, path)
    else:
        pacsv.write_csv(table, path, write_options=pacsv.WriteOptions(quoting_style="needed"))


@dataclass
class RunTables:
    """The tables of a run: route-level ones, completed by the simulation when it runs.

    Attributes
    ----------
    summary
        Rows of ``summary.csv`` (:data:`SUMMARY_COLUMNS`).
    od
        ``od.csv``: one row per flow.
    segments
        ``segments.csv``: one row per segment.
    extra
        Further tables by file name (``trips.csv``/``trips.parquet``, ``daily.csv``).
    seeds
        Replication seeds (empty without simulation).
    """

    summary: list[dict[str, Any]]
    od: pd.DataFrame
    segments: pd.DataFrame
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)
    seeds: list[int] = field(default_factory=list)


def run_name(directory: Path) -> str:
    """The scenario name of a result folder (its folder name when the manifest has none)."""
    manifest = directory / "manifest.json"
    if manifest.is_file():
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise RoutesimError(f"{manifest}: unreadable manifest: {exc}") from None
        if isinstance(data, dict):
            return str((data.get("resolved_scenario") or {}).get("name") or directory.name)
    return directory.name


def read_table(directory: Path, table: str) -> pd.DataFrame:
    """A table of a complete result folder.

    A ``summary.csv`` written before the ``engine`` column existed gets one
    (``route_*`` metrics are ``route``, ``days``/``flows``/``replications`` ``run``,
    the rest ``sim``), so old results still compare.

    Raises
    ------
    RoutesimError
        When the folder is no complete routesim result, or the table is missing.
    """
    path = directory / table
    if not (directory / "manifest.json").is_file():
        raise RoutesimError(f"{directory}: not a complete routesim result (no manifest.json)")
    if not path.is_file():
        raise RoutesimError(f"{path}: missing")
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError) as exc:  # EmptyDataError, ParserError and UnicodeDecodeError are ValueErrors
        raise RoutesimError(f"{path}: unreadable table: {str(exc).strip() or type(exc).__name__}") from None
    if table == "summary.csv" and "engine" not in frame.columns and "metric" in frame.columns:
        metric = frame["metric"].astype(str)
        route = metric.str.startswith("route_")
        engine = pd.Series("sim", index=frame.index).mask(route, "route")
        engine = engine.mask(metric.isin(["days", "flows", "replications"]), "run")
        frame = frame.assign(engine=engine, metric=metric.str.removeprefix("route_"))
    return _checked(frame, path, table)


#: Columns a table must have to be read back, the numeric ones (where present), and the columns that
#: identify a row.
_SHAPES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "summary.csv": (("engine", "metric", "value", "unit", "low", "high"), ("value", "low", "high"),
                    ("engine", "metric")),
    "od.csv": (("flow", "origin", "destination"),
               ("distance_km", "time_h", "detour_km", "extra_time_h", "cost_per_trip_usd", "reachable_share",
                "sim_unserved", "sim_delivered", "sim_stranded", "sim_mean_km", "sim_mean_hours",
                "sim_mean_queue_hours", "sim_fuel_l", "sim_cost_per_ton_usd"), ("flow",)),
}


def _checked(frame: pd.DataFrame, path: Path, table: str) -> pd.DataFrame:
    """``frame`` if it has the shape of ``table`` (columns, numbers, unique rows); damaged tables are errors."""
    if table not in _SHAPES:
        return frame
    required, numeric, key = _SHAPES[table]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise RoutesimError(f"{path}: damaged table: no column {', '.join(missing)}")
    for col in (c for c in numeric if c in frame.columns):
        values = pd.to_numeric(frame[col], errors="coerce")
        bad = values.isna() & frame[col].notna()
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            raise RoutesimError(f"{path}:{row + 2}: {col}: damaged table: not a number: {frame[col].iloc[row]!r}")
        frame[col] = values
    repeated = frame.duplicated(subset=list(key))
    if repeated.any():
        row = int(repeated.to_numpy().nonzero()[0][0])
        raise RoutesimError(f"{path}:{row + 2}: damaged table: {', '.join(key)} repeated")
    return frame
