"""Command-line interface: a thin shell over the Python API.

User errors (unknown places, bad selectors, malformed files) print one message
per problem on stderr and exit with status 2, never a traceback. Commands
import what they use when they run, so ``routesim --help`` starts without
loading numpy, networkx or pandas.
"""

from __future__ import annotations

import errno
import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from routesim.cli.options import Actor, TableFormat, Vehicle, Weight
from routesim.cli.render import key_values, render
from routesim.errors import RoutesimError

if TYPE_CHECKING:
    from routesim.events.eventset import EventSet
    from routesim.network.graph import Network

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    help="Route and logistics impact simulator for Syria's road network.",
)
network_app = typer.Typer(no_args_is_help=True, help="Inspect and export the road network.")
app.add_typer(network_app, name="network")
events_app = typer.Typer(no_args_is_help=True, help="List and validate dated closure events.")
app.add_typer(events_app, name="events")


ActorOpt = Annotated[
    Actor,
    typer.Option("--actor", help="Who travels: decides which crossings of front lines are open on --date."),
]


class RouteFormat(StrEnum):
    table = "table"
    json = "json"
    geojson = "geojson"



def _load_network(source: str) -> Network:
    from routesim.io.graphfiles import load_network

    return load_network(source)


def _event_set(net: Network, events: list[str] | None, *, when: bool) -> EventSet | None:
    """The events to apply: None when no date is involved and no file was given."""
    if not when and not events:
        return None
    # Imported only now: an undated route loads none of the event machinery.
    from routesim.events.eventset import as_event_set

    eset = as_event_set(net, events)
    for w in eset.warnings:
        typer.echo(f"routesim: warning: {w}", err=True)
    return eset


DateOpt = Annotated[
    str | None, typer.Option("--date", help="Apply the events in force on this day (YYYY-MM-DD).")
]
EventsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--events",
        help="Extra event file(s) on top of the built-in library; 'none' leaves the library out. Repeatable.",
    ),
]
NetworkOpt = Annotated[
    str,
    typer.Option(
        "--network",
        help="'syria' (built in: OpenStreetMap, also 'syria-osm'; 'syria-full', 'syria-sketch'), a compiled .rsnet, "
        "a .graphml, "
        "or raw roads (.osm.pbf/.osm/.osm.bz2, GIS line layer: built once, then cached).",
    ),
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
    date: DateOpt = None,
    events: EventsOpt = None,
    network: NetworkOpt = "syria",
    actor: ActorOpt = Actor.commercial,
) -> None:
    """Best route, with detour and extra time against the open network.

    With --date, the events in force that day apply (the built-in library unless
    --events none); --close adds closures on top.
    """
    from routesim._util.dates import parse_date
    from routesim.models.vehicles import vehicle_index

    net = _load_network(network)
    eset = _event_set(net, events, when=date is not None)
    kw = {"vehicle": vehicle.value, "weight": weight.value}
    state = net.state(closures=tuple(close or ()), date=date, events=eset, actor=actor.value)
    result = net.detour(origin, destination, state=state, **kw)
    data: dict[str, Any] = result.to_dict()
    if date is not None:
        data["date"] = parse_date(date).isoformat()
        closed = state.closed[vehicle_index(vehicle.value)]
        data["closed_segments"] = list(
            dict.fromkeys(net.edges.segment_of(e) for e in result.baseline.edge_index if closed[e])
        )
        data["events_in_force"] = list(state.events)
        if eset is not None and eset.control is not None:
            data.update(eset.control.explain(
                parse_date(date), result.route.edge_index, net.resolve(origin).index,
                net.resolve(destination).index, reachable=result.route.reachable, actor=actor.value,
                baseline=result.baseline.edge_index))
    if fmt is RouteFormat.json:
        typer.echo(json.dumps(data, indent=2))
        return
    if fmt is RouteFormat.geojson:
        from routesim.report.geojson import route_geojson

        typer.echo(json.dumps(route_geojson(net, result, data)))
        return
    typer.echo(_route_text(data, close or []))


