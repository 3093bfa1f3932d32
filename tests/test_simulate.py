"""`routesim run` with freight simulation: tables, invariants, closures mid-period, replications, options.

The scenarios are written here (no built-in events, flat prices) so that every
expectation follows from the network's own routes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from routesim import TruckClass
from routesim.sim.replications import interval, replication_seeds

from .conftest import ROOT, run_cli

BASE = """name: {name}
network: syria-sketch
period: {{start: 2016-01-01, end: 2016-01-11}}
events: {{builtin: false}}
demand:
  - {{id: dam-alp, origin: Damascus, destination: Aleppo, trucks_per_day: 40.5, both_directions: true}}
  - {{id: homs-lat, origin: Homs, destination: Latakia, tons_per_day: 300}}
vehicles:
  truck: {{payload_t: 25, fuel_empty_l_100km: 28, fuel_loaded_l_100km: 38}}
costs:
  diesel: {{value: 500, currency: SYP}}
  exchange_rate: {{value: 1000}}
  value_of_time_usd_h: 10
simulation: {{seed: 5{simulation}}}
{extra}"""

CUT_DAY = "2016-01-05"


def scenario(tmp_path: Path, name: str, *, simulation: str = "", extra: str = "") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(BASE.format(name=name, simulation=simulation, extra=extra), encoding="utf-8")
    return path


def run(path: Path, out: Path, *args: str) -> Path:
    res = run_cli("run", str(path), "--out", str(out), *args)
    assert res.returncode == 0, res.stderr
    name = path.stem
    return out / name


def summary(d: Path, engine: str = "sim") -> pd.DataFrame:
    """The summary rows of one engine, and the run's own rows (days, flows, replications)."""
    s = pd.read_csv(d / "summary.csv")
    return s[s["engine"].isin([engine, "run"])].set_index("metric")


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("sim")
    out = tmp / "results"
    return {
        "base": run(scenario(tmp, "base"), out),
        "cut": run(scenario(tmp, "cut", extra=f"closures:\n  - {{where: M5:Hama:Aleppo, date: {CUT_DAY}}}\n"), out),
    }


def test_run_writes_trips_and_daily_tables_that_add_up(runs):
    for d in runs.values():
        files = {p.name for p in d.iterdir()}
        assert {"summary.csv", "od.csv", "segments.csv", "trips.csv", "daily.csv", "manifest.json"} <= files
        s, trips, daily = summary(d)["value"], pd.read_csv(d / "trips.csv"), pd.read_csv(d / "daily.csv")
        assert list(trips.columns[:4]) == ["replication", "trip_id", "flow", "vehicle"]
        # Every dispatched truck ends delivered, stranded or in transit.
        assert set(trips["status"]) <= {"delivered", "stranded", "in_transit"}
        assert len(trips) == s["trips_dispatched"] == s["delivered"] + s["stranded"] + s["in_transit"]
        assert (trips["status"] == "delivered").sum() == s["delivered"]
        assert daily["dispatched"].sum() == len(trips) and daily["delivered"].sum() == s["delivered"]
        # Totals are sums over trips (trip figures are rounded to 4 decimals in the file).
        for col, metric in [("fuel_l", "fuel_l"), ("km", "vehicle_km"), ("fuel_cost_usd", "fuel_cost_usd"),
                            ("hours", "truck_hours")]:
            assert trips[col].sum() == pytest.approx(s[metric], abs=len(trips) * 5e-5)
        # Fuel of each trip = km x L/100 km of its load (full loads here).
        np.testing.assert_allclose(trips["fuel_l"], trips["km"] * TruckClass().litres_per_km(1.0), atol=1e-3)
        np.testing.assert_allclose(trips["fuel_cost_usd"], trips["fuel_l"] * 500 / 1000, atol=1e-3)
        assert s["tons_delivered"] == pytest.approx(trips.loc[trips["status"] == "delivered", "tons"].sum())
        assert s["total_cost_usd"] == pytest.approx(s["fuel_cost_usd"] + s["time_cost_usd"], rel=1e-9)
        # The segment table carries the simulated use next to days closed.
        seg = pd.read_csv(d / "segments.csv").set_index("segment")
        assert {"days_closed_truck", "trucks", "tons", "vehicle_km", "mean_delay_h"} <= set(seg.columns)
        assert seg["vehicle_km"].sum() == pytest.approx(s["vehicle_km"], rel=1e-6)


