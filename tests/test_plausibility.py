"""The plausibility guard: a run warns when the simulation departs far from the route-level estimate."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from routesim.runner import load_scenario
from routesim.runner.plausibility import PLAUSIBLE_FACTOR, plausibility
from routesim.runner.run import run_scenario
from tests.conftest import run_cli

CAPPED = """\
name: capped
network: syria-sketch
period: {start: 2010-03-01, end: 2010-03-04}
events:
  builtin: false
  inline:
    - {id: one-lane-post, date: 2010-03-01, action: restrict, where: m5-homs-talbiseh,
       restrict: {queue: {trucks_per_hour: 1, lanes: 1}}}
demand:
  - {origin: Damascus, destination: Aleppo, trucks_per_day: 200}
costs:
  diesel: {value: 0.5, currency: USD}
  exchange_rate: {value: 50}
  value_of_time_usd_h: 10
simulation: {wait_limit_h: 24}
"""


def _rows(**figures: dict[str, float]) -> list[dict[str, object]]:
    return [{"engine": e, "metric": m, "value": v} for e, f in figures.items() for m, v in f.items()]


def test_a_post_that_caps_the_corridor_is_flagged_with_its_segment(tmp_path: Path):
    """One lane clearing one truck an hour on the M5 against 200 trucks a day: the queue, which the
    route level cannot see, makes trips days long; the run says so on screen and in the manifest,
    naming the segment where trucks waited."""
    (tmp_path / "capped.yaml").write_text(CAPPED)
    target, _ = run_scenario(load_scenario(tmp_path / "capped.yaml"), out=tmp_path / "out", progress=False)
    warnings = json.loads((target / "manifest.json").read_text())["plausibility"]
    assert any("cost per tonne" in w for w in warnings)
    assert any("mean trip" in w for w in warnings)
    assert "m5-homs-talbiseh" in warnings[-1] and warnings[-1].startswith("longest waits")
    # Without the post nothing is flagged: the guard is about the queue, not about the scenario.
    (tmp_path / "open.yaml").write_text(CAPPED.replace("name: capped", "name: open").replace(
        "restrict: {queue: {trucks_per_hour: 1, lanes: 1}}", "restrict: {queue: {trucks_per_hour: 60}}"))
    target, _ = run_scenario(load_scenario(tmp_path / "open.yaml"), out=tmp_path / "out", progress=False)
    assert json.loads((target / "manifest.json").read_text())["plausibility"] == []


def test_the_cli_prints_the_warnings(tmp_path: Path):
    (tmp_path / "capped.yaml").write_text(CAPPED)
    res = run_cli("run", str(tmp_path / "capped.yaml"), "--out", str(tmp_path / "out"))
    assert res.returncode == 0, res.stderr
    assert "routesim: warning: implausible: simulated cost per tonne" in res.stderr
    assert "m5-homs-talbiseh" in res.stderr


def test_the_factor_bounds_both_ways():
    seg = pd.DataFrame({"segment": ["a"], "ref": ["M5"], "trucks": [10.0], "mean_delay_h": [0.0]})
    route = {"cost_per_ton_usd": 5.0, "trips": 100.0, "trips_unserved": 0.0, "truck_hours": 500.0}
    inside = {"cost_per_ton_usd": 5.0 * PLAUSIBLE_FACTOR * 0.99, "mean_trip_hours": 5.0,
              "trips_dispatched": 100.0, "stranded": 0.0}
    assert plausibility(_rows(sim=inside, route=route), seg) == []
    low = dict(inside, cost_per_ton_usd=5.0 / PLAUSIBLE_FACTOR / 1.01)
    assert ["cost per tonne" in w for w in plausibility(_rows(sim=low, route=route), seg)] == [True]
    stranded = dict(inside, stranded=20.0)
    assert plausibility(_rows(sim=stranded, route=route), seg) == ["implausible: 20 of 100 dispatched trips "
                                                                     "stranded (20%)"]
    assert plausibility(_rows(route=route), seg) == []  # no simulation: nothing to compare
