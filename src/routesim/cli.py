"""Command-line interface: a thin shell over the Python API.

User errors (unknown places, bad selectors, malformed files) print one message
per problem on stderr and exit with status 2, never a traceback.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from routesim.errors import RoutesimError
from routesim.io import load_network, save_network
from routesim.tables import key_values, render

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    help="Route and logistics impact simulator for Syria's road network.",
)
network_app = typer.Typer(no_args_is_help=True, help="Inspect and export the road network.")
app.add_typer(network_app, name="network")


class Vehicle(StrEnum):
    car = "car"
    truck = "truck"


class Weight(StrEnum):
    time = "time"
    distance = "distance"


class RouteFormat(StrEnum):
    table = "table"
    json = "json"


class TableFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


NetworkOpt = Annotated[
    str, typer.Option("--network", help="'syria' (embedded) or a .graphml/.geojson/.gpkg/.osm file.")
]


@app.command()
def route(
    origin: Annotated[str, typer.Argument(help="Place name (any spelling), node id or 'lat,lon'.")],
    destination: Annotated[str, typer.Argument(help="Place name, node id or 'lat,lon'.")],
    close: Annotated[
        list[str] | None,
        typer.Option("--close", help="Close a segment id, ROAD:FROM:TO, a road or a crossing. Repeatable."),
    ] = None,
    vehicle: Annotated[Vehicle, typer.Option(help="Vehicle class.")] = Vehicle.car,
    weight: Annotated[Weight, typer.Option(help="Minimise travel time or distance.")] = Weight.time,
    fmt: Annotated[RouteFormat, typer.Option("--format", help="Output format.")] = RouteFormat.table,
    network: NetworkOpt = "syria",
) -> None:
    """Best route, with detour and extra time against the open network."""
    net = load_network(network)
    result = net.detour(
        origin, destination, closures=tuple(close or ()), vehicle=vehicle.value, weight=weight.value
    )
    data = result.to_dict()
    if fmt is RouteFormat.json:
        typer.echo(json.dumps(data, indent=2))
        return
    typer.echo(_route_text(data, close or []))


def _route_text(d: dict, closed: list[str]) -> str:
    head = f"{d['origin']} -> {d['destination']} ({d['vehicle']}, fastest by {d['weight']})"
    if closed:
        head += f"\nclosed: {', '.join(closed)}"
    if not d["reachable"]:
        return (
            f"{head}\nNo route: {d['destination']} cannot be reached from {d['origin']} "
            f"with these closures.\nbaseline (nothing closed): {d['baseline_distance_km']} km, "
            f"{d['baseline_time_h']} h"
        )
    pairs = [
        ("distance_km", d["distance_km"]),
        ("time_h", d["time_h"]),
        ("roads", " > ".join(d["roads"])),
        ("via", " > ".join(d["via"])),
        ("baseline_distance_km", d["baseline_distance_km"]),
        ("baseline_time_h", d["baseline_time_h"]),
        ("detour_km", d["detour_km"]),
        ("extra_time_h", d["extra_time_h"]),
    ]
    for k in ("date", "closed_segments"):
        if k in d:
            v = d[k]
            pairs.append((k, ", ".join(v) if isinstance(v, list) else v))
    return head + "\n" + key_values(pairs)


@network_app.command("info")
def network_info(
    network: NetworkOpt = "syria",
    fmt: Annotated[TableFormat, typer.Option("--format")] = TableFormat.table,
) -> None:
    """Places, segments, and km by road and by class."""
    from routesim.summary import network_summary

    s = network_summary(load_network(network))
    if fmt is TableFormat.json:
        typer.echo(json.dumps(s, indent=2))
        return
    if fmt is TableFormat.csv:
        typer.echo(render(s["by_road"], fmt="csv"))
        return
    typer.echo(key_values([(k, s[k]) for k in ("nodes", "places", "segments", "km_total")]))
    typer.echo("")
    typer.echo(render(s["by_road"], title="km by road"))
    typer.echo("")
    typer.echo(render(s["by_class"], title="km by class"))


@network_app.command("export")
def network_export(
    path: Annotated[Path, typer.Argument(help="Output file: .graphml, .geojson or .gpkg")],
    network: NetworkOpt = "syria",
) -> None:
    """Export the network (GraphML for osmnx, GeoJSON or GeoPackage for GIS)."""
    out = save_network(load_network(network), path)
    typer.echo(f"wrote {out}")


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``routesim`` console script (exits; status 2 on user errors)."""
    try:
        app(args=argv, prog_name="routesim")
    except RoutesimError as exc:
        for line in str(exc).splitlines():
            typer.echo(f"routesim: error: {line}", err=True)
        sys.exit(2)
