"""Charts of runs and timelines (matplotlib, object API): per-day trucks, cost and fuel; a trip by epoch."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from routesim._util.dates import parse_date
from routesim._util.files import atomic_path
from routesim.errors import RoutesimError
from routesim.report import style
from routesim.report.runs import Mark, daily_means

CHART_SUFFIXES = (".png", ".svg", ".pdf")
#: Marks labelled on a chart at most; more are drawn unlabelled.
_MAX_LABELS = 10
_MARK_COLOURS = {"closed": style.STATUS_COLOURS[style.CLOSED], "reopened": "#15803d"}


def _marks(ax: Any, marks: Sequence[Mark], *, label: bool) -> None:
    import matplotlib.dates as mdates

    for i, m in enumerate(marks):
        x = mdates.date2num(np.datetime64(m.day.isoformat()))
        ax.axvline(x, color=_MARK_COLOURS.get(m.kind, "#6b7280"), lw=1, ls="--", alpha=0.8, zorder=1)
        if label and i < _MAX_LABELS:
            ax.annotate(f"{m.kind}: {m.event}", (x, 1), xycoords=("data", "axes fraction"), xytext=(2, -3),
                        textcoords="offset points", rotation=90, va="top", ha="left", fontsize=6,
                        color=_MARK_COLOURS.get(m.kind, "#6b7280"))


def daily_figure(daily: Any, *, title: str, marks: Sequence[Mark] = ()) -> Any:
    """Two panels from a run's ``daily.csv``: trucks dispatched, delivered and in transit; fuel cost and litres.

    Closure and reopening dates (``marks``) are dashed lines, red and green.
    """
    from matplotlib.figure import Figure

    d = daily_means(daily)
    fig = Figure(figsize=(10, 5.6), dpi=100)
    top, bottom = fig.subplots(2, 1, sharex=True)
    for col, colour, label in (("dispatched", "#1d4ed8", "dispatched"), ("delivered", "#15803d", "delivered"),
                               ("in_transit", "#f59e0b", "in transit (end of day)"),
                               ("stranded", style.STATUS_COLOURS[style.CLOSED], "stranded")):
        if col in d.columns and (col != "stranded" or d[col].sum() > 0):
            top.plot(d.index, d[col], color=colour, lw=1.3, label=label)
    top.set_ylabel("trucks per day")
    top.legend(loc="upper left", fontsize=8, ncols=4, frameon=False, bbox_to_anchor=(0, 1.16))
    cost = "fuel_cost_usd"
    if cost in d.columns:
        bottom.plot(d.index, d[cost] / 1000, color="#7c2d12", lw=1.3, label="fuel cost (thousand USD)")
    bottom.set_ylabel("fuel cost, k USD/day")
    if "fuel_l" in d.columns:
        twin = bottom.twinx()
        twin.plot(d.index, d["fuel_l"] / 1000, color="#6b7280", lw=1, ls=":", label="fuel (thousand L)")
        twin.set_ylabel("fuel, thousand L/day", color="#6b7280")
        lines = bottom.get_lines() + twin.get_lines()
        bottom.legend(lines, [str(line.get_label()) for line in lines], loc="lower left", fontsize=8, frameon=False)
    for ax in (top, bottom):
        _marks(ax, marks, label=ax is top)
        ax.grid(alpha=0.3)
        ax.margins(x=0)
    fig.suptitle(title, x=0.01, ha="left", fontsize=12, fontweight="bold")
    fig.subplots_adjust(left=0.08, right=0.92, top=0.86, bottom=0.08, hspace=0.12)
    return fig


def timeline_figure(rows: Sequence[Mapping[str, Any]], *, title: str) -> Any:
    """A trip epoch by epoch (rows of :func:`routesim.events.timeline.timeline`): hours and km; no route: shaded."""
    import matplotlib.dates as mdates
    from matplotlib.figure import Figure

    if not rows:
        raise RoutesimError("the timeline has no epochs to plot")
    starts = [np.datetime64(parse_date(str(r["start"])).isoformat()) for r in rows]
    ends = [np.datetime64(parse_date(str(r["end"])).isoformat()) for r in rows]
    fig = Figure(figsize=(10, 4.2), dpi=100)
    ax = fig.add_subplot()
    twin = ax.twinx()
    for a, b, r in zip(starts, ends, rows, strict=True):
        x = mdates.date2num([a, b])
        if not r.get("reachable"):
            ax.axvspan(x[0], x[1], color=style.STATUS_COLOURS[style.CLOSED], alpha=0.15, lw=0)
            continue
        ax.plot(x, [r["time_h"]] * 2, color=style.ROUTE_COLOUR, lw=2.2, solid_capstyle="butt")
        twin.plot(x, [r["distance_km"]] * 2, color="#6b7280", lw=1.2, ls="--", solid_capstyle="butt")
    ax.xaxis_date()
    ax.set_ylabel("hours", color=style.ROUTE_COLOUR)
    twin.set_ylabel("km (dashed)", color="#6b7280")
    ax.set_ylim(bottom=0)
    twin.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    ax.legend(handles=[Line2D([], [], color=style.ROUTE_COLOUR, lw=2.2, label="hours"),
                       Line2D([], [], color="#6b7280", lw=1.2, ls="--", label="km"),
                       Patch(color=style.STATUS_COLOURS[style.CLOSED], alpha=0.3, label="no route")],
              loc="lower right", fontsize=8, ncols=3)
    fig.suptitle(title, x=0.01, ha="left", fontsize=12, fontweight="bold")
    fig.subplots_adjust(left=0.07, right=0.92, top=0.88, bottom=0.1)
    return fig


def save_figure(fig: Any, path: str | Path, *, dpi: int = 120) -> Path:
    """Write a figure by extension (.png, .svg, .pdf), atomically."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in CHART_SUFFIXES:
        raise RoutesimError(f"{target}: a chart is .png, .svg or .pdf")
    FigureCanvasAgg(fig)
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format=suffix[1:], dpi=dpi, facecolor="white")
    return target


def figure_svg(fig: Any) -> str:
    """A figure as inline SVG markup (no XML prolog), for a self-contained page."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.StringIO()
    fig.savefig(buf, format="svg", facecolor="white")
    text = buf.getvalue()
    return text[text.index("<svg"):]
