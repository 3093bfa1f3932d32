"""Criticality (single- and multi-link redundancy, demand losses) and the value of reopening closures."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from routesim import Network
from routesim.analysis.criticality import (
    DEMAND_COLUMNS,
    LINK_COLUMNS,
    DemandRoutes,
    demand_losses,
    edge_links,
    groups_from,
    multi_link,
    sections,
    single_link,
)
from routesim.analysis.reopen import REOPEN_COLUMNS, closures_in_force, reopen_day
from routesim.demand.costs import DailyPrices
from routesim.demand.flows import scenario_flows
from routesim.demand.prices import scenario_prices
from routesim.events.eventset import EventSet, as_event_set
from routesim.network.pathfinding import LinkSearch
from routesim.runner.run import scenario_events
from routesim.runner.validate import load_scenario, scenario_network
from tests.conftest import ROOT, run_cli

D2010 = date(2010, 6, 1)
D2016 = date(2016, 6, 1)


@pytest.fixture(scope="module")
def osm_events(osm: Network) -> EventSet:
    return as_event_set(osm, None)


@pytest.fixture(scope="module")
def baseline() -> dict:
    """The 2010 demand on the scenario's network, events and prices."""
    loaded = load_scenario(ROOT / "scenarios" / "baseline-2010.yaml")
    net = scenario_network(loaded)
    return {"net": net, "events": scenario_events(net, loaded), "flows": scenario_flows(loaded.scenario),
            "prices": scenario_prices(loaded), "vot": loaded.scenario.costs.value_of_time_usd_h}


def _day_prices(b: dict, day: date) -> DailyPrices:
    return DailyPrices.over(b["prices"], day, day + timedelta(days=1))


def _nx_alternative(G: nx.MultiDiGraph, u: int, v: int, key: int, weight: str) -> float:
    data = G.edges[u, v, key]
    G.remove_edge(u, v, key)
    try:
        return float(nx.dijkstra_path_length(G, u, v, weight=weight))
    except nx.NetworkXNoPath:
        return float("inf")
    finally:
        G.add_edge(u, v, key, **data)


def test_edge_alternatives_equal_networkx_on_the_sketch(net: Network) -> None:
    table = single_link(net, net.open_state, links=edge_links(net), vehicle="car", weight="distance")
    G = nx.MultiDiGraph()
    e = net.edges
    for i in range(e.n):
        G.add_edge(int(e.u[i]), int(e.v[i]), key=i, length=float(e.length_m[i]))
    expected = np.array([_nx_alternative(G, int(e.u[i]), int(e.v[i]), i, "length") for i in range(e.n)])
    connected = np.isfinite(expected)
    assert table["connected"].to_numpy().tolist() == connected.tolist()
    assert connected.sum() > 100  # a real test: most sketch edges have an alternative, the spurs do not
    assert not connected.all()
    np.testing.assert_allclose(table["alt_km"].to_numpy()[connected] * 1000.0, expected[connected], rtol=1e-12)
    np.testing.assert_allclose(table["detour_km"].to_numpy()[connected],
                               (expected[connected] - e.length_m[connected]) / 1000.0, rtol=1e-9, atol=1e-9)
    # Every road of the sketch is two-way: an edge is cut exactly when its road is a bridge of the graph,
    # and the reason names a dead end where there is one.
    cut = table["cut"].to_numpy()
    assert set(cut[connected]) == {""} and "" not in set(cut[~connected])
    bridges = {frozenset(b) for b in nx.bridges(nx.Graph(G.to_undirected()))}
    assert {frozenset((int(e.u[i]), int(e.v[i]))) for i in np.flatnonzero(~connected)} == bridges
    degree = np.bincount(np.r_[e.u, e.v])
    for i in np.flatnonzero(~connected):
        dead_end = degree[e.v[i]] == 2 or degree[e.u[i]] == 2  # one road in and out
        assert (cut[i] in ("start", "end")) == bool(dead_end)


