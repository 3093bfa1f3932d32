"""Currencies and prices, what-ifs that hold, and files after pip install (issue 13)."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from routesim._util.datafiles import data_dir, scenarios_dir
from routesim.demand.prices import price_warnings, scenario_prices, sourced_diesel, sourced_exchange_rate
from routesim.errors import InputFileError, RoutesimError
from routesim.io.scenario_copy import copy_scenario
from routesim.runner.run import scenario_events
from routesim.runner.validate import load_scenario

from .conftest import ROOT


def cli(*args: str, stderr: bool = False) -> str:
    """Run a command in this process (no interpreter start-up); its standard output (or error)."""
    from routesim.cli.app import app

    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stderr if stderr else result.stdout

SKETCH = """name: {name}
network: syria-sketch
period: {{start: {start}, end: {end}}}
simulation: {{freight: false}}
"""


def write(folder: Path, name: str, body: str, *, start: str = "2016-06-01", end: str = "2016-07-01") -> Path:
    """A route-level scenario on the sketch network, plus ``body``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(SKETCH.format(name=name, start=start, end=end) + body, encoding="utf-8")
    return path


# --- currencies and prices -------------------------------------------------------------------------------------


def test_a_bare_diesel_value_needs_a_currency(tmp_path):
    path = write(tmp_path, "bare", "costs:\n  diesel: {value: 0.55}\n")
    with pytest.raises(InputFileError, match=r"bare.yaml:6: costs.diesel.currency: .*required with a diesel value"):
        load_scenario(path, check_network=False)
    usd = load_scenario(write(tmp_path, "usd", "costs:\n  diesel: {value: 0.55, currency: USD}\n"),
                        check_network=False)
    prices = scenario_prices(usd)
    day = date(2016, 6, 1)
    # USD per litre times the sourced rate of the day, not a pound price of 0.55
    assert prices.diesel_syp_per_l(day) == pytest.approx(0.55 * prices.syp_per_usd(day))
    # over a base priced from the sourced file, a constant replaces the file (and the kind of its rows)
    child = tmp_path / "const.yaml"
    rel = os.path.relpath(ROOT / "scenarios" / "baseline-2010.yaml", tmp_path)
    child.write_text(f"extends: {rel}\nname: const\ncosts:\n  diesel: {{value: 0.55, currency: USD}}\n",
                     encoding="utf-8")
    diesel = load_scenario(child, check_network=False).scenario.costs.diesel
    assert (diesel.value, diesel.file, diesel.kind, diesel.currency) == (0.55, None, None, "USD")
    with pytest.raises(InputFileError, match=r"shipped diesel series is in SYP"):
        load_scenario(write(tmp_path, "wrong", "costs:\n  diesel: {file: builtin:diesel_syp, currency: USD}\n"),
                      check_network=False)


def test_prices_default_to_the_dated_sourced_series(tmp_path):
    loaded = load_scenario(write(tmp_path, "y2016", ""), check_network=False)
    prices = scenario_prices(loaded)
    mid_2016 = date(2016, 6, 1)
    # data/prices/syp_per_usd.csv: 440 from 2016-03 (the black-market rate), not the 2024-25 level of 15,000
    assert prices.syp_per_usd(mid_2016) == sourced_exchange_rate().at(mid_2016) == 440
    assert prices.syp_per_usd(date(2024, 7, 1)) == 15000
    assert prices.diesel_syp_per_l(mid_2016) == 180  # the default kind, market: the state price before 2021
    assert prices.diesel_syp_per_l(date(2022, 6, 1)) == 5000
    assert price_warnings(loaded, prices) == []


