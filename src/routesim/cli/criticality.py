"""Commands: routesim criticality / reopen."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date as Date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from routesim.cli.options import Actor as _Actor
from routesim.cli.options import TableFormat as _Format
from routesim.cli.options import Vehicle as _Vehicle
from routesim.cli.options import Weight as _Weight
from routesim.cli.render import render
from routesim.errors import RoutesimError

if TYPE_CHECKING:
    from routesim.demand.costs import DailyPrices
    from routesim.demand.flows import Flow
    from routesim.demand.prices import Prices
    from routesim.events.eventset import EventSet
    from routesim.io.scenario_file import LoadedScenario
    from routesim.network.graph import Network
    from routesim.network.state import NetworkState


_DateOpt = Annotated[
    str | None, typer.Option("--date", help="Network state of this day (YYYY-MM-DD): events and the ground.")]
_ScenarioOpt = Annotated[
    Path | None, typer.Option("--scenario", help="Scenario YAML: its network, events, demand and prices.")]
_NetworkOpt = Annotated[
    str, typer.Option("--network", help="Network without --scenario: 'syria' (built in), a .rsnet, a .graphml ...")]
_TopOpt = Annotated[int, typer.Option("--top", min=0, help="Rows printed (the files hold all).")]
_FormatOpt = Annotated[_Format, typer.Option("--format", help="Format of the printed rows.")]
_ActorOpt = Annotated[_Actor | None, typer.Option(
    "--actor", help="Who travels: which crossings of front lines are open (default: the scenario's, or commercial).")]


@dataclass
class _Inputs:
    network: Network
    events: EventSet | None
    day: Date | None
    flows: list[Flow]
    prices: Prices | None
    value_of_time_usd_h: float
    name: str
    actor: str = "commercial"
    start: Date | None = None
    end: Date | None = None
    loaded: LoadedScenario | None = None


def _inputs(scenario: Path | None, date: str | None, network: str, actor: _Actor | None) -> _Inputs:
    """Network, events, day and (with a scenario) demand and prices."""
    from routesim._util.dates import parse_date

    day = parse_date(date) if date is not None else None
    if scenario is None:
        from routesim.events.eventset import as_event_set
        from routesim.io.graphfiles import load_network

        net = load_network(network)
        events = as_event_set(net, None) if day is not None else None
        return _Inputs(net, events, day, [], None, 0.0, "network", actor.value if actor else "commercial")
    from routesim.demand.flows import scenario_flows
    from routesim.demand.prices import scenario_prices
    from routesim.runner.run import scenario_events
    from routesim.runner.validate import load_scenario, scenario_network

    loaded = load_scenario(scenario)
    sc = loaded.scenario
    net = scenario_network(loaded)
    return _Inputs(net, scenario_events(net, loaded), day, scenario_flows(sc), scenario_prices(loaded),
                   sc.costs.value_of_time_usd_h, sc.name, actor.value if actor else str(sc.actor), sc.start, sc.end,
                   loaded)


def _state(inp: _Inputs) -> NetworkState:
    day = inp.day if inp.day is not None else inp.start
    if day is None or inp.events is None:
        return inp.network.base_state()
    return inp.events.state_at(day, actor=inp.actor)


def _day_prices(inp: _Inputs, day: Date) -> DailyPrices:
    from datetime import timedelta

    from routesim.demand.costs import DailyPrices

    assert inp.prices is not None
    return DailyPrices.over(inp.prices, day, day + timedelta(days=1))


def _selector(text: str) -> Any:
    """A selector given on the command line: text, or JSON for an area, a bbox or a polygon."""
    stripped = text.strip()
    if stripped.startswith(("{", "[")):
        try:
            return json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise RoutesimError(f"--group {text!r}: not valid JSON ({exc.msg} at column {exc.colno})") from None
    return stripped


def _echo_rows(frame: Any, *, fmt: _Format, top: int, title: str) -> None:
    rows = frame.head(top).to_dict(orient="records")
    if rows:
        typer.echo(render(rows, fmt=fmt.value, title=title if fmt is _Format.table else None,
                          columns=list(frame.columns)))


def criticality(
    date: _DateOpt = None,
    scenario: _ScenarioOpt = None,
    network: _NetworkOpt = "syria",
    roads: Annotated[list[str] | None, typer.Option(
        "--roads", help="Only links touching these roads or sections (M5, M5:Hama:Aleppo; comma-separated, "
        "repeatable).")] = None,
    all_links: Annotated[bool, typer.Option(
        "--all", help="Every link (the default unless --roads or --group).")] = False,
    edges: Annotated[bool, typer.Option("--edges", help="Links are single directed edges (RA2CE's unit), "
                                                         "not road sections between junctions.")] = False,
    group: Annotated[list[str] | None, typer.Option(
        "--group", help="Close a whole group: a road, ROAD:FROM:TO, or JSON {\"area\": ...}/{\"polygon\": ...}. "
        "Repeatable.")] = None,
    vehicle: Annotated[_Vehicle, typer.Option("--vehicle", help="Vehicle class.")] = _Vehicle.truck,
    weight: Annotated[_Weight, typer.Option("--weight", help="Minimise time or distance (RA2CE: length).")] = (
        _Weight.time),
    actor: _ActorOpt = None,
    out: Annotated[Path, typer.Option("--out", help="Folder of links.csv/.gpkg (and groups.csv/.gpkg).")] = Path(
        "results/criticality"),
    top: _TopOpt = 10,
    fmt: _FormatOpt = _Format.table,
) -> None:
    """Single- and multi-link redundancy: each link closed alone (or each group whole) on the state of the day.

    For every link: the best alternative between its ends, its km and hours, the
    detour, and whether the ends stay connected. With --scenario, the extra
    vehicle-km, truck-hours, fuel and USD per day that closing it costs the
    scenario's demand, and the OD pairs it disconnects, ranked. The state is that
    of --date (default: the scenario's start; without either, the open network).
    """
    import numpy as np

    from routesim._util.files import atomic_path
    from routesim.analysis.criticality import (
        DemandRoutes,
        demand_losses,
        edge_links,
        group_lines,
        groups_from,
        link_lines,
        multi_link,
        sections,
        single_link,
    )

    if roads and all_links:
        raise RoutesimError("give --roads or --all, not both")
    inp = _inputs(scenario, date, network, actor)
    net = inp.network
    state = _state(inp)
    every = edge_links(net) if edges else sections(net)
    links = every
    demand = None
    if inp.flows:
        day = inp.day or inp.start
        assert day is not None
        demand = DemandRoutes(net, state, inp.flows, prices=_day_prices(inp, day),
                              value_of_time_usd_h=inp.value_of_time_usd_h)
    written: list[Path] = []
    if roads or all_links or not group:
        if roads:
            mask = np.zeros(net.edges.n, dtype=bool)
            for text in roads:
                for part in (p.strip() for p in text.split(",")):
                    if part:
                        mask |= net.select(part)
            links = links.touching(mask)
        frame = single_link(net, state, links=links, vehicle=vehicle.value, weight=weight.value)
        if demand is not None:
            frame = demand_losses(frame, links, demand)
        else:
            key = "extra_time_h" if weight is _Weight.time else "detour_km"
            frame = frame.sort_values(key, ascending=False, na_position="last", kind="stable").reset_index(drop=True)
        from routesim.analysis.criticality import segment_table, write_layers
        from routesim.io.results import write_table

        written += write_layers(frame, link_lines(net, links, frame["link"].tolist()), out, "links")
        key = "extra_time_h" if weight is _Weight.time else "detour_km"
        values = ["detour_km", "extra_time_h"] if key == "extra_time_h" else ["extra_time_h", "detour_km"]
        if demand is not None:
            values += ["extra_vehicle_km", "extra_truck_hours", "trips_unserved", "extra_cost_usd"]
        with atomic_path(out / "segments.csv") as tmp:
            write_table(segment_table(net, links, frame, values), tmp)
        written.append(out / "segments.csv")
        cut = frame["cut"].value_counts()
        typer.echo(f"{len(frame)} link(s), {int(frame['closed'].sum())} closed on the day, "
                   f"{int(cut.drop('', errors='ignore').sum())} without an alternative ({int(cut.get('network', 0))} "
                   f"bridges of the network, {int(cut.get('start', 0)) + int(cut.get('end', 0))} the only way out of "
                   "their start or into their end)", err=True)
        _echo_rows(frame.drop(columns=["group"]), fmt=fmt, top=top, title="links")
    if group:
        from routesim.analysis.criticality import write_layers

        groups = groups_from(net, [_selector(g) for g in group])
        per_link, summary = multi_link(net, state, groups, links=every, vehicle=vehicle.value, weight=weight.value,
                                       demand=demand)
        by_label = {g.label: g for g in groups}
        written += write_layers(summary, [group_lines(net, by_label[str(x)].mask) for x in summary["group"]], out,
                                "groups")
        written += write_layers(per_link, link_lines(net, every, per_link["link"].tolist()), out, "group_links")
        _echo_rows(summary, fmt=fmt, top=max(top, len(summary)), title="groups")
    for p in written:
        typer.echo(f"wrote {p}", err=True)


def reopen(
    scenario: Annotated[Path | None, typer.Option(
        "--scenario", help="Scenario YAML: its demand, prices, events and closures (required).")] = None,
    date: Annotated[str | None, typer.Option(
        "--date", help="Value per day on this day (default: totals over the scenario's period).")] = None,
    simulate: Annotated[int, typer.Option(
        "--simulate", min=0, max=50, help="Also run the freight simulation for the top N closures, each "
        "held open (sim_* columns).")] = 0,
    actor: _ActorOpt = None,
    out: Annotated[Path, typer.Option("--out", help="Folder of reopen.csv and reopen.gpkg.")] = Path(
        "results/reopen"),
    top: _TopOpt = 10,
    fmt: _FormatOpt = _Format.table,
) -> None:
    """The value of reopening each closure in force alone, for the scenario's demand, ranked.

    Closures: events in force (library, event files, the scenario's events and
    closures) and stretches of front line or siege ring. Route level: vehicle-km,
    truck-hours, fuel and USD saved, and trips no longer unserved; per day on
    --date, else totals over the scenario's period. --simulate N adds the freight
    simulation's figures for the top N, each run with the closure held open.
    """
    from routesim.analysis.criticality import group_lines, write_layers
    from routesim.analysis.reopen import reopen_day, reopen_period

    if scenario is None:
        raise RoutesimError("reopen values closures for a demand: give --scenario (with --date for one day)")
    inp = _inputs(scenario, date, "syria", actor)
    if not inp.flows:
        raise RoutesimError(f"{scenario}: the scenario has no demand to value closures for")
    assert inp.events is not None and inp.prices is not None and inp.start is not None and inp.end is not None
    if inp.day is not None:
        frame = reopen_day(inp.network, inp.events, inp.flows, day=inp.day, prices=_day_prices(inp, inp.day),
                           value_of_time_usd_h=inp.value_of_time_usd_h, actor=inp.actor)
    else:
        frame = reopen_period(inp.network, inp.events, inp.flows, start=inp.start, end=inp.end, prices=inp.prices,
                              value_of_time_usd_h=inp.value_of_time_usd_h, actor=inp.actor)
    net = inp.network
    masks = _closure_masks(net, inp)
    if simulate:
        frame = _simulated(inp, frame, masks, simulate)
    geoms = [group_lines(net, masks[c]) if c in masks else None for c in frame["closure"]]
    written = write_layers(frame, geoms, out, "reopen")
    _echo_rows(frame, fmt=fmt, top=top, title="value of reopening each closure alone")
    for p in written:
        typer.echo(f"wrote {p}", err=True)


def _closure_masks(net: Network, inp: _Inputs) -> dict[str, Any]:
    """Edges of each closure in force on the day (or on each epoch's first day), for the map layer."""
    import numpy as np

    from routesim.analysis.reopen import closures_in_force

    assert inp.events is not None and inp.start is not None and inp.end is not None
    days = [inp.day] if inp.day is not None else [ep.start for ep in inp.events.epochs(inp.start, inp.end)]
    masks: dict[str, Any] = {}
    for d in days:
        for c in closures_in_force(inp.events, inp.events.state_at(d, actor=inp.actor), actor=inp.actor):
            m = masks.setdefault(c.id, np.zeros(net.edges.n, dtype=bool))
            m[c.edges] = True
    return masks


#: Simulated metrics compared, as (column, summary metric, sign): saved = now - reopened.
_SIM_COLUMNS = (
    ("sim_saved_vehicle_km", "vehicle_km", 1.0), ("sim_saved_truck_hours", "truck_hours", 1.0),
    ("sim_saved_fuel_l", "fuel_l", 1.0), ("sim_saved_cost_usd", "total_cost_usd", 1.0),
    ("sim_extra_delivered", "delivered", -1.0),
)


def _simulated(inp: _Inputs, frame: Any, masks: dict[str, Any], n: int) -> Any:
    """The freight simulation of the scenario (over --date's day, or its period) as it is, and with
    each of the top ``n`` closures held open (a scenario hold on its segments)."""
    import re
    from dataclasses import replace as dc_replace
    from datetime import timedelta

    from routesim.models.scenario import Hold, Period
    from routesim.runner.run import route_tables, scenario_events, simulated_tables

    assert inp.loaded is not None and inp.prices is not None
    loaded_sc, prices = inp.loaded, inp.prices
    sc = loaded_sc.scenario
    if inp.day is not None:
        sc = sc.model_copy(update={"period": Period(start=inp.day, end=inp.day + timedelta(days=1)), "date": None})
    e = inp.network.edges

    def totals(scen: Any) -> dict[str, float]:
        loaded = dc_replace(loaded_sc, scenario=scen)
        events = scenario_events(inp.network, loaded)
        _, route_level = route_tables(inp.network, events, scen, inp.flows, prices)
        tables = simulated_tables(inp.network, events, scen, inp.flows, prices, route_level,
                                  seed=scen.simulation.seed, progress=False)
        return {str(r["metric"]): float(r["value"]) for r in tables.summary if r["engine"] == "sim"}

    now = totals(sc)
    frame = frame.copy()
    for col, _, _ in _SIM_COLUMNS:
        frame[col] = float("nan")
    for row in frame.index[(frame["rank"] > 0)][:n]:
        cid = str(frame.at[row, "closure"])
        if cid not in masks:
            continue
        segments: list[Any] = sorted({str(x) for x in e.segment[masks[cid]]})
        hold = Hold(id=re.sub(r"[^A-Za-z0-9._-]", "-", f"reopen-{cid}")[:120], where=segments, state="open",
                    source="routesim reopen --simulate")
        events_cfg = sc.events.model_copy(update={"holds": [*sc.events.holds, hold]})
        after = totals(sc.model_copy(update={"events": events_cfg}))
        for col, metric, sign in _SIM_COLUMNS:
            frame.at[row, col] = sign * (now.get(metric, 0.0) - after.get(metric, 0.0))
    return frame


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("criticality")(criticality)
    app.command("reopen")(reopen)
