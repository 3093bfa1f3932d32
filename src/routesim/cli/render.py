"""Render lists of records as a terminal table, CSV, JSON, Markdown or LaTeX.

In the text formats (table, Markdown, LaTeX), a row whose ``unit`` is a count
(:data:`COUNT_UNITS`: ``trips``, ``count``, ...) shows its numbers without
decimals, except in columns whose name has a ``%`` (percentages). CSV and JSON
keep every value as it is.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

FORMATS = ("table", "csv", "json", "markdown", "latex")
#: Units of whole numbers: such rows print without decimals (a mean over replications is rounded).
COUNT_UNITS = frozenset({"trips", "count", "trucks", "d", "days", "events", "segments", "flows", "replications"})
#: Characters LaTeX reads as commands, and their escaped forms.
_LATEX_ESCAPES = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
    "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
}


def _cell(value: Any, *, digits: int = 2) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if digits == 0:
            value = float(round(value)) + 0.0  # no "-0" for a count that rounds to zero
        return f"{value:,.{digits}f}" if abs(value) >= 1000 else f"{value:.{digits}f}"
    if isinstance(value, list | tuple):
        return " > ".join(str(v) for v in value) if value else ""
    return str(value)


def _plain(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, tuple):
        return list(value)
    return value


def render(
    rows: Sequence[Mapping[str, Any]], *, fmt: str = "table", title: str | None = None,
    columns: Sequence[str] | None = None,
) -> str:
    """Text of ``rows`` in format ``fmt`` (one of :data:`FORMATS`)."""
    cols = list(columns or (rows[0].keys() if rows else []))
    if fmt == "json":
        return json.dumps([{c: _plain(r.get(c)) for c in cols} for r in rows], indent=2, default=str)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(cols)
        for r in rows:
            writer.writerow([_csv_cell(r.get(c)) for c in cols])
        return buf.getvalue().rstrip("\n")
    cells = [[_cell(r.get(c), digits=_digits(r, c)) for c in cols] for r in rows]
    if fmt == "latex":
        return _latex(cols, cells, [_numeric(rows, c) for c in cols], title)
    if fmt == "markdown":
        lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in cells]
        return ((f"**{title}**\n\n") if title else "") + "\n".join(lines)
    if fmt != "table":
        raise ValueError(f"unknown format {fmt!r}; expected one of {list(FORMATS)}")
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(cols)]
    numeric = [_numeric(rows, c) for c in cols]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)
        ).rstrip()

    out = [title] if title else []
    out += [line(cols), line(["-" * w for w in widths])]
    out += [line(row) for row in cells]
    return "\n".join(out)


def _digits(row: Mapping[str, Any], column: str) -> int:
    """Decimals of a number in ``row``: none in a count row (outside % columns), else 2."""
    return 0 if row.get("unit") in COUNT_UNITS and "%" not in column else 2


def _numeric(rows: Sequence[Mapping[str, Any]], column: str) -> bool:
    return bool(rows) and all(_is_num(r.get(column)) for r in rows)


def latex_escape(text: str) -> str:
    """``text`` with LaTeX's special characters escaped."""
    return "".join(_LATEX_ESCAPES.get(ch, ch) for ch in text)


def _latex(cols: Sequence[str], cells: Sequence[Sequence[str]], numeric: Sequence[bool], title: str | None) -> str:
    """A ``booktabs`` tabular (numbers right-aligned), in a ``table`` with a caption when titled."""
    spec = "".join("r" if num else "l" for num in numeric)
    body = [f"\\begin{{tabular}}{{{spec}}}", "\\toprule", " & ".join(latex_escape(c) for c in cols) + r" \\",
            "\\midrule"]
    body += [" & ".join(latex_escape(v) for v in row) + r" \\" for row in cells]
    body += ["\\bottomrule", "\\end{tabular}"]
    if title is None:
        return "\n".join(body)
    return "\n".join(["\\begin{table}[htbp]", "\\centering", f"\\caption{{{latex_escape(title)}}}", *body,
                      "\\end{table}"])


def _is_num(value: Any) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)) or value is None


def _csv_cell(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    if isinstance(value, float) and math.isnan(value):
        return ""
    return value


def key_values(pairs: Sequence[tuple[str, Any]]) -> str:
    """Aligned ``key: value`` lines."""
    width = max(len(k) for k, _ in pairs)
    return "\n".join(f"{k.ljust(width)}  {_cell(v)}" for k, v in pairs)
