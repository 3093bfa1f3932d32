"""The tables of a sweep: the tidy table of every variant's metrics, and the sensitivity (tornado) table.

``sweep.csv`` / ``sweep.parquet`` have one row per variant and summary metric:
``variant``, ``hash``, ``status`` (``ok`` or ``failed``), one column per swept
parameter, then ``engine``, ``metric``, ``value``, ``unit``, ``low``, ``high``
as in a run's ``summary.csv``, and ``error`` (a failed variant has one row, with
its error and no metric). Rows are in variant order, so the table does not
depend on which worker ran what.

``sensitivity.csv`` says how far each parameter moves each metric. A
parameter's *main effect* on a metric is the mean of the metric over the
variants at each of its values, whatever the other parameters are (in a full
grid, the others are averaged out equally). ``low`` and ``high`` are its lowest
and highest values (listed order for values that have none, such as presets);
``metric_at_low`` and ``metric_at_high`` the mean metric there; ``swing`` is
high minus low and ``range`` the largest minus the smallest mean over all of its
values. A parameter drawn from a continuous distribution (``samples``) is cut at
its 20th and 80th percentiles: ``low`` is the mean draw of the lowest fifth of
the variants, ``high`` that of the highest fifth. Rows are sorted by metric,
then by ``range``, largest first: a tornado chart in table form.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["METRIC_COLUMNS", "SENSITIVITY_COLUMNS", "VariantRow", "normal_rows", "sensitivity_table", "sweep_table"]

#: Columns a variant's metric rows take from a run's summary.
METRIC_COLUMNS = ["engine", "metric", "value", "unit", "low", "high"]
#: Columns of ``sensitivity.csv``.
SENSITIVITY_COLUMNS = ["engine", "metric", "parameter", "low", "high", "metric_at_low", "metric_at_high", "swing",
                       "range", "variants"]
#: Share of the variants in each tail when a sampled parameter is cut into low and high.
TAIL = 0.2


@dataclass
class VariantRow:
    """One variant as the tables show it: parameters, hash, status, summary rows or error."""

    id: int
    params: dict[str, Any]
    hash: str
    ok: bool
    summary: list[dict[str, Any]]
    error: str = ""


def normal_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Summary rows with plain types (numbers as floats), identical after a JSON round trip."""
    out = []
    for r in rows:
        out.append({
            "engine": str(r.get("engine", "")),
            "metric": str(r["metric"]),
            "value": _number(r.get("value")),
            "unit": "" if r.get("unit") is None else str(r.get("unit")),
            "low": _number(r.get("low")),
            "high": _number(r.get("high")),
        })
    return out


def _number(v: Any) -> float | None:
    if v is None or isinstance(v, bool):
        return None if v is None else float(v)
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return None if np.isnan(x) else x


