"""Writing a run's result directory atomically."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq


@contextmanager
def atomic_dir(target: Path) -> Iterator[Path]:
    """Yield a hidden temporary directory that replaces ``target`` on success.

    Files are written into ``.<name>.tmp-*`` beside ``target``; only when the
    block finishes is the directory renamed into place (an existing result is
    moved aside first and removed after). A run killed part-way leaves at most a
    hidden temporary directory, never a ``target`` that looks complete.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        yield tmp
        old = None
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            os.replace(target, old / target.name)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")


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
        Rows of ``summary.csv`` (metric, value, unit, low, high).
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