def _route_text(d: dict[str, Any], closed: list[str]) -> str:
    head = f"{d['origin']} -> {d['destination']} ({d['vehicle']}, fastest by {d['weight']})"
    if closed:
        head += f"\nclosed: {', '.join(closed)}"
    if not d["reachable"]:
        why = f"\nwhy: {d['why']}" if d.get("why") else ""
        return (
            f"{head}\nNo route: {d['destination']} cannot be reached from {d['origin']} "
            f"with these closures.{why}\nbaseline (nothing closed): {d['baseline_distance_km']} km, "
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
    for end in ("origin", "destination"):
        snap = d.get(f"{end}_snap_km") or 0.0
        if snap >= 0.05:
            pairs.append((f"{end}_snapped_km", snap))
    if d.get("zones"):
        pairs.append(("zones", " > ".join(d["zones"])))
    if d.get("crossings"):
        used = [f"{c['name']} ({c['sides']}; fee {c['fee_usd'] if c['fee_usd'] is not None else 'unknown'} USD, "
                f"delay {c['delay_min'] if c['delay_min'] is not None else 'unknown'} min)" for c in d["crossings"]]
        pairs.append(("crossings", "; ".join(used)))
    for k in ("date", "closed_segments"):
        if k in d:
            v = d[k]
            pairs.append((k, ", ".join(v) if isinstance(v, list) else v))
    return head + "\n" + key_values(pairs)


@app.command()
def timeline(
    origin: Annotated[str, typer.Argument(help="Place name, node id or 'lat,lon'.")],
    destination: Annotated[str, typer.Argument(help="Place name, node id or 'lat,lon'.")],
    start: Annotated[
        str | None, typer.Option("--start", help="First day (YYYY-MM-DD); with --scenario, default its start.")
    ] = None,
    end: Annotated[
        str | None,
        typer.Option("--end", help="Day after the last (YYYY-MM-DD, exclusive); with --scenario, default its end."),
    ] = None,
    events: EventsOpt = None,
    vehicle: Annotated[Vehicle, typer.Option(help="Vehicle class.")] = Vehicle.car,
    weight: Annotated[Weight, typer.Option(help="Minimise travel time or distance.")] = Weight.time,
    fmt: Annotated[TableFormat, typer.Option("--format", help="Output format.")] = TableFormat.table,
    network: NetworkOpt = "syria",
    actor: ActorOpt = Actor.commercial,
    scenario: Annotated[
        Path | None,
        typer.Option("--scenario", help="The network and events a scenario runs on (its library, files, "
                     "exclusions, shifts, inline events, closures, holds and ground)."),
    ] = None,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Also draw the epochs to this chart (.png, .svg or .pdf).")
    ] = None,
) -> None:
    """One row per epoch of constant network state between two places (--plot: and a chart of them)."""
    from routesim.events.timeline import TIMELINE_COLUMNS
    from routesim.events.timeline import timeline as run_timeline

    if scenario is not None:
        from routesim.runner.run import scenario_events
        from routesim.runner.validate import load_scenario

        if events or network != "syria":
            raise RoutesimError("--scenario gives the network and the events: leave out --events and --network")
        loaded = load_scenario(scenario)
        assert loaded.network is not None  # checked against it
        net = loaded.network
        runs_on = scenario_events(net, loaded)
        for w in runs_on.warnings:
            typer.echo(f"routesim: warning: {w}", err=True)
        eset: EventSet | None = runs_on
        start = start or loaded.scenario.start.isoformat()
        end = end or loaded.scenario.end.isoformat()
    else:
        if start is None or end is None:
            raise RoutesimError("give --start and --end (or --scenario FILE)")
        net = _load_network(network)
        eset = _event_set(net, events, when=True)
    rows = run_timeline(
        net, origin, destination, start=start, end=end, events=eset,
        vehicle=vehicle.value, weight=weight.value, actor=actor.value, as_frame=False,
    )
    typer.echo(render(rows, fmt=fmt.value, columns=TIMELINE_COLUMNS))
    if plot is not None:
        from routesim.report.charts import save_figure, timeline_figure

        title = f"{origin} → {destination} ({vehicle.value}), by epoch"
        save_figure(timeline_figure(rows, title=title), plot)
        typer.echo(f"wrote {plot}", err=True)