def cell(value: Any) -> Any:
    """A parameter value as a table cell: dates as ISO text, lists and mappings as JSON."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, default=str, sort_keys=True)
    if isinstance(value, np.generic):
        return value.item()
    return value


def sweep_table(variants: Sequence[VariantRow], columns: Sequence[str], *,
                keep: Sequence[tuple[str | None, str]] = ()) -> pd.DataFrame:
    """The tidy table: one row per variant and kept metric (one row with the error for a failed variant).

    ``keep`` lists ``(engine or None, metric)`` to keep; empty keeps every metric.
    """
    records: list[dict[str, Any]] = []
    for v in sorted(variants, key=lambda v: v.id):
        head = {"variant": v.id, "hash": v.hash, "status": "ok" if v.ok else "failed",
                **{c: cell(v.params.get(c)) for c in columns}}
        if not v.ok:
            records.append({**head, **dict.fromkeys(METRIC_COLUMNS), "error": v.error})
            continue
        for row in v.summary:
            if keep and not any((e is None or e == row["engine"]) and m == row["metric"] for e, m in keep):
                continue
            records.append({**head, **row, "error": ""})
    frame = pd.DataFrame.from_records(
        records, columns=["variant", "hash", "status", *columns, *METRIC_COLUMNS, "error"])
    for c in columns:
        frame[c] = _uniform(frame[c])
    frame["variant"] = frame["variant"].astype("int64")
    for c in ("value", "low", "high"):
        frame[c] = pd.to_numeric(frame[c], errors="coerce").astype("float64")
    for c in ("hash", "status", "engine", "metric", "unit", "error"):
        frame[c] = frame[c].astype(object).where(frame[c].notna(), None)
    return frame


def _uniform(col: pd.Series) -> pd.Series:
    """A parameter column of one type: numbers stay numbers; anything mixed becomes text."""
    values = [v for v in col.tolist() if v is not None and not (isinstance(v, float) and np.isnan(v))]
    if values and all(isinstance(v, bool) for v in values):
        return col.astype(object)
    if values and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return pd.to_numeric(col, errors="coerce")
    return col.map(lambda v: None if v is None else str(v)).astype(object)


def sensitivity_table(table: pd.DataFrame, columns: Sequence[str], *, continuous: Sequence[str] = (),
                      order: dict[str, list[Any]] | None = None) -> pd.DataFrame:
    """How far each parameter moves each metric (see the module docstring).

    Parameters
    ----------
    table
        From :func:`sweep_table`; failed variants and the ``run`` engine's own figures are left out.
    columns
        The parameter columns.
    continuous
        Columns drawn from continuous distributions, cut at their tails rather than grouped by value.
    order
        For parameters whose values have no order of their own (presets, text), the listed order.
    """
    ok = table[(table["status"] == "ok") & (table["engine"] != "run") & table["value"].notna()]
    rows: list[dict[str, Any]] = []
    for (engine, metric), group in ok.groupby(["engine", "metric"], sort=True):
        for col in columns:
            values = group[[col, "value"]].dropna(subset=[col])
            if values[col].nunique() < 2:
                continue
            if col in continuous:
                rows.append(_tails(str(engine), str(metric), col, values))
            else:
                rows.append(_levels(str(engine), str(metric), col, values, (order or {}).get(col)))
    frame = pd.DataFrame.from_records(rows, columns=SENSITIVITY_COLUMNS)
    if frame.empty:
        return frame
    for c in ("metric_at_low", "metric_at_high", "swing", "range"):
        # rounding first, then + 0.0, so that a difference of -1e-16 is written 0, not -0
        frame[c] = frame[c].astype("float64").round(6) + 0.0
    frame["_rank"] = -frame["range"].abs().fillna(0.0)
    frame = frame.sort_values(["engine", "metric", "_rank", "parameter"], kind="mergesort")
    return frame.drop(columns="_rank").reset_index(drop=True)


def _levels(engine: str, metric: str, col: str, values: pd.DataFrame, listed: list[Any] | None) -> dict[str, Any]:
    means = values.groupby(col, sort=False)["value"].mean()
    levels = list(means.index)
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in levels) or _iso_dates(levels):
        levels = sorted(levels)
    elif listed:
        rank = {cell(v): i for i, v in enumerate(listed)}
        levels = sorted(levels, key=lambda v: rank.get(v, len(rank)))
    lo, hi = levels[0], levels[-1]
    return _row(engine, metric, col, lo, hi, float(means[lo]), float(means[hi]),
                float(means.max() - means.min()), len(values))


def _tails(engine: str, metric: str, col: str, values: pd.DataFrame) -> dict[str, Any]:
    x = values[col].astype(float)
    q_lo, q_hi = x.quantile(TAIL), x.quantile(1 - TAIL)
    low, high = values[x <= q_lo], values[x >= q_hi]
    m_lo, m_hi = float(low["value"].mean()), float(high["value"].mean())
    return _row(engine, metric, col, float(low[col].astype(float).mean()), float(high[col].astype(float).mean()),
                m_lo, m_hi, abs(m_hi - m_lo), len(values))


def _row(engine: str, metric: str, col: str, lo: Any, hi: Any, m_lo: float, m_hi: float, rng: float,
         n: int) -> dict[str, Any]:
    return {"engine": engine, "metric": metric, "parameter": col, "low": _text(lo), "high": _text(hi),
            "metric_at_low": m_lo, "metric_at_high": m_hi, "swing": m_hi - m_lo, "range": rng, "variants": n}


def _text(v: Any) -> str:
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(round(v, 6))
    return str(v)


def _iso_dates(levels: list[Any]) -> bool:
    try:
        return all(isinstance(v, str) and date.fromisoformat(v) is not None for v in levels)
    except ValueError:
        return False
