"""Uncertain inputs, replications reduced as they finish, compare's paired intervals, --until-ci, LaTeX.

Runs use the hand-drawn network over ten days without library events and flat
prices (as tests/test_simulate.py), so a run takes well under a second.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from pandas.api.types import union_categoricals
from pydantic import ValidationError

from routesim.analysis.compare import compare
from routesim.cli.render import render
from routesim.demand.flows import scenario_flows
from routesim.demand.prices import scenario_prices
from routesim.errors import InputFileError, RoutesimError
from routesim.io.results import write_table
from routesim.models.uncertainty import Uncertainty
from routesim.runner import load_scenario, run_scenario
from routesim.sim.draws import ScaledPrices, apply_draws, replication_draws
from routesim.sim.engine import simulate
from routesim.sim.replications import (
    ScenarioSimulation,
    interval,
    replication_seeds,
    run_replications,
    scenario_config,
)
from routesim.sim.tripfile import TripFile

from .conftest import ROOT, run_cli

BASE = """name: {name}
network: syria-sketch
period: {{start: 2016-01-01, end: 2016-01-11}}
events: {{builtin: false}}
demand:
  - {{id: dam-alp, origin: Damascus, destination: Aleppo, trucks_per_day: 40.5, both_directions: true}}
  - {{id: homs-lat, origin: Homs, destination: Latakia, tons_per_day: 300}}
costs:
  diesel: {{value: 500, currency: SYP}}
  exchange_rate: {{value: 1000}}
  value_of_time_usd_h: 10
