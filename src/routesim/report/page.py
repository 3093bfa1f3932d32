"""The report of result folders: one self-contained HTML page that reads on screen and prints (to PDF too).

Per run: the scenario in words, the headline figures with their 95 %
intervals, a map of the network on the run's day with the simulated trucks as
line widths, the per-day chart with closure and reopening dates, and the OD and
busiest-segment tables; for several runs, the comparison against the first.
Maps are PNG and charts SVG, both inlined: the file needs nothing beside it.
"""

from __future__ import annotations

import base64
import html
import math
import tempfile
from collections.abc import Mapping, Sequence
from datetime import date as Date
from pathlib import Path
from typing import Any

from routesim._util.dates import parse_date
from routesim._util.files import atomic_path
from routesim.errors import RoutesimError
from routesim.network.graph import Network
from routesim.report.runs import RunFolder, event_marks, load_run

#: Headline metrics of a run, in this order: ``(engine, metric, label)``.
HEADLINE = (
    ("sim", "delivered", "trips delivered"),
    ("sim", "trips_unserved", "trips not served (no route on the day)"),
    ("sim", "stranded", "trucks stranded"),
    ("sim", "tons_delivered", "tonnes delivered"),
    ("sim", "vehicle_km", "vehicle-km"),
    ("sim", "mean_trip_hours", "mean trip, hours"),
    ("sim", "fuel_l", "diesel, litres"),
    ("sim", "total_cost_usd", "total cost, USD"),
    ("sim", "cost_per_ton_usd", "cost per tonne, USD"),
    ("route", "extra_vehicle_km", "extra vehicle-km against the open network (route level)"),
    ("route", "extra_cost_usd", "extra cost against the open network, USD (route level)"),
)
OD_COLUMNS = ("flow", "origin", "destination", "trucks_per_day", "reachable_share", "baseline_distance_km",
              "distance_km", "detour_km", "extra_time_h", "sim_delivered", "sim_mean_hours", "sim_cost_per_ton_usd")
