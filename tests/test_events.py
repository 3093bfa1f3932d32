"""Events: the built-in library replays history; user files extend it without code."""

from __future__ import annotations

import json
from datetime import date

import pytest

from routesim import timeline
from routesim.errors import InputFileError
from routesim.events import as_event_set, effects, load_events
from routesim.models import Event, EventFile
from routesim.models.schema import event_schema

from .conftest import run_cli


def events_from(net, tmp_path, text):
    """Event set of a YAML text written to a file (no built-in library)."""
    f = tmp_path / "ev.yaml"
    f.write_text(text, encoding="utf-8")
    return load_events(net, [f], builtin=False)


def m5_north_edges(net):
    return net.select("M5:Hama:Aleppo")


def test_library_is_large_and_sourced(net):
    lib = as_event_set(net, None)
    assert len(lib) >= 40
    assert all(e.source for e in lib.events)
    years = {e.date.year for e in lib.events}
    assert min(years) <= 2012 and max(years) >= 2025


def test_nasib_crossing_closed_2015_2018(net):
    assert not net.route("Deraa", "Nasib crossing", date="2016-01-01").reachable
    assert net.route("Deraa", "Nasib crossing", date="2019-01-01").reachable


def test_end_restores_previous_state_and_later_event_overrides(net, tmp_path):
    es = events_from(net, tmp_path, """
events:
  - id: cut
    date: 2030-01-01
    action: close
    where: M5:Hama:Aleppo
  - id: reopen
    date: 2030-02-01
    action: open
    where: M5:Hama:Aleppo
  - id: short-cut
    date: 2030-03-01
    end: 2030-03-05
    action: close
    where: M5:Saraqib:Aleppo
""")
    closed = lambda d: es.state_at(date.fromisoformat(d)).closed[0]  # noqa: E731
    north = m5_north_edges(net)
    assert closed("2030-01-15")[north].all()
    assert not closed("2030-02-15")[north].any()
    assert closed("2030-03-02")[net.select("M5:Saraqib:Aleppo")].all()
    assert not closed("2030-03-05")[north].any()


def test_same_day_contradiction_is_deterministic_and_warned(net, tmp_path):
    es = events_from(net, tmp_path, """
events:
  - id: z-open
    date: 2030-01-01
    action: open
    where: M5:Hama:Aleppo
  - id: a-close
    date: 2030-01-01
    action: close
    where: M5:Hama:Aleppo
""")
    assert es.warnings and "a-close" in es.warnings[0]
    assert es.state_at(date(2030, 1, 2)).closed[0][m5_north_edges(net)].all()  # close wins


def test_thousands_of_same_day_events_give_a_bounded_list_of_warnings(net, tmp_path):
    """3,000 alternating closures and openings of one road on one day: each conflicting pair was a
    warning (2.25 million lines); now the first pairs are listed, then a count, and the order rule
    still decides the state."""
    from routesim.events.eventset import MAX_CONFLICT_WARNINGS

    lines = ["events:"]
    for i in range(3000):
        lines.append(f"  - {{id: e{i:04d}, date: 2030-01-01, action: {'close' if i % 2 else 'open'}, "
                     "where: M5:Hama:Aleppo}")
    es = events_from(net, tmp_path, "\n".join(lines) + "\n")
    assert len(es) == 3000
    assert len(es.warnings) == MAX_CONFLICT_WARNINGS + 1
    assert es.warnings[-1].startswith("and at least ") and "more pairs" in es.warnings[-1]
    assert es.state_at(date(2030, 1, 2)).closed[0][m5_north_edges(net)].all()  # close (precedence 2) wins


def test_restriction_fee_delay_and_truck_ban(net, tmp_path):
    es = events_from(net, tmp_path, """
events:
  - id: checkpoint
    date: 2030-01-01
    action: restrict
    where: M5:Homs:Hama
    restrict: {delay_min: 5, fee: {amount: 100, currency: USD}, exclude: [truck]}
""")
    car = net.route("Homs", "Hama", date="2030-01-02", events=es)
    base = net.route("Homs", "Hama")
    assert car.segments == base.segments
    assert car.time_h == pytest.approx(base.time_h + len(base.segments) * 5 / 60)
    truck = net.route("Homs", "Hama", vehicle="truck", date="2030-01-02", events=es)
    assert "M5" not in truck.roads or not es.state_at(date(2030, 1, 2)).closed[1][list(truck.edge_index)].any()


def test_night_closure_is_a_layer_until_opened_or_lifted(net, tmp_path):
    es = events_from(net, tmp_path, """
events:
  - {id: night, date: 2030-01-01, action: restrict, where: M5:Homs:Hama, restrict: {night_closed: true}}
  - {id: cp, date: 2030-02-01, end: 2030-03-01, action: restrict, where: m5-homs-talbiseh, restrict: {delay_min: 5}}
  - {id: lift, date: 2030-04-01, action: restrict, where: m5-homs-talbiseh, restrict: {night_closed: false}}
  - {id: open, date: 2030-05-01, action: open, where: M5:Homs:Hama}
""")
    m = net.select("M5:Homs:Hama")
    cp = net.select("m5-homs-talbiseh")
    assert not es.state_at(date(2029, 12, 31)).night_closed.any()
    assert (es.state_at(date(2030, 1, 15)).night_closed == m).all()
    during = es.state_at(date(2030, 2, 15))  # a checkpoint starting later leaves the night closure in place
    assert (during.night_closed == m).all() and (during.delay_s[cp] == 300).all()
    lifted = es.state_at(date(2030, 4, 15)).night_closed
    assert not lifted[cp].any() and lifted[m & ~cp].all()
    assert not es.state_at(date(2030, 5, 15)).night_closed.any()
    # Routes have no time of day: a night closure does not change them.
    assert net.route("Homs", "Hama", date="2030-01-15", events=es).time_h == net.route("Homs", "Hama").time_h