simulation: {{seed: {seed}, replications: {reps}}}
{extra}"""

DEMAND = "uncertainty:\n  demand: {dist: lognormal, cv: 0.2}\n"
ALL = ("uncertainty:\n  demand: {dist: lognormal, cv: 0.2}\n"
       "  diesel: {dist: triangular, low: 0.8, mode: 1.0, high: 1.5}\n"
       "  speed: {dist: uniform, low: 0.9, high: 1.1}\n  checkpoint_delay: {dist: fixed, value: 1.5}\n")
CUT = "closures:\n  - {where: M5:Hama:Aleppo, date: 2016-01-05}\n"


def write(tmp_path: Path, name: str, *, seed: int = 5, reps: int = 6, extra: str = "") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(BASE.format(name=name, seed=seed, reps=reps, extra=extra), encoding="utf-8")
    return path


def run(path: Path, out: Path, **kw: object) -> tuple[Path, pd.DataFrame]:
    target, rows = run_scenario(load_scenario(path), out=out, progress=False, **kw)  # type: ignore[arg-type]
    return target, pd.DataFrame(rows).set_index(["engine", "metric"])


def block(text: str) -> Uncertainty:
    import yaml

    return Uncertainty.model_validate(yaml.safe_load(text)["uncertainty"])


def test_draws_are_reproducible_and_common_across_scenarios():
    u = block(ALL)
    first = replication_draws(u, seed=7, n=5)
    assert first == replication_draws(u, seed=7, n=5)
    assert first[:3] == replication_draws(u, seed=7, n=3)  # adding replications keeps the earlier ones
    assert first != replication_draws(u, seed=8, n=5)
    assert set(first[0]) == {"demand", "diesel", "speed", "checkpoint_delay"}
    assert all(d["checkpoint_delay"] == 1.5 for d in first)
    assert all(0.8 <= d["diesel"] <= 1.5 and 0.9 <= d["speed"] <= 1.1 for d in first)
    # Another scenario with only some of the factors, or other spreads, gets the same random numbers:
    # the demand draws are identical, and under a wider lognormal they keep their order (one quantile each).
    only_demand = replication_draws(block(DEMAND), seed=7, n=5)
    assert [d["demand"] for d in only_demand] == [d["demand"] for d in first]
    wider = replication_draws(block("uncertainty:\n  demand: {dist: lognormal, cv: 0.4}\n"), seed=7, n=20)
    narrow = replication_draws(block(DEMAND), seed=7, n=20)
    order = np.argsort([d["demand"] for d in narrow])
    assert (np.argsort([d["demand"] for d in wider]) == order).all()
    assert np.std([d["demand"] for d in wider]) > 1.5 * np.std([d["demand"] for d in narrow])
    assert replication_draws(None, seed=7, n=2) == [{}, {}]
    # A lognormal with cv 0.2 has mean 1 and sd 0.2 over many replications.
    many = np.array([d["demand"] for d in replication_draws(block(DEMAND), seed=1, n=4000)])
    assert many.mean() == pytest.approx(1.0, abs=0.015) and many.std() == pytest.approx(0.2, abs=0.015)


def test_uncertainty_ranges_are_validated(tmp_path):
    for bad in ({"demand": {"dist": "lognormal", "cv": 1.5}}, {"demand": {"dist": "lognormal", "cv": float("nan")}},
                {"diesel": {"dist": "triangular", "low": 1.2, "mode": 1.0, "high": 1.5}},
                {"speed": {"dist": "uniform", "low": 1.0, "high": 1.0}}, {"speed": {"dist": "uniform", "low": 0,
                                                                                    "high": 2}},
                {"speed": {"dist": "fixed", "value": 11}}, {"speed": {"dist": "normal", "mean": 1}},
                {"fuel": {"dist": "fixed", "value": 1}}):
        with pytest.raises(ValidationError):
            Uncertainty.model_validate(bad)
    path = write(tmp_path, "bad", extra="uncertainty:\n  demand: {dist: uniform, low: 1.2, high: 0.8}\n")
    with pytest.raises(InputFileError) as err:
        load_scenario(path, check_network=False)
    assert "uncertainty" in str(err.value) and "high must be above low" in str(err.value)
    assert str(path) in str(err.value)


def test_draws_scale_flows_prices_and_engine_settings(tmp_path):
    loaded = load_scenario(write(tmp_path, "x"), check_network=False)
    flows, prices = scenario_flows(loaded.scenario), scenario_prices(loaded)
    cfg = scenario_config(loaded.scenario, seed=1)
    f2, p2, c2 = apply_draws({"demand": 1.5, "diesel": 2.0, "speed": 0.9, "checkpoint_delay": 3.0}, flows=flows,
                             prices=prices, config=cfg)
    assert [f.trucks_per_day for f in f2] == [f.trucks_per_day * 1.5 for f in flows]
    assert [f.tons for f in f2] == pytest.approx([f.tons * 1.5 for f in flows])
    day = loaded.scenario.start
    assert isinstance(p2, ScaledPrices) and p2.diesel_syp_per_l(day) == 2 * prices.diesel_syp_per_l(day)
    assert p2.syp_per_usd(day) == prices.syp_per_usd(day)
    assert (c2.speed_factor, c2.delay_factor, c2.seed) == (0.9, 3.0, 1)
    f3, p3, c3 = apply_draws({}, flows=flows, prices=prices, config=cfg)
    assert f3 == flows and p3 is prices and c3 is cfg


def test_uncertainty_widens_the_interval_and_is_recorded(tmp_path):
    out = tmp_path / "out"
    plain_dir, plain = run(write(tmp_path, "plain"), out)
    unc_dir, unc = run(write(tmp_path, "unc", extra=ALL), out)
    key = ("sim", "total_cost_usd")
    assert unc.loc[key, "high"] - unc.loc[key, "low"] > 5 * (plain.loc[key, "high"] - plain.loc[key, "low"])
    reps = pd.read_csv(unc_dir / "replications.csv")
    assert list(reps.columns) == ["replication", "seed", "metric", "value", "unit"]
    assert sorted(reps["replication"].unique()) == [1, 2, 3, 4, 5, 6]
    seeds = reps.drop_duplicates("replication")["seed"].tolist()
    assert seeds == replication_seeds(5, 6)
    draws = reps[reps["metric"] == "draw_demand"]["value"].tolist()
    expected = [d["demand"] for d in replication_draws(block(ALL), seed=5, n=6)]
    assert draws == pytest.approx(expected, abs=1e-6)
    # The summary's interval is that of the per-replication values.
    cost = reps[reps["metric"] == "total_cost_usd"]["value"].tolist()
    assert unc.loc[key, "value"] == pytest.approx(interval(cost)[0], rel=1e-9)
    # More demand, more trips: the draws reach the engine.
    trips = reps[reps["metric"] == "trips_dispatched"].set_index("replication")["value"]
    assert np.corrcoef(draws, trips.to_numpy())[0, 1] > 0.9
    manifest = json.loads((unc_dir / "manifest.json").read_text())
    assert [d["demand"] for d in manifest["replication_draws"]] == pytest.approx(expected)
    assert "replications.csv" in manifest["files"]
    plain_reps = pd.read_csv(plain_dir / "replications.csv")
    assert not plain_reps["metric"].str.startswith("draw_").any()
    assert "replication_draws" not in json.loads((plain_dir / "manifest.json").read_text())


def test_compare_pairs_common_random_numbers(tmp_path):
    out = tmp_path / "out"
    base, _ = run(write(tmp_path, "base", extra=DEMAND), out)
    cut, _ = run(write(tmp_path, "cut", extra=DEMAND + CUT), out)
    other, _ = run(write(tmp_path, "cut-seed9", seed=9, extra=DEMAND + CUT), out)
    rows = {(r["engine"], r["metric"]): r for r in compare([base, cut, other])}
    row = rows[("sim", "total_cost_usd")]
    assert row["pairing cut"] == "paired" and row["pairing cut-seed9"] == "unpaired: different seeds"
    for name in ("base", "cut", "cut-seed9"):
        assert row[f"low {name}"] < row[name] < row[f"high {name}"]
    # The paired interval is the Student-t interval of the per-replication differences.
    a, b = (pd.read_csv(d / "replications.csv").query("metric == 'total_cost_usd'")["value"].to_numpy()
            for d in (base, cut))
    _, low, high = interval((b - a).tolist())
    assert (row["delta low cut"], row["delta high cut"]) == pytest.approx((low, high))
    assert row["delta low cut"] < row["delta cut"] < row["delta high cut"]
    paired = row["delta high cut"] - row["delta low cut"]
    unpaired = row["delta high cut-seed9"] - row["delta low cut-seed9"]
    assert paired < unpaired / 3  # common random numbers cancel the demand draw
    # The detour costs money beyond the noise; the closure changes no trip before day 5, nor the demand.
    assert row["differs cut"] == "yes"
    assert rows[("sim", "trips_dispatched")]["pairing cut"] == "paired"
    assert rows[("run", "days")]["pairing cut"] == ""
    # Old results without replications.csv still compare (disjoint intervals).
    (other / "replications.csv").unlink()
    again = {(r["engine"], r["metric"]): r for r in compare([base, other])}[("sim", "total_cost_usd")]
    assert again["pairing cut-seed9"] == "" and again["differs cut-seed9"] in {"yes", "no"}


def test_until_ci_stops_once_precise(tmp_path):
    out = tmp_path / "out"
    path = write(tmp_path, "until", reps=8)
    # No uncertainty: the simulation's own noise is far below 1 %, so the minimum of 3 is enough.
    _, early = run(path, out, until_ci=0.01)
    assert early.loc[("run", "replications"), "value"] == 3
    # With uncertain demand, 1 % is out of reach: all 8 run.
    unc = write(tmp_path, "until-unc", reps=8, extra=DEMAND)
    d, full = run(unc, out, until_ci=0.01)
    assert full.loc[("run", "replications"), "value"] == 8
    high, low = full.loc[("sim", "total_cost_usd"), "high"], full.loc[("sim", "total_cost_usd"), "low"]
    assert (high - low) / 2 > 0.01 * full.loc[("sim", "total_cost_usd"), "value"]
    # A loose precision stops it early, and the replications run are the first ones of the full run.
    d5, loose = run(unc, tmp_path / "loose", until_ci=0.25)
    n = int(loose.loc[("run", "replications"), "value"])
    assert 3 <= n < 8
    first = pd.read_csv(d / "replications.csv").query(f"replication <= {n}").reset_index(drop=True)
    pd.testing.assert_frame_equal(pd.read_csv(d5 / "replications.csv"), first)
    # The command line takes "1%"; a bad precision or metric is a clean error.
    res = run_cli("run", str(path), "--out", str(tmp_path / "cli"), "--until-ci", "1%", "--ci-metric", "vehicle_km")
    assert res.returncode == 0, res.stderr
    assert pd.read_csv(tmp_path / "cli" / "until" / "replications.csv")["replication"].max() == 3
    res = run_cli("run", str(path), "--out", str(tmp_path / "cli"), "--until-ci", "1%", "--ci-metric", "vehicle_kms")
    assert res.returncode == 2 and "Traceback" not in res.stderr and "did you mean vehicle_km" in res.stderr
    with pytest.raises(RoutesimError, match=r"--until-ci: 1\.5 is no relative precision"):
        run(path, out, until_ci=1.5)


def test_latex_and_counts_as_integers(tmp_path):
    rows = [{"engine": "sim", "metric": "delivered", "value": 1234.6, "unit": "trips", "low": 1200.2,
             "delta% b": 12.345},
            {"engine": "sim", "metric": "cost_per_ton_usd", "value": 6.54321, "unit": "USD/t", "low": 6.1,
             "delta% b": 1.5}]
    text = render(rows, fmt="table")
    assert "1,235" in text and "1,200 " in text and "12.35" in text and "6.54" in text and "1,234.6" not in text
    latex = render(rows, fmt="latex", title="total_cost & more")
    lines = latex.splitlines()
    assert lines[0] == r"\begin{table}[htbp]" and r"\caption{total\_cost \& more}" in lines
    assert r"\begin{tabular}{llrlrr}" in lines and lines[-2:] == [r"\end{tabular}", r"\end{table}"]
    assert r"engine & metric & value & unit & low & delta\% b \\" in lines
    assert r"sim & delivered & 1,235 & trips & 1,200 & 12.35 \\" in lines
    assert r"sim & cost\_per\_ton\_usd & 6.54 & USD/t & 6.10 & 1.50 \\" in lines
    assert render(rows, fmt="json").count("1234.6") == 1  # machine formats keep the value
    # compare --format latex on real results.
    out = tmp_path / "out"
    a, _ = run(write(tmp_path, "a", reps=2), out)
    b, _ = run(write(tmp_path, "b", reps=2, extra=CUT), out)
    res = run_cli("compare", str(a), str(b), "--format", "latex")
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith(r"\begin{tabular}") and r"\bottomrule" in res.stdout
    line = next(x for x in res.stdout.splitlines() if x.startswith(r"sim & trips\_dispatched"))
    assert "." not in line.split("&")[3]  # a count


def _stacked_reference(results):
    """The tables as they were made before replications were reduced as they finish: all stacked."""
    def stacked(attr):
        frames = [getattr(res, attr).assign(replication=r)[["replication", *getattr(res, attr).columns]]
                  for r, res in enumerate(results, start=1)]
        out = pd.concat(frames, ignore_index=True)
        for col in frames[0].columns:
            if isinstance(frames[0][col].dtype, pd.CategoricalDtype) and len(frames) > 1:
                out[col] = union_categoricals([f[col] for f in frames])
        return out

    flows = stacked("flows").drop(columns="replication").groupby("flow", sort=False).mean().reset_index()
    seg = stacked("segments")
    seg["delay_h"] = seg["mean_delay_h"] * seg["trucks"]
    agg = seg.groupby("segment", sort=True).agg(trucks=("trucks", "sum"), tons=("tons", "sum"),
                                                 vehicle_km=("vehicle_km", "sum"), delay_h=("delay_h", "sum"))
    n = len(results)
    segments = pd.DataFrame({"trucks": agg["trucks"] / n, "tons": agg["tons"] / n,
                             "vehicle_km": agg["vehicle_km"] / n})
    segments["mean_delay_h"] = np.divide(agg["delay_h"], agg["trucks"], out=np.zeros(len(agg)),
                                         where=agg["trucks"] > 0)
    return stacked("trips"), stacked("daily"), flows, segments.reset_index()


def test_reduced_tables_equal_the_stacked_ones(tmp_path, net):
    # A closure mid-period: replications use different segments, and mean_km is nan for some flows.
    loaded = load_scenario(write(tmp_path, "r", reps=4, extra=CUT), check_network=False)
    sc = loaded.scenario
    from routesim.runner.run import scenario_events

    events = scenario_events(net, loaded)
    flows, prices = scenario_flows(sc), scenario_prices(loaded)
    results = [simulate(net, events, flows, scenario_config(sc, seed=s), prices) for s in replication_seeds(5, 4)]
    trips, daily, flow_table, segments = _stacked_reference(results)
    sim = ScenarioSimulation()
    for s, res in zip(replication_seeds(5, 4), results, strict=True):
        sim.add(res, seed=s, draws={})
    pd.testing.assert_frame_equal(sim.flows(), flow_table, check_exact=True)
    pd.testing.assert_frame_equal(sim.segments(), segments, check_exact=True)
    pd.testing.assert_frame_equal(sim.daily(), daily, check_exact=True)
    # Trips streamed replication by replication: the same bytes as the stacked table written at once.
    ref = tmp_path / "ref.csv"
    write_table(trips, ref, decimals=4)
    for suffix in (".csv", ".parquet"):
        with TripFile(tmp_path / f"streamed{suffix}") as tf:
            for r, res in enumerate(results, start=1):
                tf.write(res.trips, replication=r)
        assert tf.rows == len(trips)
    assert (tmp_path / "streamed.csv").read_bytes() == ref.read_bytes()
    write_table(trips, tmp_path / "ref.parquet", decimals=4)
    text = {c: str for c in ("flow", "vehicle", "leg", "status", "roads")}  # one dictionary per row group
    back, expected = (pq.read_table(tmp_path / f).to_pandas().astype(text) for f in ("streamed.parquet",
                                                                                       "ref.parquet"))
    pd.testing.assert_frame_equal(back, expected, check_exact=True)
    # And run_replications gives the same (two workers: results folded in replication order).
    par = run_replications(net, events, flows, sc.model_copy(update={"simulation": sc.simulation.model_copy(
        update={"workers": 2})}), prices, seed=5, progress=False, trips=tmp_path / "par.csv")
    pd.testing.assert_frame_equal(par.segments(), segments, check_exact=True)
    assert (tmp_path / "par.csv").read_bytes() == ref.read_bytes()


def test_shipped_uncertain_scenario_validates():
    loaded = load_scenario(ROOT / "scenarios/m5-closed-2016-uncertain.yaml", check_network=False)
    sc = loaded.scenario
    assert sc.uncertainty is not None and set(sc.uncertainty.factors()) == {"demand", "diesel", "speed",
                                                                            "checkpoint_delay"}
    assert sc.simulation.replications >= 5 and sc.simulation.seed == 2016