def test_the_diesel_kind_chooses_the_sourced_rows(tmp_path):
    day = date(2022, 6, 1)
    got = {}
    for kind in ("official", "subsidised", "market"):
        path = write(tmp_path, kind, f"costs:\n  diesel: {{kind: {kind}}}\n", start="2022-01-01", end="2023-01-01")
        got[kind] = scenario_prices(load_scenario(path, check_network=False)).diesel_syp_per_l(day)
    # official: the last official price (2015); subsidised: AFP 2021-07-11; market: black market 2022-04
    assert got == {"official": 130, "subsidised": 500, "market": 5000}
    assert sourced_diesel("market").at(date(2016, 6, 1)) == sourced_diesel("subsidised").at(date(2016, 6, 1)) == 180
    own = tmp_path / "own.csv"
    own.write_text("date,value\n2016-01-01,200\n", encoding="utf-8")
    path = write(tmp_path, "own", "costs:\n  diesel: {file: own.csv, currency: SYP, kind: market}\n")
    with pytest.raises(InputFileError, match=r"own.yaml:6: costs.diesel.kind: .*own.csv has no 'kind' column"):
        load_scenario(path)


def test_prices_far_from_the_sourced_series_warn(tmp_path):
    body = "costs:\n  diesel: {value: 0.55, currency: SYP}\n  exchange_rate: {value: 15000}\n"
    path = write(tmp_path, "far", body + "demand:\n  - {origin: Damascus, destination: Aleppo, trucks_per_day: 10}\n")
    warnings = price_warnings(load_scenario(path, check_network=False))
    assert len(warnings) == 2
    # the reference of a day runs from the sourced value in force to the next one (sparse observations)
    assert warnings[0].startswith("diesel 0.55 SYP/L on 2016-06-01 is 327× below the sourced 180–1,195 SYP/L")
    assert warnings[1].startswith("exchange rate 15000 SYP/USD on 2016-06-01 is 30× above the sourced 440–500")
    # within the factor of 3: no warning (500 SYP/L against 180, 1,000 SYP/USD against 440)
    near = write(tmp_path, "near", "costs:\n  diesel: {value: 500, currency: SYP}\n  exchange_rate: {value: 1000}\n")
    assert price_warnings(load_scenario(near, check_network=False)) == []
    shown = cli("run", str(path), "--out", str(tmp_path / "out"), stderr=True)
    assert "routesim: warning: exchange rate 15000 SYP/USD on 2016-06-01 is 30× above" in shown
    manifest = json.loads((tmp_path / "out" / "far" / "manifest.json").read_text())
    assert manifest["price_warnings"] == warnings
    # validate says so too, before anything runs
    assert warnings[0] in cli("validate", str(path), stderr=True)


# --- files and data after pip install ---------------------------------------------------------------------------