def test_link_search_equals_networkx_on_an_osm_clip(osm: Network) -> None:
    """Around Hama (real topology: carriageways, ramps, dead ends), every edge closed alone."""
    e = osm.edges
    inside = (e.node_x > 36.65) & (e.node_x < 36.85) & (e.node_y > 35.05) & (e.node_y < 35.2)
    keep = np.flatnonzero(inside[e.u] & inside[e.v])
    nodes, inv = np.unique(np.r_[e.u[keep], e.v[keep]], return_inverse=True)
    u, v = inv[: len(keep)], inv[len(keep):]
    w = e.length_m[keep]
    assert 500 < len(keep) < 5000
    c, a, _, _ = LinkSearch(len(nodes), u, v).alternatives(
        w, u, v, np.arange(len(keep) + 1), np.arange(len(keep)), sums=(w, np.ones(len(keep))))
    G = nx.MultiDiGraph()
    for i in range(len(keep)):
        G.add_edge(int(u[i]), int(v[i]), key=i, length=float(w[i]))
    sample = np.random.default_rng(3).choice(len(keep), size=250, replace=False)
    expected = np.array([_nx_alternative(G, int(u[i]), int(v[i]), int(i), "length") for i in sample])
    assert np.array_equal(np.isfinite(c[sample]), np.isfinite(expected))
    ok = np.isfinite(expected)
    np.testing.assert_allclose(c[sample][ok], expected[ok], rtol=1e-12)
    np.testing.assert_allclose(a[sample][ok], expected[ok], rtol=1e-12)


def test_sections_partition_the_edges_and_run_junction_to_junction(osm: Network) -> None:
    links = sections(osm)
    e = osm.edges
    counts = np.bincount(links.edges, minlength=e.n)
    assert counts.max() == 1 and counts.sum() > 0.99 * e.n  # rings without a junction are all that is left out
    # Both directions of a segment fall in one section.
    owner = links.link_of_edge(e.n)
    seg_owner: dict[int, int] = {}
    for i in np.flatnonzero(owner >= 0)[:20000].tolist():
        assert seg_owner.setdefault(int(e.segment_code[i]), int(owner[i])) == owner[i]
    # The forward edges of a section form a path from its start to its end.
    for i in np.random.default_rng(1).choice(len(links), size=300, replace=False).tolist():
        lo, hi = links.ptr[i], links.ptr[i + 1]
        fwd = links.edges[lo:hi][links.forward[lo:hi]]
        tails, heads = e.u[fwd].tolist(), e.v[fwd].tolist()
        x, steps = int(links.start[i]), 0
        nxt = dict(zip(tails, heads, strict=True))
        while x != links.end[i]:
            x, steps = nxt[x], steps + 1
        assert steps == len(fwd)
    assert len(links) < 0.8 * len(e.segment_names)  # bends are joined: fewer sections than segments


def test_single_link_on_the_m5_keeps_closed_roads_closed(osm: Network, osm_events: EventSet) -> None:
    links = sections(osm).touching(osm.select("M5:Hama:Aleppo"))
    open_2010 = single_link(osm, osm_events.state_at(D2010), links=links)
    shut_2016 = single_link(osm, osm_events.state_at(D2016), links=links)
    assert list(open_2010.columns) == list(LINK_COLUMNS)
    assert not open_2010["closed"].any()
    assert shut_2016["closed"].mean() > 0.9  # the M5 north of Hama is closed in 2016
    ok = open_2010["connected"].to_numpy()
    assert ok.sum() > 50
    assert (open_2010["detour_km"].to_numpy()[ok] > 0).all()
    assert (open_2010["extra_time_h"].to_numpy()[ok] > 0).all()


def test_closing_the_m5_north_of_hama_in_2010(osm: Network, osm_events: EventSet) -> None:
    state = osm_events.state_at(D2010)
    _, groups = multi_link(osm, state, groups_from(osm, ["M5:Hama:Aleppo"]))
    row = groups.iloc[0]
    closed = osm.route("Hama", "Aleppo", vehicle="truck", state=state, closures=["M5:Hama:Aleppo"])
    base = osm.route("Hama", "Aleppo", vehicle="truck", state=state)
    assert row["connected"]
    assert row["alt_km"] == pytest.approx(closed.distance_km)
    assert row["detour_km"] == pytest.approx(closed.distance_km - base.distance_km)
    # Only the M5 closed, the country roads east of it are open in 2010: a real detour,
    # shorter than the desert road's +112 km of 2016 (which needs the front lines too).
    assert 10 < row["detour_km"] < 112
    assert row["extra_time_h"] > 0.3
    assert 250 < row["km"] < 350