def test_mid_period_m5_closure_reroutes_and_burns_the_detour_fuel(runs, net):
    base, cut = summary(runs["base"])["value"], summary(runs["cut"])["value"]
    assert base["reroutes"] == 0 and cut["reroutes"] > 0
    assert cut["vehicle_km"] > base["vehicle_km"] and cut["fuel_l"] > base["fuel_l"]
    # Expected extra fuel: trips leaving after the cut x detour km x L/km, per direction.
    trips = pd.read_csv(runs["cut"] / "trips.csv")
    rate = TruckClass().litres_per_km(1.0)
    after = trips["depart"] >= CUT_DAY
    expected = slack = 0.0
    for flow, (o, d) in {"dam-alp": ("Damascus", "Aleppo"), "dam-alp-back": ("Aleppo", "Damascus")}.items():
        detour = (net.route(o, d, vehicle="truck", closures=["M5:Hama:Aleppo"]).distance_km
                  - net.route(o, d, vehicle="truck").distance_km)
        assert detour > 30
        mine = (trips["flow"] == flow) & (trips["status"] == "delivered")
        expected += (mine & after).sum() * detour * rate
        slack += (mine & (trips["reroutes"] > 0)).sum() * 2 * detour * rate  # caught on the road at midnight
    base_trips = pd.read_csv(runs["base"] / "trips.csv")
    both = (trips["status"] == "delivered") & (base_trips["status"] == "delivered")
    extra = trips.loc[both, "fuel_l"].sum() - base_trips.loc[both, "fuel_l"].sum()
    assert abs(extra - expected) <= slack + 0.01 * expected
    # compare shows the deltas of the simulated totals.
    res = run_cli("compare", str(runs["base"]), str(runs["cut"]), "--format", "json")
    assert res.returncode == 0, res.stderr
    rows = {r["metric"]: r for r in json.loads(res.stdout) if r["engine"] != "route"}
    assert rows["fuel_l"]["delta cut"] == pytest.approx(cut["fuel_l"] - base["fuel_l"])
    assert rows["reroutes"]["delta cut"] == cut["reroutes"]
    assert rows["cost_per_ton_usd"]["delta cut"] > 0
    # Per flow: od.csv carries the simulated figures, and compare --by od shows them.
    od = pd.read_csv(runs["cut"] / "od.csv").set_index("flow")
    loaded = trips[trips["leg"] == "loaded"]
    assert od["sim_dispatched"].sum() == len(loaded)
    mine = loaded[(loaded["flow"] == "dam-alp") & (loaded["status"] == "delivered")]
    assert od.loc["dam-alp", "sim_mean_km"] == pytest.approx(mine["km"].mean(), abs=1e-3)
    res = run_cli("compare", str(runs["base"]), str(runs["cut"]), "--by", "od", "--format", "json")
    by_od = {(r["flow"], r["metric"]): r for r in json.loads(res.stdout)}
    assert by_od[("dam-alp", "sim_mean_km")]["delta cut"] > 0
    assert by_od[("homs-lat", "sim_mean_km")]["delta cut"] == pytest.approx(0, abs=1e-6)  # not on the M5 north


def test_replications_report_mean_and_95_percent_interval(tmp_path):
    d = run(scenario(tmp_path, "reps", simulation=", replications: 4"), tmp_path / "out")
    s = summary(d)
    trips = pd.read_csv(d / "trips.csv")
    assert sorted(trips["replication"].unique()) == [1, 2, 3, 4]
    assert s.loc["replications", "value"] == 4
    per_rep = trips.groupby("replication")["km"].sum()
    mean, low, high = interval(per_rep.tolist())
    assert s.loc["vehicle_km", "value"] == pytest.approx(mean, rel=1e-6)
    assert s.loc["vehicle_km", "low"] == pytest.approx(low, rel=1e-6)
    assert s.loc["vehicle_km", "high"] == pytest.approx(high, rel=1e-6)
    assert s.loc["vehicle_km", "low"] < s.loc["vehicle_km", "value"] < s.loc["vehicle_km", "high"]
    assert s.loc["trips_dispatched", "low"] < s.loc["trips_dispatched", "high"]  # 40.5 trucks/day: counts vary
    # Replication 1 is the same whether 1 or 4 are run (seeds are derived, not shifted).
    single = pd.read_csv(run(scenario(tmp_path, "one"), tmp_path / "out") / "trips.csv")
    first = trips[trips["replication"] == 1].reset_index(drop=True)
    pd.testing.assert_frame_equal(first, single)
    # Two worker processes give the same tables, byte for byte.
    par = run(scenario(tmp_path, "reps", simulation=", replications: 4"), tmp_path / "par", "--workers", "2")
    for table in ("summary.csv", "trips.csv", "daily.csv", "segments.csv", "od.csv"):
        assert (par / table).read_bytes() == (d / table).read_bytes()
    assert replication_seeds(5, 4)[:2] == replication_seeds(5, 2)
    assert len(set(replication_seeds(5, 4))) == 4
    # compare says whether intervals are disjoint: never against itself, blank without intervals.
    res = run_cli("compare", str(d), str(d), str(tmp_path / "out" / "one"), "--format", "json")
    assert res.returncode == 0, res.stderr
    rows = {r["metric"]: r for r in json.loads(res.stdout) if r["engine"] != "route"}
    itself = next(k for k in rows["vehicle_km"] if k.startswith("differs reps"))
    assert {r[itself] for r in rows.values()} <= {"no", ""} and rows["vehicle_km"][itself] == "no"
    other = next(k for k in rows["vehicle_km"] if k.startswith("differs one"))
    assert rows["vehicle_km"][other] == ""