@events_app.command("list")
def events_list(
    date: DateOpt = None,
    events: EventsOpt = None,
    fmt: Annotated[TableFormat, typer.Option("--format", help="Output format.")] = TableFormat.table,
    network: NetworkOpt = "syria",
) -> None:
    """Events of the library (and --events files); with --date only those in force."""
    from routesim._util.dates import parse_date
    from routesim.models.selectors import describe

    net = _load_network(network)
    eset = _event_set(net, events, when=True)
    assert eset is not None
    recs = eset.records
    if date is not None:
        day = parse_date(date)
        recs = [r for r in recs if r.event.active_on(day)]
    rows = [
        {
            "id": r.event.id,
            "date": r.event.date.isoformat(),
            "end": r.event.end.isoformat() if r.event.end else "",
            "action": r.event.action,
            "where": describe(r.event.selector()),
            "applies_to": ",".join(r.event.applies_to or []),
            "segments": len(set(net.edges.segment_code[eset.mask(r.event.id)].tolist())),
            "source": r.event.source or "",
        }
        for r in recs
    ]
    if fmt is TableFormat.table:
        rows = [{k: v for k, v in row.items() if k != "source"} for row in rows]
    typer.echo(render(rows, fmt=fmt.value, columns=list(rows[0]) if rows else ["id"]))


@events_app.command("validate")
def events_validate(
    files: Annotated[list[Path], typer.Argument(help="Event YAML files.")],
    network: NetworkOpt = "syria",
) -> None:
    """Check event files (schema, dates, selectors against the network)."""
    from routesim.events.eventset import load_events

    net = _load_network(network)
    eset = load_events(net, files, builtin=False)
    for w in eset.warnings:
        typer.echo(f"routesim: warning: {w}", err=True)
    typer.echo(f"ok: {len(eset)} event(s) in {len(files)} file(s)")


@events_app.command("check")
def events_check(
    events: EventsOpt = None,
    fmt: Annotated[TableFormat, typer.Option("--format", help="Output format.")] = TableFormat.table,
    network: NetworkOpt = "syria",
) -> None:
    """Km each library event (and --events file) selects on a network; flags empty or implausible ones.

    Exits 1 when some event is flagged (rules: routesim.events.check), 0 otherwise.
    """
    from routesim.errors import InputFileError
    from routesim.events.check import check_events
    from routesim.events.files import builtin_library_path, read_event_files

    net = _load_network(network)
    paths: list[str | Path] = [builtin_library_path()]
    paths += [p for p in (events or []) if str(p).lower() not in ("builtin", "none")]
    if events and any(str(p).lower() == "none" for p in events):
        paths = paths[1:]
    records, problems = read_event_files(paths)
    if problems:
        raise InputFileError(problems)
    rows = [vars(r) for r in check_events(net, records)]
    typer.echo(render(rows, fmt=fmt.value, columns=["id", "where", "edges", "km", "flag"]))
    flagged = sum(1 for r in rows if r["flag"])
    typer.echo(f"{len(rows)} event(s), {flagged} flagged", err=True)
    if flagged:
        raise typer.Exit(1)


MaxTripsOpt = Annotated[
    int | None,
    typer.Option("--max-trips", min=1, help="Refuse runs of more trips than this (default: 200,000,000)."),
]
AllowLargeOpt = Annotated[
    bool, typer.Option("--allow-large", help="Run whatever the size estimate (trips, memory, disk) says."),
]