def test_registered_effect_is_accepted_and_applied(net, tmp_path):
    def toll(state, mask, vehicles, event):
        state.fee_usd[mask] = float(event.params["usd"])

    effects.register_effect("toll", toll)
    try:
        f = tmp_path / "ev.yaml"
        f.write_text(
            "events:\n  - id: t\n    date: 2030-01-01\n    action: toll\n    where: M5:Homs:Hama\n"
            "    params: {usd: 7}\n",
            encoding="utf-8",
        )
        es = load_events(net, [f], builtin=False)
        r = net.route("Homs", "Hama", vehicle="truck", date="2030-06-01", events=es)
        assert r.fees_usd == pytest.approx(7 * len(r.segments))
    finally:
        effects.unregister_effect("toll")
    with pytest.raises(InputFileError, match="unknown action 'toll'"):
        load_events(net, [f], builtin=False)


def test_epochs_route_each_state_once(net, monkeypatch):
    calls = []
    original = type(net).route

    def counting(self, *a, **kw):
        calls.append(1)
        return original(self, *a, **kw)

    monkeypatch.setattr(type(net), "route", counting)
    rows = timeline(net, "Damascus", "Aleppo", start="2011-01-01", end="2026-01-01", as_frame=False)
    lib = as_event_set(net, None)
    assert len(rows) == len(lib.epochs(date(2011, 1, 1), date(2026, 1, 1)))
    assert len(calls) <= len(rows) + 1
    assert sum(r["days"] for r in rows) == (date(2026, 1, 1) - date(2011, 1, 1)).days
    desert = [r for r in rows if "Desert road" in r["roads"]]
    assert desert and all(r["detour_km"] > 0 for r in desert)


def test_user_event_file_changes_route_via_cli(tmp_path):
    f = tmp_path / "my-events.yaml"
    f.write_text(
        "events:\n  - id: my-homs-cut\n    date: 2021-01-01\n    action: close\n    where: M5:Homs:Hama\n",
        encoding="utf-8",
    )
    sketch = ("--network", "syria-sketch")  # its segment ids name the road: m5-...
    before = json.loads(run_cli("route", "Damascus", "Hama", "--date", "2021-06-01", "--format", "json",
                                *sketch).stdout)
    res = run_cli("route", "Damascus", "Hama", "--date", "2021-06-01", "--events", str(f), "--format", "json",
                  *sketch)
    after = json.loads(res.stdout)
    assert res.returncode == 0
    assert after["distance_km"] > before["distance_km"]
    assert after["date"] == "2021-06-01" and after["closed_segments"]
    assert all(s.startswith("m5-") for s in after["closed_segments"])


def test_malformed_event_file_gives_located_errors_exit_2(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text(
        "events:\n  - id: a\n    date: 2012-13-11\n    action: shut\n    where: M5:Hama:Aleppo\n"
        "    colour: red\n  - id: b\n    date: 2012-01-01\n    action: close\n    where: M5:Hamma-x:Aleppo\n",
        encoding="utf-8",
    )
    res = run_cli("events", "validate", str(f))
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert f"{f}:3: events[0].date:" in res.stderr
    assert f"{f}:4: events[0].action:" in res.stderr
    assert f"{f}:6: events[0].colour: unknown key" in res.stderr
    assert f"{f}:10: where:" in res.stderr and "FROM: unknown place" in res.stderr
    syntax = tmp_path / "syntax.yaml"
    syntax.write_text("events:\n  - id: [x\n", encoding="utf-8")
    res = run_cli("events", "validate", str(syntax))
    assert res.returncode == 2 and f"{syntax}:" in res.stderr and "Traceback" not in res.stderr


def test_library_files_validate_and_match_schema(net):
    import jsonschema

    from routesim._util.datafiles import events_dir
    from routesim._util.yamlio import load

    schema = event_schema()
    for path in sorted(events_dir().glob("*.yaml")):
        jsonschema.validate(json.loads(json.dumps(load(path).data, default=str)), schema)
    assert set(schema["$defs"]["Event"]["properties"]) == set(Event.model_fields)
    assert set(schema["properties"]) == set(EventFile.model_fields)
    res = run_cli("events", "validate", *map(str, sorted(events_dir().glob("*.yaml"))))
    assert res.returncode == 0, res.stderr


def test_events_list_and_timeline_cli():
    res = run_cli("events", "list", "--date", "2016-03-01", "--format", "csv")
    assert res.returncode == 0 and res.stdout.startswith("id,date,end,action,where")
    res = run_cli("timeline", "Damascus", "Aleppo", "--start", "2011-01-01", "--end", "2021-01-01", "--format", "json")
    rows = json.loads(res.stdout)
    assert res.returncode == 0 and any("Khanasir" in r["via"] for r in rows)
    assert rows[0]["start"] == "2011-01-01" and "Khanasir" not in rows[0]["via"]
