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
    except (OSError, ValueError) as exc:
        raise RoutesimError(f"{path}: unreadable table: {exc}") from None
    if table == "summary.csv" and "engine" not in frame.columns and "metric" in frame.columns:
        metric = frame["metric"].astype(str)
        route = metric.str.startswith("route_")
        engine = pd.Series("sim", index=frame.index).mask(route, "route")
        engine = engine.mask(metric.isin(["days", "flows", "replications"]), "run")
        frame = frame.assign(engine=engine, metric=metric.str.removeprefix("route_"))
    return frame