def test_paths_resolve_against_the_file_they_are_written_in(tmp_path):
    base_dir, child_dir = tmp_path / "base", tmp_path / "elsewhere" / "child"
    (base_dir / "prices").mkdir(parents=True)
    (base_dir / "prices" / "rate.csv").write_text("date,value\n2016-01,400\n", encoding="utf-8")
    (base_dir / "extra.yaml").write_text(
        "events:\n  - {id: base-cut, date: 2016-06-10, action: close, where: Nasib crossing, source: test}\n",
        encoding="utf-8")
    write(base_dir, "base", "events:\n  builtin: false\n  files: [extra.yaml]\n"
          "costs:\n  exchange_rate: {file: prices/rate.csv}\n")
    child = child_dir / "child.yaml"
    child_dir.mkdir(parents=True)
    child.write_text("extends: ../../base/base.yaml\nname: child\n", encoding="utf-8")
    loaded = load_scenario(child)
    assert loaded.resolve(loaded.scenario.events.files[0]) == (base_dir / "extra.yaml").resolve()
    assert scenario_prices(loaded).syp_per_usd(date(2016, 6, 1)) == 400
    assert "base-cut" in {e.id for e in scenario_events(loaded.network, loaded).events}
    (base_dir / "net.yaml").write_text("extends: base.yaml\nname: net\nnetwork: roads/mine.graphml\n", encoding="utf-8")
    child.write_text("extends: ../../base/net.yaml\nname: child\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"net.yaml:3: network: network file not found: .*base/roads/mine"):
        load_scenario(child)
    # a shipped base extended from a folder of one's own: its paths still mean the shipped files
    for name in ("baseline-2010", "m4-west-reopened-2021"):
        mine = tmp_path / f"my-{name}.yaml"
        rel = os.path.relpath(ROOT / "scenarios" / f"{name}.yaml", tmp_path)
        mine.write_text(f"extends: {rel}\nname: my-{name}\nperiod: {{start: 2021-01-01, end: 2021-02-01}}\n",
                        encoding="utf-8")
        sc = load_scenario(mine, check_network=False)
        assert (ROOT / "scenarios" / f"{name}.yaml").resolve() in sc.files
        assert scenario_prices(sc).syp_per_usd(date(2021, 1, 15)) == 2899
    assert sc.resolve(sc.scenario.events.control_files[0]) == (ROOT / "scenarios" / "m4-corridor").resolve()


def test_builtin_addresses_name_the_shipped_data(tmp_path):
    path = write(tmp_path, "b", "events:\n  builtin: false\n  control: false\n  files: [builtin:m5]\n"
                 "costs:\n  diesel: {file: builtin:diesel_syp}\n  exchange_rate: {file: builtin:syp_per_usd}\n")
    loaded = load_scenario(path)
    assert loaded.scenario.costs.diesel.file == "builtin:prices/diesel_syp.csv"
    assert loaded.resolve(loaded.scenario.events.files[0]) == data_dir() / "events" / "m5.yaml"
    events = scenario_events(loaded.network, loaded)
    assert len(events) > 10 and all(e.id.startswith("m5-") for e in events.events)
    assert scenario_prices(loaded).diesel_syp_per_l(date(2016, 6, 1)) == 180
    child = tmp_path / "child.yaml"
    child.write_text("extends: builtin:baseline-2010\nname: child\n", encoding="utf-8")
    assert load_scenario(child, check_network=False).files[0] == scenarios_dir() / "baseline-2010.yaml"
    typo = write(tmp_path, "typo", "costs:\n  diesel: {file: builtin:diesel_sy}\n")
    with pytest.raises(InputFileError, match=r"typo.yaml:6: costs.diesel.file: .*did you mean: builtin:diesel_syp"):
        load_scenario(typo, check_network=False)


def test_scenarios_list_and_copy_run_from_a_new_folder(tmp_path):
    listed = cli("scenarios", "list", "--format", "csv")
    assert "m5-closed-2016,2016-01-01,2017-01-01,2016 network (built-in events) with the 2010 demand." in listed
    dest = tmp_path / "mine"
    assert f"wrote {dest / 'm4-corridor'}" in cli("scenarios", "copy", "m4-west-reopened-2021", str(dest))
    assert {p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()} == {
        "m4-west-2021.yaml", "m4-west-reopened-2021.yaml", "m4-corridor/crossings.csv"}
    copy = load_scenario(dest / "m4-west-reopened-2021.yaml")  # places, selectors and files checked on its network
    assert copy.files[0] == (dest / "m4-west-2021.yaml").resolve()
    assert copy.resolve(copy.scenario.events.control_files[0]) == (dest / "m4-corridor").resolve()
    with pytest.raises(InputFileError, match=r"m4-west-2021\.yaml: exists; give --force to overwrite"):
        copy_scenario("m4-west-reopened-2021", dest)
    assert len(copy_scenario("m4-west-reopened-2021", dest, force=True)) == 3
    with pytest.raises(RoutesimError, match="did you mean: m5-closed-2016"):
        copy_scenario("m5-closed", tmp_path)


def test_copy_rewrites_paths_into_the_shipped_data(tmp_path, monkeypatch):
    shipped = tmp_path / "shipped"
    rel = os.path.relpath(data_dir() / "prices" / "syp_per_usd.csv", shipped)
    write(shipped, "old-style", f"costs:\n  exchange_rate: {{file: {rel}}}\n")
    monkeypatch.setattr("routesim.io.scenario_copy.scenarios_dir", lambda: shipped)
    (written,) = copy_scenario("old-style", tmp_path / "dest")
    assert "exchange_rate: {file: builtin:prices/syp_per_usd.csv}" in written.read_text()
    assert scenario_prices(load_scenario(written, check_network=False)).syp_per_usd(date(2016, 6, 1)) == 440


# --- what-ifs that hold -----------------------------------------------------------------------------------------


def test_exclude_by_id_and_tag_and_shift_days(tmp_path):
    body = ("events:\n  control: false\n  exclude: [{id: m5-saraqib-2012}, {tag: rastan}]\n"
            "  shift: [{id: m5-open-2020-02-22, shift_days: -365}, {tag: saraqib, shift_days: 10}]\n")
    loaded = load_scenario(write(tmp_path, "edit", body, start="2019-01-01", end="2020-06-01"))
    events = {e.id: e for e in scenario_events(loaded.network, loaded).events}
    assert "m5-saraqib-2012" not in events
    assert not [e for e in events.values() if "rastan" in e.tags]
    assert events["m5-open-2020-02-22"].date == date(2019, 2, 22)
    assert (events["m5-saraqib-aleppo-2020"].date, events["m5-saraqib-aleppo-2020"].end) == (
        date(2020, 2, 16), date(2020, 3, 3))
    typo = write(tmp_path, "typo", "events:\n  exclude: [{id: m5-saraqib-2021}]\n")
    with pytest.raises(InputFileError, match=r"typo.yaml:6: events.exclude\[0\]: .*did you mean: m5-saraqib-2012"):
        load_scenario(typo)


def test_a_hold_lasts_its_whole_period_whatever_later_library_closures_say(tmp_path):
    whatif = "  - {where: 'M5:Hama:Aleppo', %s date: 2019-02-22%s}\n"
    inline = write(tmp_path, "inline", "events:\n  inline:\n" + whatif % ("id: m5-early, action: open,", ""),
                   start="2019-01-01", end="2020-06-01")
    held = write(tmp_path, "held", "events:\n  holds:\n" + whatif % ("state: open,", ", end: 2020-01-01"),
                 start="2019-01-01", end="2020-06-01")
    closed = {}
    for path in (inline, held):
        loaded = load_scenario(path)
        events = scenario_events(loaded.network, loaded)
        m5 = loaded.network.select("M5:Hama:Aleppo")
        closed[path.stem] = [int(events.state_at(date.fromisoformat(d), actor="commercial").closed[1][m5].sum())
                             for d in ("2019-01-15", "2019-03-01", "2019-10-01", "2020-01-15")]
    # the inline open is an event like the library's: the front line of the ground stays shut over it, and
    # the library's 2019-08-21 closures undo it; the hold lasts to its end, over the ground too, and after it
    # the library and the ground are in force again
    assert closed["inline"][0] == 16 and 0 < closed["inline"][1] < closed["inline"][2]
    assert closed["held"][:3] == [16, 0, 0] and closed["held"][3] > 0
    bad = write(tmp_path, "bad", "events:\n  holds:\n  - {where: 'M5:Hama:Aleppa', state: close}\n")
    with pytest.raises(InputFileError, match=r"bad.yaml:7: events.holds\[0\].where: .*Aleppo"):
        load_scenario(bad)


def test_timeline_shows_the_network_a_scenario_runs_on(tmp_path):
    held = write(tmp_path, "held", "events:\n  holds:\n  - {id: m5-held, where: 'M5:Hama:Aleppo', state: open, "
                 "date: 2019-02-22, end: 2020-01-01}\n", start="2019-01-01", end="2020-06-01")
    rows = json.loads(cli("timeline", "Hama", "Aleppo", "--scenario", str(held), "--format", "json"))
    assert rows[0]["start"] == "2019-01-01" and rows[-1]["end"] == "2020-06-01"
    during = [r for r in rows if "2019-02-22" <= r["start"] < "2020-01-01"]
    assert during and all(r["roads"] == ["M5"] and r["detour_km"] == 0 for r in during)
    assert any("m5-held" in r["events"] for r in rows) and any("m5-held" in r["ended"] for r in rows)
    plain = cli("timeline", "Hama", "Aleppo", "--start", "2019-10-01", "--end", "2019-10-02",
                "--network", "syria-sketch", "--format", "json")
    assert json.loads(plain)[0]["roads"] == ["Salamiyah road", "Desert road"]
