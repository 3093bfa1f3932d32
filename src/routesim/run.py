"""Running a scenario: scenario -> network state by epoch -> routes -> (simulation) -> tables."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from routesim import __version__
from routesim.events import EventRecord, EventSet, load_events
from routesim.impact import route_impact
from routesim.io import load_network
from routesim.network import Network
from routesim.results import RunTables, atomic_dir, write_json, write_table
from routesim.scenario import LoadedScenario, closure_event, prices

SUMMARY_COLUMNS = ["metric", "value", "unit", "low", "high"]


def scenario_events(network: Network, loaded: LoadedScenario) -> EventSet:
    """Built-in library (if enabled), event files, inline events and closures."""
    sc = loaded.scenario
    extra = [
        EventRecord(ev, str(loaded.path), loaded.doc.line(("events", "inline", i)), None)
        for i, ev in enumerate(sc.events.inline)
    ] + [
        EventRecord(closure_event(c, i, sc), str(loaded.path), loaded.doc.line(("closures", i)), None)
        for i, c in enumerate(sc.closures)
    ]
    files = [loaded.resolve(f) for f in sc.events.files]
    return load_events(network, files, builtin=sc.events.builtin, extra=extra)


def _summary(totals: dict[str, float], days: int, n_legs: int) -> list[dict[str, Any]]:
    t = totals.get
    tons = t("tons", 0.0)

    def per_ton(x: float) -> float:
        return x / tons if tons else float("nan")

    rows = [
        ("days", days, "d"),
        ("flows", n_legs, "count"),
        ("trips", t("trips", 0.0), "trips"),
        ("trips_unserved", t("unserved", 0.0), "trips"),
        ("tons_delivered", tons, "t"),
        ("vehicle_km", t("vkm", 0.0), "km"),
        ("baseline_vehicle_km", t("base_vkm", 0.0), "km"),
        ("extra_vehicle_km", t("vkm", 0.0) - t("base_vkm", 0.0), "km"),
        ("truck_hours", t("hours", 0.0), "h"),
        ("extra_truck_hours", t("hours", 0.0) - t("base_hours", 0.0), "h"),
        ("fuel_l", t("fuel_l", 0.0), "L"),
        ("extra_fuel_l", t("fuel_l", 0.0) - t("base_fuel_l", 0.0), "L"),
        ("fuel_cost_syp", t("fuel_syp", 0.0), "SYP"),
        ("fuel_cost_usd", t("fuel_usd", 0.0), "USD"),
        ("extra_fuel_cost_usd", t("fuel_usd", 0.0) - t("base_fuel_usd", 0.0), "USD"),
        ("fees_usd", t("fees_usd", 0.0), "USD"),
        ("time_cost_usd", t("time_usd", 0.0), "USD"),
        ("total_cost_usd", t("cost_usd", 0.0), "USD"),
        ("extra_cost_usd", t("cost_usd", 0.0) - t("base_cost_usd", 0.0), "USD"),
        ("cost_per_ton_usd", per_ton(t("cost_usd", 0.0)), "USD/t"),
        ("extra_cost_per_ton_usd", per_ton(t("cost_usd", 0.0) - t("base_cost_usd", 0.0)), "USD/t"),
    ]
    return [{"metric": m, "value": v, "unit": u, "low": None, "high": None} for m, v, u in rows]


def _segments(network: Network, stats: dict[str, np.ndarray]) -> pd.DataFrame:
    e = network.edges
    frame = pd.DataFrame(
        {
            "segment": e.segment.astype(str),
            "ref": e.ref.astype(str),
            "km": e.length_m / 1000.0,
            "days_closed_car": stats["days_closed_car"],
            "days_closed_truck": stats["days_closed_truck"],
            "trucks": stats["trucks"],
        }
    )
    frame["vehicle_km"] = frame["trucks"] * frame["km"]
    return (
        frame.groupby("segment", sort=True)
        .agg(ref=("ref", "first"), km=("km", "first"), days_closed_car=("days_closed_car", "max"),
             days_closed_truck=("days_closed_truck", "max"), trucks=("trucks", "sum"),
             vehicle_km=("vehicle_km", "sum"))
        .reset_index()
    )


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

    Route-level impact (``od.csv``, ``route_*`` metrics) always; with demand and
    ``simulation.freight`` (the default), the freight simulation too
    (:mod:`routesim.simulate`: ``trips``, ``daily``, simulated ``summary`` and
    ``segments`` figures).

    Parameters
    ----------
    loaded
        From :func:`routesim.scenario.load_scenario`.
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
    network = load_network(sc.network if sc.network == "syria" else loaded.resolve(sc.network))
    events = scenario_events(network, loaded)
    price = prices(loaded)
    od_rows, totals, edge_stats = route_impact(network, events, sc, price)
    summary = _summary(totals, (sc.end - sc.start).days, len(od_rows))
    segments = _segments(network, edge_stats)
    od = pd.DataFrame(od_rows)
    if not od.empty:
        od["roads"] = od["roads"].map(" > ".join)
    tables = RunTables(summary=summary, od=od, segments=segments)
    if sc.demand and sc.simulation.freight:
        from routesim.simulate import simulate_scenario

        tables = simulate_scenario(network, events, sc, price, tables, seed=seed, progress=progress)
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