def test_an_area_group_closes_every_link_inside(osm: Network, osm_events: EventSet) -> None:
    area = {"area": {"place": "Khanasir", "radius_km": 15}}
    per_link, groups = multi_link(osm, osm_events.state_at(D2010), groups_from(osm, [area]))
    row = groups.iloc[0]
    assert row["group"].startswith("area") and row["links"] == len(per_link) > 20
    assert pd.isna(row["route_km"])  # no FROM and TO for an area
    # Inside a closed area most links have no way round: their neighbours are closed too.
    assert row["links_disconnected"] > 0.5 * row["links"]
    mask = osm.select(area)
    links = sections(osm).touching(mask)
    assert set(per_link["link"]) == set(links.ids)


def test_demand_losses_reroute_only_the_links_on_the_routes(baseline: dict) -> None:
    net = baseline["net"]
    state = baseline["events"].state_at(D2010)
    demand = DemandRoutes(net, state, baseline["flows"], prices=_day_prices(baseline, D2010),
                          value_of_time_usd_h=baseline["vot"])
    links = sections(net).touching(net.select("M5"))
    table = demand_losses(single_link(net, state, links=links), links, demand)
    assert list(table.columns) == [*LINK_COLUMNS, *DEMAND_COLUMNS]
    ranked = table[table["rank"] > 0]
    assert len(ranked) > 20
    assert ranked["rank"].tolist() == list(range(1, len(ranked) + 1))
    assert (np.diff(ranked["extra_cost_usd"].to_numpy()) <= 1e-9).all()
    idle = table[table["flows"] == ""]
    assert len(idle) > 100 and (idle["extra_vehicle_km"] == 0).all() and (idle["rank"] == 0).all()
    # The top link, checked against the route API: trucks x (route with the link closed - route now).
    top = ranked.iloc[0]
    i = int(np.flatnonzero(links.ids == top["link"])[0])
    mask = np.zeros(net.edges.n, dtype=bool)
    mask[links.edges_of(i)] = True
    expected = 0.0
    for f in baseline["flows"]:
        if f.id in top["flows"].split(";"):
            now = net.route(f.origin, f.destination, vehicle="truck", state=state)
            cut = net.route(f.origin, f.destination, vehicle="truck", state=state.with_closed(mask))
            expected += f.trucks_per_day * (cut.distance_km - now.distance_km)
    assert top["extra_vehicle_km"] == pytest.approx(expected, rel=1e-9)
    assert top["extra_vehicle_km"] > 0 and top["extra_truck_hours"] > 0 and top["extra_fuel_l"] > 0


def test_reopening_the_m5_north_of_hama_ranks_first_in_2016(baseline: dict) -> None:
    net, events = baseline["net"], baseline["events"]
    table = reopen_day(net, events, baseline["flows"], day=D2016, prices=_day_prices(baseline, D2016),
                       value_of_time_usd_h=baseline["vot"])
    assert list(table.columns) == list(REOPEN_COLUMNS)
    first = table.iloc[0]
    assert first["closure"] == "m5-north-of-hama-2012-2020" and first["rank"] == 1
    assert first["saved_truck_hours"] > 1000 and first["saved_vehicle_km"] > 50_000 and first["saved_cost_usd"] > 0
    ranked = table[table["rank"] > 0]
    assert (np.diff(ranked["saved_cost_usd"].to_numpy()) <= 1e-9).all()
    # A short event inside the umbrella closure is worth nothing alone: the rest of the M5 stays shut.
    inner = table.set_index("closure").loc["m5-saraqib-2012"]
    assert inner["rank"] == 0 and inner["saved_vehicle_km"] == 0
    kinds = set(table["kind"])
    assert kinds == {"event", "ground"}  # front-line stretches are closures too
    # The Damascus-Aleppo trucks save what the route API says the M5 is worth on that day.
    state = events.state_at(D2016)
    m5 = next(c for c in closures_in_force(events, state) if c.id == "m5-north-of-hama-2012-2020")
    opened = state.closed.copy()
    opened[:, m5.edges] = False
    from dataclasses import replace

    now = net.route("Damascus", "Aleppo", vehicle="truck", state=state)
    after = net.route("Damascus", "Aleppo", vehicle="truck", state=replace(state, closed=opened, _key=[]))
    assert now.distance_km - after.distance_km > 20
    assert "dam-alp" in first["flows"].split(";")