def _size_limits(max_trips: int | None, allow_large: bool) -> Any:
    from routesim.runner.estimate import MAX_TRIPS, SizeLimits

    return SizeLimits(max_trips=max_trips or MAX_TRIPS, allow_large=allow_large)


@app.command()
def validate(
    scenarios: Annotated[list[Path], typer.Argument(help="Scenario YAML files.")],
    max_trips: MaxTripsOpt = None,
    allow_large: AllowLargeOpt = False,
) -> None:
    """Check scenario files and everything a run reads (event, control, price and network files);
    print the run's size estimate and refuse runs beyond the limits."""
    from routesim.demand.prices import price_warnings
    from routesim.errors import InputFileError
    from routesim.runner.estimate import check_run_size, estimate_run
    from routesim.runner.validate import load_scenario

    problems = []
    for path in scenarios:
        try:
            loaded = load_scenario(path)
            estimate = estimate_run(loaded)
            check_run_size(loaded, estimate, _size_limits(max_trips, allow_large))
            typer.echo(f"ok: {path}\n  {estimate.text()}")
            for line in price_warnings(loaded):
                typer.echo(f"routesim: warning: {path}: {line}", err=True)
        except InputFileError as exc:
            problems += exc.problems
    if problems:
        raise InputFileError(problems)


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a scenario value: PATH=VALUE (YAML), PATH*=FACTOR scales it, "
                     "e.g. costs.diesel.value=200 or demand[*].trucks_per_day*=1.2. Repeatable."),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Parent folder of the result folder.")] = Path("results"),
    seed: Annotated[int | None, typer.Option("--seed", help="Override simulation.seed.")] = None,
    replications: Annotated[
        int | None, typer.Option("--replications", min=1, max=200, help="Override simulation.replications.")
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, max=256, help="Processes for replications (default: auto).")
    ] = None,
    max_trips: MaxTripsOpt = None,
    allow_large: AllowLargeOpt = False,
    until_ci: Annotated[
        str | None,
        typer.Option("--until-ci", help="Stop replicating once the 95% interval's half-width is within this share "
                     "of the mean (1% or 0.01); at most --replications / simulation.replications."),
    ] = None,
    ci_metric: Annotated[
        str, typer.Option("--ci-metric", help="Summary metric --until-ci watches.")
    ] = "total_cost_usd",
) -> None:
    """Run a scenario; write summary, od, segments, trips, daily tables and manifest.json to OUT/<name>/.

    With demand, trucks are simulated (simpy) unless simulation.freight is false.
    Runs beyond the size limits are refused before they start (see --max-trips).
    """
    from routesim._util.files import folder_lock
    from routesim.runner.estimate import check_run_size, check_space, estimate_run
    from routesim.runner.overrides import load_with_overrides, parse_assignment
    from routesim.runner.run import run_scenario

    # With no --set, this is load_scenario.
    loaded = load_with_overrides(scenario, [parse_assignment(s) for s in set_ or []])
    estimate = estimate_run(loaded, replications=replications, workers=workers)
    check_run_size(loaded, estimate, _size_limits(max_trips, allow_large))
    if not allow_large:
        check_space(out, estimate)
    # Held for the whole run: a second run into the same folder stops now, not after simulating.
    with folder_lock(out / loaded.scenario.name):
        target, summary = run_scenario(
            loaded, out=out, seed=seed, replications=replications, workers=workers,
            until_ci=_precision(until_ci), ci_metric=ci_metric,
        )
    typer.echo(render(summary, title=f"{target}"))
    _echo_warnings(target / "manifest.json")


def _echo_warnings(manifest: Path) -> None:
    """Print the warnings a run recorded in its manifest (prices, plausibility) on stderr."""
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    for key in ("price_warnings", "plausibility"):
        for line in data.get(key) or []:
            typer.echo(f"routesim: warning: {line}", err=True)