SEGMENT_COLUMNS = ("segment", "ref", "km", "days_closed_truck", "trucks", "tons", "vehicle_km", "mean_delay_h")
#: Busiest segments listed per run.
TOP_SEGMENTS = 15

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111827;max-width:1060px;
margin:0 auto;padding:16px 20px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:28px 0 6px;border-bottom:2px solid #e5e7eb}
h3{font-size:15px;margin:16px 0 6px}p{margin:4px 0}
table{border-collapse:collapse;font-size:12.5px;margin:6px 0 10px}th,td{padding:3px 8px;border-bottom:1px solid #e5e7eb;
text-align:right;vertical-align:top}th{background:#f3f4f6}td.t,th.t{text-align:left}
.tw{overflow-x:auto}figure{margin:8px 0;break-inside:avoid}figure img,figure svg{width:100%;height:auto;display:block}
figcaption{font-size:12px;color:#4b5563}.muted{color:#6b7280;font-size:12px}
.pos{color:#b91c1c}.neg{color:#15803d}
@media print{body{max-width:none;padding:0;font-size:11px}section.run{break-before:page}
section.run:first-of-type{break-before:auto}table{font-size:8.5px}th,td{padding:2px 4px}h2{margin-top:0}
@page{size:A4;margin:14mm}}
"""


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if abs(value) >= 1000 or value.is_integer():
            return f"{value:,.0f}"
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return html.escape(str(value))


def _table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], *, text: Sequence[str] = ()) -> str:
    # Column names break after their underscores, so a wide table still fits a printed page.
    head = "".join(f'<th class="{"t" if c in text else ""}">{html.escape(c).replace("_", "_<wbr>")}</th>'
                   for c in columns)
    body = []
    for r in rows:
        cells = "".join(f'<td class="{"t" if c in text else ""}">{_fmt(r.get(c))}</td>' for c in columns)
        body.append(f"<tr>{cells}</tr>")
    return f'<div class="tw"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def _summary_value(run: RunFolder, engine: str, metric: str) -> tuple[float, float, float, str] | None:
    s = run.summary
    row = s[(s["engine"] == engine) & (s["metric"] == metric)]
    if row.empty:
        return None
    r = row.iloc[0]
    return float(r["value"]), float(r.get("low", math.nan)), float(r.get("high", math.nan)), str(r.get("unit", ""))


def _headline(runs: Sequence[RunFolder], i: int) -> str:
    run, first = runs[i], runs[0]
    rows = []
    for engine, metric, label in HEADLINE:
        got = _summary_value(run, engine, metric)
        if got is None:
            continue
        value, low, high, unit = got
        interval = f"{_fmt(low)} – {_fmt(high)}" if not (math.isnan(low) or math.isnan(high)) else ""
        row = {"figure": label, "value": value, "95 % interval": interval, "unit": unit}
        if i > 0:
            ref = _summary_value(first, engine, metric)
            if ref is not None:
                delta = value - ref[0]
                row[f"Δ vs {first.name}"] = delta
                row["Δ %"] = 100 * delta / ref[0] if ref[0] else math.nan
        rows.append(row)
    cols = ["figure", "value", "95 % interval", "unit"] + ([f"Δ vs {first.name}", "Δ %"] if i > 0 else [])
    return _table(rows, cols, text=("figure", "unit", "95 % interval"))


def scenario_words(run: RunFolder) -> str:
    """The scenario of a run in a few sentences."""
    sc = run.scenario
    start, end = run.period
    days = (end - start).days
    parts = []
    if sc.get("description"):
        parts.append(html.escape(str(sc["description"])))
    when = f"from {start.isoformat()} to {end.isoformat()} ({days} days)" if days else f"on {start.isoformat()}"
    parts.append(f"Simulated {when} on the network <code>{html.escape(run.network)}</code>.")
    flows = []
    for d in sc.get("demand") or []:
        size = (f"{d['trucks_per_day']:g} trucks/day" if d.get("trucks_per_day") else
                f"{d.get('tons_per_day') or 0:g} t/day")
        both = " both ways" if d.get("both_directions") else ""
        flows.append(f"{html.escape(str(d.get('origin')))} → {html.escape(str(d.get('destination')))}: {size}{both}")
    if flows:
        parts.append("Demand: " + "; ".join(flows) + ".")
    ev = sc.get("events") or {}
    extra = len(ev.get("files") or []) + len(ev.get("inline") or [])
    lib = "the built-in event library and control tables" if ev.get("builtin", True) else "no built-in events"
    parts.append(f"Events: {lib}" + (f", plus {extra} of the scenario's own" if extra else "") + ".")
    if sc.get("closures"):
        parts.append("Closed throughout: " + ", ".join(html.escape(str(c)) for c in sc["closures"]) + ".")
    reps = run.manifest.get("replication_seeds") or []
    parts.append(f"Replications: {max(len(reps), 1)}; seed {run.manifest.get('seed')}; routesim "
                 f"{html.escape(str(run.manifest.get('routesim_version', '')))}.")
    return "<p>" + " ".join(parts) + "</p>"


def _map_figure(run: RunFolder, network: Network, day: Date, workdir: Path) -> str:
    from routesim.report.maps import render_map
    from routesim.report.scene import build_scene

    scene = build_scene(network, date=day, run=run.path, title=f"{run.name}: network on {day.isoformat()}")
    png = workdir / f"{run.name}.png"
    render_map(scene, png, width_in=10, dpi=110)
    data = base64.b64encode(png.read_bytes()).decode("ascii")
    counts = scene.status_counts()
    caption = (f"Road state on {day.isoformat()} ({counts['closed']} lines closed, {counts['restricted']} restricted, "
               f"{counts['night-closed']} closed at night); blue widths: simulated trucks over the period.")
    return (f'<figure><img alt="map of {html.escape(run.name)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{caption}</figcaption></figure>")


def _chart(run: RunFolder, network: Network, salt: str) -> str:
    if run.daily is None or run.daily.empty:
        return '<p class="muted">No simulation in this run: no per-day chart.</p>'
    from matplotlib import rc_context

    from routesim.report.charts import daily_figure, figure_svg

    start, end = run.period
    marks = event_marks(network, start, end)
    # Distinct ids per inline SVG: charts of one page must not share clip paths.
    with rc_context({"svg.hashsalt": salt, "svg.fonttype": "none"}):
        svg = figure_svg(daily_figure(run.daily, title=f"{run.name}: per day", marks=marks))
    caption = (f"Mean over replications. Dashed lines: {sum(m.kind == 'closed' for m in marks)} closures (red) and "
               f"{sum(m.kind == 'reopened' for m in marks)} reopenings (green) of the event library in the period.")
    return f"<figure>{svg}<figcaption>{caption}</figcaption></figure>"


def _records(frame: Any) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in r.items()} for r in frame.to_dict("records")]


def _od(run: RunFolder) -> str:
    cols = [c for c in OD_COLUMNS if c in run.od.columns]
    return _table(_records(run.od[cols]), cols, text=("flow", "origin", "destination"))


def _segments(run: RunFolder) -> str:
    seg = run.segments
    key = "trucks" if "trucks" in seg.columns and seg["trucks"].sum() > 0 else "route_trucks"
    if key not in seg.columns:
        return ""
    top = seg.sort_values(key, ascending=False).head(TOP_SEGMENTS)
    cols = [c for c in SEGMENT_COLUMNS if c in seg.columns]
    if key not in cols:
        cols.append(key)
    return _table(_records(top[cols]), cols, text=("segment", "ref"))


def _comparison(runs: Sequence[RunFolder]) -> str:
    from routesim.analysis.compare import compare

    rows = [r for r in compare([r.path for r in runs]) if r.get("engine") in ("sim", "route")]
    if not rows:
        return ""
    cols = list(rows[0].keys())
    return ("<section><h2>Comparison</h2><p>Every figure of the runs' <code>summary.csv</code> against "
            f"{html.escape(runs[0].name)}.</p>" + _table(rows, cols, text=("engine", "metric", "unit")) + "</section>")


def report_html(paths: Sequence[str | Path], *, date: str | Date | None = None) -> str:
    """The report page of result folders ``paths`` (the first is the reference of the deltas).

    Parameters
    ----------
    paths
        Folders written by ``routesim run``.
    date
        Day of every map; default each run's ``date``, else the first day of its period.
    """
    if not paths:
        raise RoutesimError("report: give at least one result folder")
    from routesim.io.graphfiles import load_network

    runs = [load_run(p) for p in paths]
    day = parse_date(date) if date is not None else None
    sections = []
    notices = set()
    with tempfile.TemporaryDirectory(prefix="routesim-report-") as tmp:
        for i, run in enumerate(runs):
            net = load_network(run.network)
            if "openstreetmap" in str(net.meta.get("attribution", "")).lower():
                notices.add("Map data © OpenStreetMap contributors (ODbL 1.0).")
            when = day or run.map_date
            sections.append(
                f'<section class="run"><h2>{html.escape(run.name)}</h2>{scenario_words(run)}'
                f"<h3>Headline figures</h3>{_headline(runs, i)}"
                f"<h3>Map</h3>{_map_figure(run, net, when, Path(tmp))}"
                f"<h3>Per day</h3>{_chart(run, net, f'run{i}')}"
                f"<h3>Flows (od.csv)</h3>{_od(run)}"
                f"<h3>Busiest segments (segments.csv, top {TOP_SEGMENTS})</h3>{_segments(run)}</section>"
            )
    comparison = _comparison(runs) if len(runs) > 1 else ""
    names = ", ".join(r.name for r in runs)
    notice = "".join(f" {n}" for n in sorted(notices))
    title = f"routesim report: {names}"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>{html.escape(title)}</h1><p class=\"muted\">{len(runs)} run(s). Intervals are 95 % over "
        f"replications where the run had several.{notice}</p></header>"
        f"{comparison}{''.join(sections)}</body></html>"
    )


def write_report(paths: Sequence[str | Path], output: str | Path, *, date: str | Date | None = None) -> Path:
    """Write :func:`report_html` to ``output`` atomically; returns the path."""
    target = Path(output)
    text = report_html(paths, date=date)
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return target
