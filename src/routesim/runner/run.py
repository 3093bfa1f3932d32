"""Running a scenario: scenario -> network state by epoch -> routes -> simulation -> tables."""

from __future__ import annotations

import difflib
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
from routesim.demand.prices import Prices, price_warnings, scenario_prices
from routesim.errors import RoutesimError
from routesim.events.eventset import EventSet, load_events
from routesim.events.files import TIER_HOLD, TIER_SCENARIO, EventRecord
from routesim.io.results import SUMMARY_COLUMNS, RunTables, write_table
from routesim.io.scenario_file import LoadedScenario
from routesim.models.scenario import Scenario, closure_event, hold_event
from routesim.network.graph import Network
from routesim.runner.plausibility import plausibility
from routesim.runner.validate import scenario_network


def scenario_events(network: Network, loaded: LoadedScenario) -> EventSet:
    """Built-in library (if enabled) and event files (after ``exclude`` and ``shift``), inline events,
    closures and holds, by the priority of :class:`routesim.models.scenario.EventsConfig`."""
    sc = loaded.scenario
    doc = loaded.doc
    extra = [
        EventRecord(ev, doc.file_of(("events", "inline", i)), doc.line(("events", "inline", i)),
                    {k: doc.line(("events", "inline", i, k)) for k in ("where", "action")}, tier=TIER_SCENARIO)
        for i, ev in enumerate(sc.events.inline)
    ] + [
        EventRecord(closure_event(c, i, sc), doc.file_of(("closures", i)), doc.line(("closures", i)),
                    {"where": doc.line(("closures", i, "where"))}, tier=TIER_SCENARIO)
        for i, c in enumerate(sc.closures)
    ] + [
        EventRecord(hold_event(h, i, sc), doc.file_of(("events", "holds", i)), doc.line(("events", "holds", i)),
                    {"where": doc.line(("events", "holds", i, "where"))}, tier=TIER_HOLD)
        for i, h in enumerate(sc.events.holds)
    ]
    files = [loaded.resolve(f) for f in sc.events.files]
    use_control = sc.events.builtin if sc.events.control is None else sc.events.control
    control = read_control([loaded.resolve(f) for f in sc.events.control_files]) if use_control else False
    return load_events(network, files, builtin=sc.events.builtin, extra=extra, control=control,
                       exclude=sc.events.exclude, shift=sc.events.shift, locate=doc.problem)


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
        value_of_time_usd_h=scenario.costs.value_of_time_usd_h, actor=scenario.actor,
    )
    tables = RunTables(summary=_run_rows(scenario, len(flows), None) + impact.summary(), od=impact.od_frame(),
                       segments=impact.segments(network))
    return impact, tables


def simulated_tables(network: Network, events: EventSet, scenario: Scenario, flows: list[Flow], prices: Prices,
                     route_level: RunTables, *, seed: int, progress: bool, trips: Path | None = None,
                     until_ci: float | None = None, ci_metric: str = "total_cost_usd") -> RunTables:
    """Simulate the flows and merge the results with the route-level tables.

    ``trips``: file the trips of every replication are written to as they finish
    (``None``: not kept); ``until_ci``/``ci_metric``: stop the replications early
    (:func:`routesim.sim.run_replications`). ``extra`` gets ``daily.csv`` and
    ``replications.csv`` (each replication's summary metrics and input draws).

    The summary gets the ``run`` rows, the simulated (``sim``) rows, then the
    route-level (``route``) ones. In ``segments``, ``trucks``/``vehicle_km``
    become ``route_trucks``/``route_vehicle_km`` and the simulated ``trucks``,
    ``tons``, ``vehicle_km`` and ``mean_delay_h`` are added. ``od`` gains the
    simulated per-flow figures as ``sim_*`` columns (means over replications).
    """
    from routesim.sim.replications import run_replications

    sim = run_replications(network, events, flows, scenario, prices, seed=seed, progress=progress, trips=trips,
                           until_ci=until_ci, ci_metric=ci_metric)
    route_rows = [r for r in route_level.summary if r["engine"] == "route"]
    summary = _run_rows(scenario, len(flows), len(sim.seeds)) + sim.summary() + route_rows

    seg = route_level.segments.rename(columns={"trucks": "route_trucks", "vehicle_km": "route_vehicle_km"})
    seg = seg.merge(sim.segments(), on="segment", how="left")
    for col in ("trucks", "tons", "vehicle_km", "mean_delay_h"):
        seg[col] = seg[col].fillna(0.0)

    per_flow = sim.flows().rename(columns=lambda c: c if c == "flow" else f"sim_{c}")
    od = route_level.od.merge(per_flow, on="flow", how="left") if not route_level.od.empty else route_level.od

    extra: dict[str, pd.DataFrame] = {"daily.csv": sim.daily(), "replications.csv": sim.replications()}
    return RunTables(summary=summary, od=od, segments=seg, extra=extra, seeds=sim.seeds)


