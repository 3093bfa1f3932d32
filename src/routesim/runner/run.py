"""Running a scenario: scenario -> network state by epoch -> routes -> simulation -> tables."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from routesim._util.files import atomic_dir, write_json
from routesim._util.version import __version__
from routesim.analysis.impact import RouteImpact, route_impact
from routesim.control import read_control
from routesim.demand.costs import DailyPrices
from routesim.demand.flows import Flow, scenario_flows
from routesim.demand.prices import Prices, scenario_prices
from routesim.events.eventset import EventSet, load_events
from routesim.events.files import EventRecord
from routesim.io.results import SUMMARY_COLUMNS, RunTables, write_table
from routesim.io.scenario_file import LoadedScenario
from routesim.models.scenario import Scenario, closure_event
from routesim.network.graph import Network
from routesim.runner.validate import scenario_network


def scenario_events(network: Network, loaded: LoadedScenario) -> EventSet:
    """Built-in library (if enabled), event files, inline events and closures."""
    sc = loaded.scenario
    doc = loaded.doc
    extra = [
        EventRecord(ev, str(loaded.path), doc.line(("events", "inline", i)),
                    {k: doc.line(("events", "inline", i, k)) for k in ("where", "action")})
        for i, ev in enumerate(sc.events.inline)
    ] + [
        EventRecord(closure_event(c, i, sc), str(loaded.path), doc.line(("closures", i)),
                    {"where": doc.line(("closures", i, "where"))})
        for i, c in enumerate(sc.closures)
    ]
    files = [loaded.resolve(f) for f in sc.events.files]
    use_control = sc.events.builtin if sc.events.control is None else sc.events.control
    control = read_control([loaded.resolve(f) for f in sc.events.control_files]) if use_control else False
    return load_events(network, files, builtin=sc.events.builtin, extra=extra, control=control)


def _run_rows(scenario: Scenario, n_flows: int, replications: int | None) -> list[dict[str, Any]]:
    rows = [("days", (scenario.end - scenario.start).days, "d"), ("flows", n_flows, "count")]
    if replications is not None:
        rows.append(("replications", replications, "count"))
    return [{"engine": "run", "metric": m, "value": v, "unit": u, "low": None, "high": None} for m, v, u in rows]


def route_tables(network: Network, events: EventSet, scenario: Scenario, flows: list[Flow],
                 prices: Prices) -> tuple[RouteImpact, RunTables]:
    """The route-level estimate and the tables it fills (summary, od, segments)."""
    impact = route_impact(
        network, events, flows, start=scenario.start, end=scenario.end,
        prices=DailyPrices.over(prices, scenario.start, scenario.end),
        value_of_time_usd_h=scenario.costs.value_of_time_usd_h,
    )
    tables = RunTables(summary=_run_rows(scenario, len(flows), None) + impact.summary(), od=impact.od_frame(),
                       segments=impact.segments(network))
    return impact, tables


def simulated_tables(network: Network, events: EventSet, scenario: Scenario, flows: list[Flow], prices: Prices,
                     route_level: RunTables, *, seed: int, progress: bool) -> RunTables:
    """Simulate the flows and merge the results with the route-level tables.

    The summary gets the ``run`` rows, the simulated (``sim``) rows, then the
    route-level (``route``) ones. In ``segments``, ``trucks``/``vehicle_km``
    become ``route_trucks``/``route_vehicle_km`` and the simulated ``trucks``,
    ``tons``, ``vehicle_km`` and ``mean_delay_h`` are added. ``od`` gains the
    simulated per-flow figures as ``sim_*`` columns (means over replications).
    """
    from routesim.sim.replications import run_replications

    sim = run_replications(network, events, flows, scenario, prices, seed=seed, progress=progress)
    route_rows = [r for r in route_level.summary if r["engine"] == "route"]
    summary = _run_rows(scenario, len(flows), len(sim.seeds)) + sim.summary() + route_rows

    seg = route_level.segments.rename(columns={"trucks": "route_trucks", "vehicle_km": "route_vehicle_km"})
    seg = seg.merge(sim.segments(), on="segment", how="left")
    for col in ("trucks", "tons", "vehicle_km", "mean_delay_h"):
        seg[col] = seg[col].fillna(0.0)

    per_flow = sim.flows().rename(columns=lambda c: c if c == "flow" else f"sim_{c}")
    od = route_level.od.merge(per_flow, on="flow", how="left") if not route_level.od.empty else route_level.od

    extra: dict[str, pd.DataFrame] = {"daily.csv": sim.daily()}
    if scenario.outputs.trips:
        extra[f"trips.{scenario.outputs.trips_format}"] = sim.trips()
    return RunTables(summary=summary, od=od, segments=seg, extra=extra, seeds=sim.seeds)


def run_scenario(
    loaded: LoadedScenario,
    *,
    out: str | Path = "results",
    seed: int | None = None,
    replications: int | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> tuple[Path, list[dict[str, Any]]]:
    """Run a scenario and write its tables to ``out/<name>/`` atomically.

    The route-level estimate always; with demand and ``simulation.freight``
    (the default), the freight simulation too (``trips``, ``daily``, simulated
    ``summary``, ``od`` and ``segments`` figures). The network is the one the
    scenario was checked against, if it was (:func:`routesim.runner.load_scenario`).

    Parameters
    ----------
    loaded
        From :func:`routesim.runner.load_scenario`.
    out
        Parent directory of the result folder (default ``results``).
    seed
        Overrides ``simulation.seed``.
    replications, workers
        Override ``simulation.replications`` and ``simulation.workers``.
    progress
        Progress bar of the simulation on a terminal (never when stderr is not one).

    Returns
    -------
    (directory, summary rows)
    """
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    sc = loaded.scenario
    overrides = {k: v for k, v in (("replications", replications), ("workers", workers)) if v is not None}
    if overrides:
        sc = sc.model_copy(update={"simulation": sc.simulation.model_copy(update=overrides)})
    seed = sc.simulation.seed if seed is None else seed
    network = scenario_network(loaded)
    events = scenario_events(network, loaded)
    price = scenario_prices(loaded)
    flows = scenario_flows(sc)
    _, tables = route_tables(network, events, sc, flows, price)
    if sc.demand and sc.simulation.freight:
        tables = simulated_tables(network, events, sc, flows, price, tables, seed=seed, progress=progress)
    target = Path(out) / sc.name
    with atomic_dir(target) as tmp:
        write_table(pd.DataFrame(tables.summary, columns=SUMMARY_COLUMNS), tmp / "summary.csv")
        write_table(tables.od, tmp / "od.csv")
        write_table(tables.segments, tmp / "segments.csv")
        for name, frame in tables.extra.items():
            write_table(frame, tmp / name, decimals=4 if name.startswith("trips") else 6)
        finished = datetime.now(UTC)
        write_json(
            tmp / "manifest.json",
            {
                "scenario": str(loaded.path),
                "scenario_sha256": loaded.sha256,
                "scenario_files": [str(f) for f in loaded.files],
                "resolved_scenario": sc.model_dump(mode="json"),
                "routesim_version": __version__,
                "seed": seed,
                "replication_seeds": tables.seeds,
                "events": len(events),
                "event_warnings": events.warnings,
                "started": started.isoformat(),
                "finished": finished.isoformat(),
                "duration_s": round(time.perf_counter() - t0, 3),
                "files": [*sorted(p.name for p in tmp.iterdir()), "manifest.json"],
            },
        )
    return target, tables.summary