def _precision(text: str | None) -> float | None:
    """``--until-ci``: ``1%`` or ``0.01`` as a share (run_scenario checks the range)."""
    if text is None:
        return None
    raw = text.strip()
    try:
        return float(raw.removesuffix("%")) / (100.0 if raw.endswith("%") else 1.0)
    except ValueError:
        raise RoutesimError(f"--until-ci: {text!r} is no precision (e.g. 1% or 0.01)") from None


class CompareFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    markdown = "markdown"
    latex = "latex"


class CompareBy(StrEnum):
    metric = "metric"
    od = "od"


@app.command()
def compare(
    runs: Annotated[list[Path], typer.Argument(help="Result folders (the first is the reference).")],
    fmt: Annotated[CompareFormat, typer.Option("--format", help="Output format.")] = CompareFormat.table,
    by: Annotated[CompareBy, typer.Option("--by", help="Compare summary metrics or OD flows.")] = CompareBy.metric,
) -> None:
    """Metrics side by side with absolute and % deltas against the first run.

    With replications, each run's 95% interval and that of its difference from the
    first run (paired by replication when the seeds agree: common random numbers).
    """
    from routesim.analysis.compare import compare as run_compare

    typer.echo(render(run_compare(list(runs), by=by.value), fmt=fmt.value))


@app.command()
def schema(
    directory: Annotated[Path, typer.Argument(help="Folder for the JSON Schema files.")] = Path("docs/schema"),
) -> None:
    """Export the JSON Schemas of event and scenario files."""
    from routesim.models.schema import write_schemas

    for p in write_schemas(directory):
        typer.echo(f"wrote {p}")


@network_app.command("info")
def network_info(
    network: NetworkOpt = "syria",
    fmt: Annotated[TableFormat, typer.Option("--format")] = TableFormat.table,
) -> None:
    """Places, segments, and km by road and by class."""
    from routesim.network.summary import network_summary

    s = network_summary(_load_network(network))
    if fmt is TableFormat.json:
        typer.echo(json.dumps(s, indent=2))
        return
    if fmt is TableFormat.csv:
        typer.echo(render(s["by_road"], fmt="csv"))
        return
    keys = ("source", "attribution", "nodes", "edges", "places", "segments", "km_total", "components",
            "largest_component_nodes")
    typer.echo(key_values([(k, s[k]) for k in keys if s[k] != ""]))
    roads = sorted(s["by_road"], key=lambda r: -r["km"])
    shown = roads[:40]
    typer.echo("")
    more = f" (longest {len(shown)} of {len(roads)}; --format json for all)" if len(roads) > len(shown) else ""
    title = "km by road" + more
    typer.echo(render(shown, title=title))
    typer.echo("")
    typer.echo(render(s["by_class"], title="km by class"))
    if s["dropped"]:
        typer.echo("")
        typer.echo(render([{"reason": k, "ways": v} for k, v in s["dropped"].items()], title="dropped at import"))
    if s["patches"]:
        typer.echo("")
        rows = [{k: p.get(k, "") for k in ("id", "ref", "length_m", "reason", "source")} for p in s["patches"]]
        typer.echo(render(rows, title="patches applied to the source data"))
    if s["speed_overrides"]:
        typer.echo("")
        rows = [{k: o.get(k, "") for k in ("ref", "lines", "km", "reason", "source")} for o in s["speed_overrides"]]
        typer.echo(render(rows, title="speed overrides"))
    if s["built_up"]:
        b = s["built_up"]
        typer.echo("")
        typer.echo(f"built-up areas: {b.get('area_km2')} km² where residential streets reach "
                   f"{b.get('min_density_km_per_km2')} km/km² ({b.get('line_km_inside')} km of line inside, "
                   f"driven at most {b.get('maxspeed_factor', 0) * b.get('limit_kph', 0):.0f} km/h)")


