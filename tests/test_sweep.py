"""Sweeps and overrides: `routesim sweep`, `run --set`, both executors, resuming, failures, tables.

The scenarios are one day of two small flows on the hand-drawn network, so a
variant runs in a fraction of a second and every expectation follows from the
override it makes (diesel price x2 -> fuel cost x2, litres unchanged).
"""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path

import pandas as pd
import pytest

from routesim.errors import InputFileError
from routesim.io.scenario_file import read_scenario_doc
from routesim.runner import load_scenario, run_scenario
from routesim.runner.overrides import (
    EVERY_ITEM,
    Override,
    apply_overrides,
    load_with_overrides,
    override_scenario,
    parse_assignment,
    parse_path,
)
from routesim.runner.sweep import plan_sweep, run_sweep

from .conftest import ROOT, run_cli

BASE = """name: sweep-base
network: syria-sketch
date: 2016-01-05
events: {builtin: false}
demand:
  - {id: dam-alp, origin: Damascus, destination: Aleppo, trucks_per_day: 20, both_directions: true}
  - {id: homs-lat, origin: Homs, destination: Latakia, tons_per_day: 300}
costs:
  diesel: {value: 500, currency: SYP}
  exchange_rate: {value: 1000}
  value_of_time_usd_h: 10
simulation: {seed: 5}
"""

# 3 diesel prices x 3 presets: -1 fails validation (in the driver), "nowhere" fails
# its check against the network (in a worker); 4 variants run.
SWEEP = """name: small
base: base.yaml
presets:
  plain: {}
  half: {"demand[*].trucks_per_day*": 0.5}
  nowhere: {"demand[0].origin": Atlantis}
axes:
  - grid: {costs.diesel.value: [400, 800, -1]}
  - preset: [plain, half, nowhere]
"""

TABLES = ("sweep.csv", "sweep.parquet", "sensitivity.csv")


def write_sweep(tmp: Path, sweep: str = SWEEP) -> Path:
    (tmp / "base.yaml").write_text(BASE, encoding="utf-8")
    path = tmp / "small.yaml"
    path.write_text(sweep, encoding="utf-8")
    return path


def value(table: pd.DataFrame, metric: str, engine: str = "sim", **params: object) -> float:
    rows = table[(table["metric"] == metric) & (table["engine"] == engine)]
    for col, v in params.items():
        rows = rows[rows[col] == v]
    assert len(rows) == 1, rows
    return float(rows["value"].iloc[0])


# --- overrides ---------------------------------------------------------------------------------------


def test_paths_parse_with_indices_and_wildcards():
    assert parse_path("events.inline[0].date") == ("events", "inline", 0, "date")
    assert parse_path("demand[*].trucks_per_day") == ("demand", EVERY_ITEM, "trucks_per_day")
    for bad in ("", "a..b", "a[x]", "demand[0]origin", " a"):
        with pytest.raises(ValueError):
            parse_path(bad)
    ov = parse_assignment("demand[*].trucks_per_day*=1.2")
    assert (ov.path, ov.value, ov.scale) == ("demand[*].trucks_per_day", 1.2, True)
    assert ov.column == "demand[*].trucks_per_day*"
    assert parse_assignment("events.inline[0].date=2016-06-01").value.isoformat() == "2016-06-01"


def test_overrides_set_scale_and_locate_problems(tmp_path):
    (tmp_path / "base.yaml").write_text(BASE, encoding="utf-8")
    doc, files = read_scenario_doc(tmp_path / "base.yaml")
    changed = apply_overrides(doc, [parse_assignment("demand[*].trucks_per_day*=1.5"),
                                    parse_assignment("costs.diesel.value=750"),
                                    parse_assignment("simulation.replications=2")])
    # the flow given in tonnes has no trucks_per_day to scale and is left alone
    assert [d.get("trucks_per_day") for d in changed.data["demand"]] == [30.0, None]
    assert changed.data["costs"]["diesel"]["value"] == 750 and changed.data["simulation"]["replications"] == 2
    assert doc.data["costs"]["diesel"]["value"] == 500  # the original is untouched
    cases = {
        "costs.dieseel.value=1": "costs.dieseel: unknown key 'dieseel' in costs; did you mean: diesel?",
        "demand[7].origin=Homs": "demand has 2 item(s): index 7 is out of range",
        "demand.origin=Homs": "demand is a list: use demand[0] or demand[*]",
        "demand[*].trucks_per_day*=many": "a factor must be a number",
        "costs.fee_usd_per_trip*=2": "nothing to scale: the scenario does not set costs.fee_usd_per_trip",
        "name.x=1": "name is a single value (str)",
    }
    for text, message in cases.items():
        with pytest.raises(InputFileError) as exc:
            apply_overrides(doc, [parse_assignment(text)])
        assert str(exc.value).startswith(f"--set {text}: ") and message in str(exc.value), str(exc.value)
    # file paths set by an override are read as a file's are: shipped names made canonical, checked
    shipped = apply_overrides(doc, [parse_assignment("costs.exchange_rate={file: builtin:syp_per_usd}")])
    assert shipped.data["costs"]["exchange_rate"] == {"file": "builtin:prices/syp_per_usd.csv"}
    with pytest.raises(InputFileError, match="did you mean: builtin:syp_per_usd"):
        apply_overrides(doc, [parse_assignment("costs.exchange_rate.file=builtin:syp_per_used")])
    # a value the model refuses is reported at the override that gave it, not at the base file
    ov = Override.from_key("costs.diesel.value", -3, file="sweep.yaml", line=12)
    with pytest.raises(InputFileError) as exc:
        override_scenario(doc, [ov], path=tmp_path / "base.yaml", files=files, sha256="x")
    assert str(exc.value).startswith("sweep.yaml:12: costs.diesel.value: ")