def _main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """The console entry point in this process: exit status and stderr."""
    from routesim.cli.app import main

    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


def test_cli_criticality_writes_csv_and_geopackage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "crit"
    code, err = _main(capsys, "criticality", "--network", "syria-sketch", "--roads", "M5,M4", "--group",
                      "M5:Homs:Hama", "--edges", "--weight", "distance", "--out", str(out), "--top", "3")
    assert code == 0, err
    with open(out / "links.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == list(LINK_COLUMNS)
    assert len(rows) > 20 and all(row["ref"] for row in rows)
    km = [float(row["detour_km"]) for row in rows if row["detour_km"]]
    assert km == sorted(km, reverse=True) and km[0] > 0
    import geopandas as gpd

    layer = gpd.read_file(out / "links.gpkg", layer="links")
    assert len(layer) == len(rows) and layer.geometry.notna().all() and layer.crs.to_epsg() == 4326
    with open(out / "segments.csv", newline="", encoding="utf-8") as fh:
        segs = list(csv.DictReader(fh))
    assert list(segs[0]) == ["segment", "link", "extra_time_h", "detour_km"]  # the map colours by the last
    assert {s["link"] for s in segs} == {row["link"] for row in rows}
    groups = gpd.read_file(out / "groups.gpkg", layer="groups")
    assert groups["group"].tolist() == ["M5:Homs:Hama"] and groups["detour_km"].iloc[0] > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("criticality", "--date", "2016-13-01"), "invalid date"),
        (("criticality", "--network", "syria-sketch", "--group", "{area"), "not valid JSON"),
        (("criticality", "--network", "syria-sketch", "--roads", "M5", "--all"), "not both"),
        (("reopen", "--date", "2016-06-01"), "give --scenario"),
    ],
)
def test_cli_bad_input_exits_2(args: tuple[str, ...], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _main(capsys, *args)
    assert code == 2, err
    assert err.startswith("routesim: error:") and message in err


def test_console_script_unknown_road_exits_2_with_close_matches() -> None:
    r = run_cli("criticality", "--network", "syria-sketch", "--roads", "M55")
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("routesim: error:") and "M5" in r.stderr
    assert "Traceback" not in r.stderr


def test_reopen_over_a_period_is_the_days_of_its_epochs(baseline: dict) -> None:
    from routesim.analysis.reopen import reopen_period

    net, events, flows = baseline["net"], baseline["events"], baseline["flows"]
    start, end = D2016, D2016 + timedelta(days=7)
    assert len(events.epochs(start, end)) == 1
    week = reopen_period(net, events, flows, start=start, end=end, prices=baseline["prices"],
                         value_of_time_usd_h=baseline["vot"]).set_index("closure")
    day = reopen_day(net, events, flows, day=D2016, prices=_day_prices(baseline, D2016),
                     value_of_time_usd_h=baseline["vot"]).set_index("closure")
    top = "m5-north-of-hama-2012-2020"
    assert week.loc[top, "days"] == 7 and week.loc[top, "rank"] == 1
    assert week.loc[top, "saved_truck_hours"] == pytest.approx(7 * day.loc[top, "saved_truck_hours"])
    assert week.loc[top, "saved_vehicle_km"] == pytest.approx(7 * day.loc[top, "saved_vehicle_km"])


def test_cli_reopen_simulates_the_top_closure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _main(capsys, "reopen", "--scenario", str(ROOT / "scenarios" / "baseline-2010.yaml"), "--date",
                      "2016-06-01", "--simulate", "1", "--out", str(tmp_path), "--top", "2")
    assert code == 0, err
    with open(tmp_path / "reopen.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0])[: len(REOPEN_COLUMNS)] == list(REOPEN_COLUMNS)
    first, second = rows[0], rows[1]
    assert first["closure"] == "m5-north-of-hama-2012-2020"
    # Simulated trucks, one day, the M5 held open: hours saved close to the route level's.
    assert float(first["sim_saved_truck_hours"]) > 0.5 * float(first["saved_truck_hours"]) > 0
    assert second["sim_saved_truck_hours"] == ""  # only the top one simulated