@network_app.command("build")
def network_build(
    source: Annotated[
        Path, typer.Argument(help="OSM extract (.osm.pbf, .osm, .osm.bz2, .osm.gz) or a GIS line layer.")
    ],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Compiled network file (default: SOURCE name + .rsnet).")
    ] = None,
    profile: Annotated[str, typer.Option("--profile", help="Road profile: car or truck.")] = "car",
    layer: Annotated[str | None, typer.Option("--layer", help="GIS: the line layer (default: 'roads').")] = None,
) -> None:
    """Compile raw roads into a network file that every command accepts with --network."""
    import time

    from routesim.io.networks import build_network_file, compiled_summary

    t0 = time.perf_counter()
    target, roads = build_network_file(source, output, profile=profile, layer=layer)
    pairs = [(k, v) for k, v in compiled_summary(roads).items() if v not in ("", "{}")]
    typer.echo(key_values([*pairs, ("seconds", round(time.perf_counter() - t0, 1))]))
    typer.echo(f"wrote {target}")


@network_app.command("export")
def network_export(
    path: Annotated[Path, typer.Argument(help="Output file: .graphml, .geojson or .gpkg")],
    network: NetworkOpt = "syria",
    date: Annotated[
        str | None, typer.Option("--date", help="Add each edge's state on this day (events and ground) as columns.")
    ] = None,
    actor: ActorOpt = Actor.commercial,
) -> None:
    """Export the network (GraphML for osmnx, GeoJSON or GeoPackage for GIS)."""
    from routesim.io.graphfiles import save_network

    net = _load_network(network)
    out = save_network(net, path, state=net.state_at(date, actor=actor.value) if date is not None else None)
    typer.echo(f"wrote {out}")


#: Commands kept in modules of their own; each module has ``register(app)``.
_COMMAND_MODULES = ("scenarios", "criticality", "maps", "sweep")


def _register_commands() -> None:
    import importlib

    for name in _COMMAND_MODULES:
        importlib.import_module(f"routesim.cli.{name}").register(app)


_register_commands()


#: Failures of the file system a user can act on (permissions, full or read-only disk, bad paths):
#: reported as errors (exit 2) naming the path, not as tracebacks.
_USER_ERRNOS = frozenset({
    errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.ENOTDIR,
    errno.EISDIR, errno.ENOENT, errno.EEXIST, errno.ENAMETOOLONG, errno.ENOTEMPTY, errno.EXDEV, errno.ELOOP,
})
#: Exit status after Ctrl-C (SIGINT), as shells report it: 128 + 2.
EXIT_INTERRUPTED = 130


def _error(message: str, status: int = 2) -> NoReturn:
    for line in message.splitlines():
        typer.echo(f"routesim: error: {line}", err=True)
    sys.exit(status)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``routesim`` console script.

    Exits with status 2 on user errors and on file-system failures (a folder
    that cannot be written, a full disk), printing ``routesim: error: ...``; with
    130 and ``routesim: interrupted`` on Ctrl-C. Never a traceback for these: the
    atomic writers have removed their temporary files by the time it exits.
    """
    from routesim._util.interrupts import exit_interrupted

    try:
        app(args=argv, prog_name="routesim")
    except SystemExit as exc:
        if exc.code != EXIT_INTERRUPTED:
            raise
        # typer turns KeyboardInterrupt into exit 130, silently
        typer.echo("routesim: interrupted", err=True)
        exit_interrupted(EXIT_INTERRUPTED)
    except KeyboardInterrupt:
        typer.echo("routesim: interrupted", err=True)
        exit_interrupted(EXIT_INTERRUPTED)
    except RoutesimError as exc:
        _error(str(exc))
    except OSError as exc:
        if exc.errno not in _USER_ERRNOS:
            raise
        where = exc.filename if exc.filename is not None else ""
        other = f" -> {exc.filename2}" if exc.filename2 is not None else ""
        _error(f"{where}{other}: {exc.strerror or exc}" if where else str(exc.strerror or exc))
    except MemoryError:
        _error("out of memory; `routesim validate` estimates a run's size (fewer replications, a shorter period, "
               "or outputs.trips: false make it smaller)")