def test_run_set_changes_the_result_and_a_bad_path_exits_2(tmp_path):
    (tmp_path / "base.yaml").write_text(BASE, encoding="utf-8")
    _, base_rows = run_scenario(load_scenario(tmp_path / "base.yaml"), out=tmp_path / "api", progress=False)
    res = run_cli("run", str(tmp_path / "base.yaml"), "--out", str(tmp_path / "cli"),
                  "--set", "costs.diesel.value=1000", "--set", "name=dear-diesel")
    assert res.returncode == 0, res.stderr
    summary = pd.read_csv(tmp_path / "cli" / "dear-diesel" / "summary.csv").set_index(["engine", "metric"])
    base = {(r["engine"], r["metric"]): r["value"] for r in base_rows}
    # same trucks, same litres; twice the price per litre
    assert summary.loc[("sim", "fuel_l"), "value"] == pytest.approx(base[("sim", "fuel_l")], rel=1e-6)
    assert summary.loc[("sim", "fuel_cost_syp"), "value"] == pytest.approx(2 * base[("sim", "fuel_cost_syp")],
                                                                          rel=1e-6)
    bad = run_cli("run", str(tmp_path / "base.yaml"), "--out", str(tmp_path / "cli"),
                  "--set", "demand[0].trucks_per_dya=5")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert ("routesim: error: --set demand[0].trucks_per_dya=5: demand[0].trucks_per_dya: unknown key "
            "'trucks_per_dya' in demand[0]; did you mean: trucks_per_day") in bad.stderr


def test_load_with_no_overrides_is_load_scenario(tmp_path):
    (tmp_path / "base.yaml").write_text(BASE, encoding="utf-8")
    plain = load_scenario(tmp_path / "base.yaml", check_network=False)
    same = load_with_overrides(tmp_path / "base.yaml", [], check_network=False)
    assert same.scenario == plain.scenario and same.sha256 == plain.sha256
    changed = load_with_overrides(tmp_path / "base.yaml", [parse_assignment("simulation.seed=6")],
                                  check_network=False)
    assert changed.scenario.simulation.seed == 6 and changed.sha256 != plain.sha256


# --- sweep files ------------------------------------------------------------------------------------


def test_axes_expand_to_the_product_of_grid_zip_scale_samples_presets(tmp_path):
    path = write_sweep(tmp_path, """base: base.yaml
presets: {a: {costs.value_of_time_usd_h: 5}, b: {}}
axes:
  - grid: {costs.diesel.value: [400, 800], simulation.seed: [1, 2]}
  - zip: {costs.exchange_rate.value: [900, 1100], costs.fee_usd_per_trip: [0, 5]}
  - scale: {"demand[*].trucks_per_day": [0.5, 2]}
  - samples:
      n: 3
      seed: 11
      draw:
        simulation.background_pcu_share: {dist: uniform, low: 0.1, high: 0.3}
        simulation.checkpoint_service_cv: {dist: lognormal, median: 0.5, sigma: 0.1}
  - preset: [a, b]
    name: case
""")
    plan = plan_sweep(path)
    assert plan.name == "small" and len(plan.variants) == 4 * 2 * 2 * 3 * 2
    assert plan.columns == ["costs.diesel.value", "simulation.seed", "costs.exchange_rate.value",
                            "costs.fee_usd_per_trip", "demand[*].trucks_per_day*",
                            "simulation.background_pcu_share", "simulation.checkpoint_service_cv", "case"]
    assert plan.continuous == ["simulation.background_pcu_share", "simulation.checkpoint_service_cv"]
    first = plan.variants[0].params
    assert first["costs.diesel.value"] == 400 and first["costs.exchange_rate.value"] == 900 and first["case"] == "a"
    # zip pairs values; samples are reproducible and in range
    assert {(v.params["costs.exchange_rate.value"], v.params["costs.fee_usd_per_trip"]) for v in plan.variants} == {
        (900, 0), (1100, 5)}
    draws = sorted({v.params["simulation.background_pcu_share"] for v in plan.variants})
    assert len(draws) == 3 and all(0.1 <= d <= 0.3 for d in draws)
    assert [v.params for v in plan_sweep(path).variants] == [v.params for v in plan.variants]