def _check_until_ci(until_ci: float | None, ci_metric: str) -> None:
    """Refuse a precision outside (0, 1] or a metric the simulation does not report."""
    if until_ci is None:
        return
    from routesim.sim.replications import SIM_METRICS

    if not 0 < until_ci <= 1:
        raise RoutesimError(f"--until-ci: {until_ci:g} is no relative precision in (0, 1] (e.g. 1% or 0.01)")
    names = [m for m, _ in SIM_METRICS]
    if ci_metric not in names:
        close = difflib.get_close_matches(ci_metric, names, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else f"; one of {', '.join(names)}"
        raise RoutesimError(f"--ci-metric: unknown metric {ci_metric!r}{hint}")


def _draws_entry(scenario: Scenario, *, seed: int, n: int) -> dict[str, Any]:
    """``replication_draws`` for the manifest: each replication's input factors (none without uncertainty)."""
    if scenario.uncertainty is None or n == 0:
        return {}
    from routesim.sim.draws import replication_draws

    draws = replication_draws(scenario.uncertainty, seed=seed, n=n)
    return {"replication_draws": [{"replication": r, **d} for r, d in enumerate(draws, start=1)]}


def run_scenario(
    loaded: LoadedScenario,
    *,
    out: str | Path = "results",
    seed: int | None = None,
    replications: int | None = None,
    workers: int | None = None,
    progress: bool = True,
    until_ci: float | None = None,
    ci_metric: str = "total_cost_usd",
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
    until_ci, ci_metric
        Run replications only until the 95 % interval of ``ci_metric`` (default
        ``total_cost_usd``) has a half-width within ``until_ci`` (0.01: 1 %) of its
        mean, at most ``simulation.replications`` (``None``, the default: all).

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
    _check_until_ci(until_ci, ci_metric)
    network = scenario_network(loaded)
    events = scenario_events(network, loaded)
    price = scenario_prices(loaded)
    flows = scenario_flows(sc)
    _, tables = route_tables(network, events, sc, flows, price)
    target = Path(out) / sc.name
    with atomic_dir(target) as tmp:
        if sc.demand and sc.simulation.freight:
            # Trips stream into the result's temporary folder, replication by replication.
            trips = tmp / f"trips.{sc.outputs.trips_format}" if sc.outputs.trips else None
            tables = simulated_tables(network, events, sc, flows, price, tables, seed=seed, progress=progress,
                                      trips=trips, until_ci=until_ci, ci_metric=ci_metric)
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
                **_draws_entry(sc, seed=seed, n=len(tables.seeds)),
                "events": len(events),
                "event_warnings": events.warnings,
                "price_warnings": price_warnings(loaded, price),
                "plausibility": plausibility(tables.summary, tables.segments),
                "started": started.isoformat(),
                "finished": finished.isoformat(),
                "duration_s": round(time.perf_counter() - t0, 3),
                "files": [*sorted(p.name for p in tmp.iterdir()), "manifest.json"],
            },
        )
    return target, tables.summary