def test_interval_is_the_student_t_interval_of_the_mean():
    from scipy import stats

    x = [10.0, 12.5, 9.0, 11.0, 14.0]
    mean, low, high = interval(x)
    expected = stats.t.interval(0.95, len(x) - 1, loc=np.mean(x), scale=stats.sem(x))
    assert mean == pytest.approx(np.mean(x)) and (low, high) == pytest.approx(expected)
    assert interval([3.0, 3.0, 3.0]) == (3.0, 3.0, 3.0)
    mean, low, high = interval([1.0])
    assert mean == 1.0 and np.isnan(low) and np.isnan(high)


def test_trips_as_parquet_and_route_level_only(tmp_path):
    pq = run(scenario(tmp_path, "pq", extra="outputs: {trips_format: parquet}\n"), tmp_path / "out")
    assert not (pq / "trips.csv").exists()
    trips = pd.read_parquet(pq / "trips.parquet")
    assert len(trips) == summary(pq).loc["trips_dispatched", "value"]
    route = run(scenario(tmp_path, "route", simulation=", freight: false"), tmp_path / "out")
    assert {p.name for p in route.iterdir()} == {"summary.csv", "od.csv", "segments.csv", "manifest.json"}
    s = pd.read_csv(route / "summary.csv")
    assert set(s["engine"]) == {"run", "route"} and "extra_vehicle_km" in set(s["metric"])
    none = run(scenario(tmp_path, "none", extra="outputs: {trips: false}\n"), tmp_path / "out")
    assert not (none / "trips.csv").exists() and (none / "daily.csv").exists()


def test_progress_bar_only_on_a_terminal(tmp_path):
    path = scenario(tmp_path, "bar")
    res = run_cli("run", str(path), "--out", str(tmp_path / "a"))
    assert res.returncode == 0 and res.stderr == ""
    import pty

    master, slave = pty.openpty()
    proc = subprocess.run([sys.executable, "-m", "routesim", "run", str(path), "--out", str(tmp_path / "b")],
                          stdout=subprocess.DEVNULL, stderr=slave, cwd=ROOT, timeout=120,
                          env={**os.environ, "COLUMNS": "100", "TERM": "xterm"})
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.returncode == 0
    assert b"replication 1/1" in b"".join(chunks)


def test_simulation_options_are_validated_with_located_errors(tmp_path):
    bad = scenario(tmp_path, "bad", simulation=", checkpoint_service: gamma",
                   extra="outputs: {trips_format: xlsx}\n")
    text = bad.read_text().replace("trucks_per_day: 40.5,", "trucks_per_day: 40.5, depart_profile: [1, 2, 3],")
    bad.write_text(text)
    res = run_cli("validate", str(bad))
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert f"{bad}:6: demand[0].depart_profile: " in res.stderr and "24 hourly weights" in res.stderr
    assert f"{bad}:14: simulation.checkpoint_service:" in res.stderr
    assert f"{bad}:15: outputs.trips_format:" in res.stderr


def test_parallel_replications_only_for_large_runs():
    from routesim.demand import scenario_flows
    from routesim.runner import load_scenario
    from routesim.sim.replications import replication_workers

    sc = load_scenario(ROOT / "scenarios/m5-closed-2016.yaml").scenario

    def workers(**sim) -> int:
        return replication_workers(sc.model_copy(update={"simulation": sc.simulation.model_copy(update=sim)}),
                                   scenario_flows(sc))

    cpus = len(os.sched_getaffinity(0))
    assert workers(replications=1) == 1
    assert workers(replications=2) == 1  # 1.2 million trips: start-up would cost more than it saves
    assert workers(replications=10) == min(10, cpus)
    assert workers(replications=3, workers=8) == 3 and workers(replications=10, workers=1) == 1