def test_a_factor_swept_by_two_axes_is_refused(tmp_path):
    path = write_sweep(tmp_path, """base: base.yaml
axes:
  - scale:
      demand[*].trucks_per_day: [0.5, 2]
  - grid: {"demand[*].trucks_per_day*": [1, 3]}
""")
    with pytest.raises(InputFileError) as exc:
        plan_sweep(path)
    assert "small.yaml:5: axes[1].grid: 'demand[*].trucks_per_day*' is already swept by another axis" in str(exc.value)


def test_sweep_file_problems_are_located(tmp_path):
    cases = {
        "base: base.yaml\naxes:\n  - zip: {simulation.seed: [1, 2], costs.diesel.value: [1]}\n":
            "small.yaml:3: axes[0].zip: Value error, every list needs the same length (got [1, 2])",
        "base: base.yaml\npresets: {quiet: {}}\naxes:\n  - preset: [quite]\n":
            "small.yaml:4: axes[0].preset[0]: unknown preset 'quite'; did you mean: quiet?",
        "base: missing.yaml\n": "small.yaml:1: base: scenario file not found",
        "base: base.yaml\naxes:\n  - samples: {n: 2, seed: 1, draw: {simulation.seed: {dist: gamma}}}\n":
            "small.yaml:3: axes[0].samples.draw.simulation.seed",
        "base: base.yaml\naxes:\n  - grid: {simulation.seed: [1]}\n    scale: {simulation.seed: [2]}\n":
            "give exactly one of grid, zip, scale, samples or preset",
    }
    for text, message in cases.items():
        with pytest.raises(InputFileError) as exc:
            plan_sweep(write_sweep(tmp_path, text))
        assert message in str(exc.value), str(exc.value)


def test_shipped_sweeps_resolve_every_variant():
    files = sorted((ROOT / "scenarios" / "sweeps").glob("*.yaml"))
    assert len(files) >= 2
    for path in files:
        plan = plan_sweep(path)
        doc, used = read_scenario_doc(plan.base)
        names = set()
        for v in plan.variants:
            loaded = override_scenario(doc, v.overrides, path=plan.base, files=used, sha256="")
            names.add(loaded.scenario.model_dump_json(exclude={"name"}))
        assert len(names) == len(plan.variants), f"{path.name}: two variants run the same scenario"


# --- running -----------------------------------------------------------------------------------------


def test_dask_cluster_gives_the_tables_of_the_local_executor_and_failures_are_reported(tmp_path):
    distributed = pytest.importorskip("distributed")
    path = write_sweep(tmp_path)
    res = run_cli("sweep", str(path), "--out", str(tmp_path / "local"), "--workers", "1")
    assert res.returncode == 1, res.stderr  # some variants failed; the others are in the tables
    assert "Traceback" not in res.stderr
    assert "9 variant(s): 6 run, 0 done before, 5 failed (4 ok)" in res.stdout
    assert "routesim: variant 3 failed:" in res.stderr and "unknown place 'Atlantis'" in res.stderr
    with (distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
          as cluster, distributed.Client(cluster) as client):
        report = run_sweep(path, out=tmp_path / "dask", executor="dask", client=client, progress=False)
    assert (report.ran, report.skipped, len(report.failed)) == (6, 0, 5)
    for name in TABLES:
        assert filecmp.cmp(tmp_path / "local" / "small" / name, tmp_path / "dask" / "small" / name,
                           shallow=False), name

    table = pd.read_parquet(tmp_path / "dask" / "small" / "sweep.parquet")
    assert list(table.columns[:5]) == ["variant", "hash", "status", "costs.diesel.value", "preset"]
    status = table.groupby("variant")["status"].first()
    assert list(status.index) == list(range(1, 10)) and (status == "ok").sum() == 4
    errors = table.groupby("variant")["error"].first()
    # the bad price fails validation, located at its line of the sweep file
    assert "small.yaml:8: costs.diesel.value: Input should be greater than 0" in errors[7]
    assert "demand[0].origin: unknown place 'Atlantis'" in errors[3]
    # the overrides reach the runs: twice the price, twice the fuel bill, the same litres
    for preset in ("plain", "half"):
        lo = value(table, "fuel_cost_syp", **{"costs.diesel.value": 400, "preset": preset})
        hi = value(table, "fuel_cost_syp", **{"costs.diesel.value": 800, "preset": preset})
        assert hi == pytest.approx(2 * lo, rel=1e-5)
    assert value(table, "trips_dispatched", **{"costs.diesel.value": 400, "preset": "half"}) < value(
        table, "trips_dispatched", **{"costs.diesel.value": 400, "preset": "plain"})

    sens = pd.read_csv(tmp_path / "dask" / "small" / "sensitivity.csv").set_index(["engine", "metric", "parameter"])
    assert sens.loc[("sim", "fuel_cost_syp", "costs.diesel.value"), "swing"] > 0
    assert sens.loc[("sim", "fuel_l", "costs.diesel.value"), "swing"] == 0
    assert sens.loc[("sim", "fuel_l", "preset"), ["low", "high"]].tolist() == ["plain", "half"]
    assert sens.loc[("sim", "fuel_l", "preset"), "swing"] < 0


