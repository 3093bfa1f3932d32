"""Commands: routesim map / report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from routesim.errors import RoutesimError

MAP_SUFFIXES = (".png", ".svg", ".pdf", ".html")


def _pairs(routes: list[str] | None) -> list[tuple[str, str]]:
    """``A:B`` strings as ``(A, B)``; the colon joins places as in segment selectors (``M5:Hama:Aleppo``)."""
    out = []
    for r in routes or []:
        a, sep, b = r.partition(":")
        if not sep or not a.strip() or not b.strip():
            raise RoutesimError(f"--route {r!r}: give ORIGIN:DESTINATION, e.g. --route Damascus:Aleppo")
        out.append((a.strip(), b.strip()))
    return out


def map_command(
    output: Annotated[Path, typer.Option("-o", "--output", help="Map file: .png, .svg, .pdf or .html (interactive).")],
    date: Annotated[str | None, typer.Option("--date", help="Draw the network state on this day (YYYY-MM-DD).")] = None,
    route: Annotated[
        list[str] | None,
        typer.Option("--route", metavar="A:B",
                     help="Draw the route from A to B on --date, and its baseline. Repeatable."),
    ] = None,
    run: Annotated[
        Path | None, typer.Option("--run", help="A result folder: trucks per segment (segments.csv) as line widths.")
    ] = None,
    criticality: Annotated[
        Path | None,
        typer.Option("--criticality", help="CSV with a 'segment' (or 'u','v') column and a value to colour by."),
    ] = None,
    value: Annotated[
        str | None, typer.Option("--value", help="The --criticality column to colour by (default: its last numeric).")
    ] = None,
    bbox: Annotated[
        tuple[float, float, float, float] | None,
        typer.Option("--bbox", metavar="W S E N", help="Map only this box (degrees): faster, slip roads and towns."),
    ] = None,
    arabic: Annotated[bool, typer.Option("--arabic", help="Arabic place names beside the Latin ones (HTML).")] = False,
    actor: Annotated[str, typer.Option("--actor", help="Who travels: commercial, un, military or civilian.")] = (
        "commercial"),
    network: Annotated[
        str | None, typer.Option("--network", help="Network (default: the run's, else 'syria').")
    ] = None,
    vehicle: Annotated[str, typer.Option("--vehicle", help="Vehicle of the routes: truck or car.")] = "truck",
    dpi: Annotated[int, typer.Option("--dpi", help="Resolution of a PNG.")] = 150,
) -> None:
    """Draw the road network on a date: state of each road, areas of control, crossings, routes, flows."""
    suffix = output.suffix.lower()
    if suffix not in MAP_SUFFIXES:
        raise RoutesimError(f"{output}: the map is written as one of {', '.join(MAP_SUFFIXES)}")
    from routesim.io.graphfiles import load_network
    from routesim.report.runs import run_network

    net = load_network(network or (run_network(run) if run is not None else "syria"))
    from routesim.report.scene import build_scene

    scene = build_scene(net, date=date, routes=_pairs(route), run=run, criticality=criticality, value_column=value,
                        bbox=bbox, actor=actor, vehicle=vehicle, arabic=arabic)
    if suffix == ".html":
        from routesim.report.html import write_html_map

        write_html_map(scene, output)
    else:
        if arabic:
            typer.echo("routesim: warning: Arabic labels are drawn in HTML maps only (matplotlib cannot join "
                       "Arabic letters)", err=True)
        from routesim.report.maps import render_map

        render_map(scene, output, dpi=dpi)
    for r in scene.routes:
        typer.echo(r.caption)
    typer.echo(f"wrote {output}")


def report_command(
    runs: Annotated[list[Path], typer.Argument(help="Result folders of routesim run; the first is the reference.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The report: one self-contained HTML file.")] = Path(
        "report.html"),
    date: Annotated[
        str | None, typer.Option("--date", help="Day of the maps (default: each run's date, else its first day).")
    ] = None,
) -> None:
    """One self-contained HTML page on one or several runs: scenario, headline figures, maps, charts, tables."""
    if output.suffix.lower() not in (".html", ".htm"):
        raise RoutesimError(f"{output}: the report is an .html file")
    from routesim.report.page import write_report

    write_report(runs, output, date=date)
    typer.echo(f"wrote {output}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("map")(map_command)
    app.command("report")(report_command)