def test_a_stopped_sweep_resumes_without_recomputing_what_was_done(tmp_path):
    path = write_sweep(tmp_path, SWEEP.replace(", nowhere]", "]").replace(", -1]", "]"))
    first = run_sweep(path, out=tmp_path / "out", workers=1, progress=False)
    assert (first.variants, first.ran, first.skipped, first.failed) == (4, 4, 0, [])
    target = first.directory
    before = {name: (target / name).read_bytes() for name in TABLES}
    records = sorted((target / "variants").glob("*.json"))
    assert len(records) == 4
    # as if the sweep had been killed after two variants: two records never written
    for rec in records[:2]:
        rec.unlink()
    kept = {rec.name: rec.stat().st_mtime_ns for rec in records[2:]}
    # the rerun in two worker processes writes the tables one process wrote
    again = run_sweep(path, out=tmp_path / "out", workers=2, progress=False)
    assert (again.ran, again.skipped) == (2, 2)
    assert {rec.name: rec.stat().st_mtime_ns for rec in records[2:]} == kept  # not recomputed
    assert {name: (target / name).read_bytes() for name in TABLES} == before
    # a new value of an axis runs only the new variants
    wider = write_sweep(tmp_path, SWEEP.replace(", nowhere]", "]").replace(", -1]", ", 600]"))
    third = run_sweep(wider, out=tmp_path / "out", workers=1, progress=False)
    assert (third.variants, third.ran, third.skipped) == (6, 2, 4)
    assert not [p for p in target.iterdir() if p.name.startswith(".")]


def test_kept_run_folders_and_metric_filter(tmp_path):
    path = write_sweep(tmp_path, """base: base.yaml
set: {simulation.freight: false}
axes:
  - grid: {costs.value_of_time_usd_h: [5, 20]}
metrics: [route.time_cost_usd, total_cost_usd, route.time_cots_usd]
outputs: {runs: true}
""")
    report = run_sweep(path, out=tmp_path / "out", workers=1, progress=False)
    table = pd.read_csv(report.directory / "sweep.csv")
    assert set(zip(table["engine"], table["metric"], strict=True)) == {("route", "time_cost_usd"),
                                                                       ("route", "total_cost_usd")}
    assert len(report.warnings) == 1 and report.warnings[0].startswith(
        "metrics: 'route.time_cots_usd' is in no variant's summary; did you mean: route.time_cost_usd")
    assert value(table, "time_cost_usd", "route", **{"costs.value_of_time_usd_h": 20}) == pytest.approx(
        4 * value(table, "time_cost_usd", "route", **{"costs.value_of_time_usd_h": 5}), rel=1e-5)
    runs = sorted(p.name for p in (report.directory / "runs").iterdir())
    assert runs == sorted(set(table["hash"]))
    summary = pd.read_csv(report.directory / "runs" / runs[0] / "summary.csv")
    assert "sim" not in set(summary["engine"])  # `set` made every variant route-level
    # without the folder of a variant, the rerun runs it again
    shutil.rmtree(report.directory / "runs" / runs[0])
    assert run_sweep(path, out=tmp_path / "out", workers=1, progress=False).ran == 1


def test_a_price_set_by_override_replaces_the_base_source():
    """baseline-2010 prices diesel from the shipped series file: ``--set costs.diesel.value`` replaces
    that source (as a child scenario's value would) instead of failing with "at most one of"."""
    loaded = load_with_overrides(ROOT / "scenarios/baseline-2010.yaml", [
        parse_assignment("costs.diesel.value=0.8"), parse_assignment("costs.diesel.currency=USD"),
    ], check_network=False)
    diesel = loaded.scenario.costs.diesel
    assert diesel.value == 0.8 and diesel.file is None and diesel.currency == "USD"
