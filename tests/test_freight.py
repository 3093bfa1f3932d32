"""Freight simulation (routesim.freight): conservation, fuel, detours, determinism, stranding, checkpoints.

Expectations are computed from the network's own routes (``net.route``), never from
hard-coded distances: the embedded network data is still being calibrated.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routesim import Flow, SimConfig, SimResult, TruckClass, load_network, simulate
from routesim.events import load_events

START = date(2016, 1, 1)
TRUCK = TruckClass()


class FlatPrices:
    """Constant prices: 500 SYP per litre of diesel, 1000 SYP per USD."""

    def diesel_syp_per_l(self, day: date) -> float:
        return 500.0

    def syp_per_usd(self, day: date) -> float:
        return 1000.0


@pytest.fixture(scope="module")
def net():
    return load_network("syria-sketch")


def write_events(path: Path, events: list[dict]) -> Path:
    """Write a small event file (YAML is a superset of JSON, so json.dumps of each item is valid YAML)."""
    import json

    lines = ["events:"]
    for ev in events:
        lines.append(f"  - {json.dumps(ev, default=str)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def event_set(net, tmp_path: Path, events: list[dict], name: str = "events.yaml"):
    if not events:
        return load_events(net, [], builtin=False)
    return load_events(net, [write_events(tmp_path / name, events)], builtin=False)


def run(net, eset, flows, days: int, **config) -> SimResult:
    cfg = SimConfig(start=START, end=START + timedelta(days=days), **config)
    return simulate(net, eset, flows, cfg, FlatPrices())


def assert_conserved(res: SimResult) -> None:
    """dispatched = delivered + stranded + in_transit, overall, per flow and per day."""
    t = res.trips
    assert set(t["status"]) <= {"delivered", "stranded", "in_transit"}
    s = res.summary
    assert s["trips_dispatched"] == len(t)
    assert s["trips_dispatched"] == s["delivered"] + s["stranded"] + s["in_transit"]
    for _, g in t.groupby("flow"):
        counts = g["status"].value_counts()
        assert len(g) == sum(counts.get(k, 0) for k in ("delivered", "stranded", "in_transit"))
    d = res.daily
    assert d["dispatched"].sum() == len(t)
    assert d["delivered"].sum() == s["delivered"]
    assert d["stranded"].sum() == s["stranded"]
    assert d["in_transit"].iloc[-1] == s["in_transit"]
    # Per-flow table: the same trips, flow by flow.
    f = res.flows.set_index("flow")
    loaded = t[t["leg"] == "loaded"]
    assert f["dispatched"].sum() == len(loaded) and f["unserved"].sum() == s["trips_unserved"]
    assert f["delivered"].sum() == (loaded["status"] == "delivered").sum()
    assert f["fuel_l"].sum() == pytest.approx(s["fuel_l"]) and f["reroutes"].sum() == s["reroutes"]
    assert f["total_cost_usd"].sum() == pytest.approx(s["total_cost_usd"])
    # Arrival only for delivered trips; km never negative.
    assert (t["arrive"].notna() == (t["status"] == "delivered")).all()
    assert (t["km"] >= 0).all()


M5_CUT_DAY = 3  # the closure starts on START + 3 days


def m5_cut(tmp_path: Path, net, day: int = M5_CUT_DAY):
    return event_set(net, tmp_path, [
        {"id": "m5-cut", "date": START + timedelta(days=day), "action": "close", "where": "M5:Hama:Aleppo"},
    ])


def test_every_truck_is_delivered_stranded_or_in_transit(net, tmp_path):
    eset = m5_cut(tmp_path, net)
    flows = [
        Flow("da", "Damascus", "Aleppo", 30.5, TRUCK, return_empty=True),
        Flow("at", "Aleppo", "Tartus", 12.3, TRUCK, depart_hours=(0.0, 24.0)),
        Flow("nd", "Nasib crossing", "Damascus", 7.0, TRUCK),
    ]
    res = run(net, eset, flows, 6)
    assert_conserved(res)
    assert res.summary["in_transit"] > 0  # trucks leaving late on the last day
    assert set(res.trips["leg"]) == {"loaded", "empty_return"}
    loaded = res.trips[res.trips["leg"] == "loaded"]
    returns = res.trips[res.trips["leg"] == "empty_return"]
    assert len(returns) == ((loaded["flow"] == "da") & (loaded["status"] == "delivered")).sum()
    assert (returns["tons"] == 0).all()


EVENT = st.fixed_dictionaries({
    "day": st.integers(min_value=0, max_value=4),
    "days": st.integers(min_value=1, max_value=3),
    "where": st.sampled_from(["M5:Hama:Aleppo", "M5", "Nasib crossing", "m5-homs-talbiseh", "Desert road",
                              "M4:Latakia:Saraqib", "Salamiyah"]),
    "what": st.sampled_from(["close", "open", "checkpoint", "night", "slow", "trucks banned"]),
})
WHAT = {
    "close": {"action": "close"},
    "open": {"action": "open"},
    "checkpoint": {"action": "restrict", "restrict": {"delay_min": 40, "queue": {"trucks_per_hour": 3},
                                                       "fee": {"amount": 20, "currency": "USD"}}},
    "night": {"action": "restrict", "restrict": {"night_closed": True}},
    "slow": {"action": "restrict", "restrict": {"speed_factor": 0.5, "capacity_factor": 0.3}},
    "trucks banned": {"action": "restrict", "restrict": {"exclude": ["truck"]}},
}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    tpd=st.lists(st.floats(min_value=0.0, max_value=15.0), min_size=1, max_size=3),
    od=st.lists(st.sampled_from([("Damascus", "Aleppo"), ("Homs", "Latakia"), ("Aleppo", "Deraa"),
                                 ("Nasib crossing", "Hama"), ("Idlib", "Damascus")]), min_size=3, max_size=3),
    events=st.lists(EVENT, min_size=1, max_size=4),
    seed=st.integers(min_value=0, max_value=2**31),
    wait=st.sampled_from([0.0, 6.0, 30.0]),
)
def test_conservation_property(net, tmp_path, tpd, od, events, seed, wait):
    """Whatever closes, opens or is restricted mid-run, every dispatched truck ends delivered,
    stranded or in transit, and the tables add up."""
    eset = event_set(net, tmp_path, [
        {"id": f"e{i}", "date": START + timedelta(days=e["day"]), "end": START + timedelta(days=e["day"] + e["days"]),
         "where": e["where"], **WHAT[e["what"]]}
        for i, e in enumerate(events)
    ], name=f"ev-{seed}.yaml")
    pairs = zip(tpd, od[: len(tpd)], strict=True)
    flows = [Flow(f"f{i}", o, d, x, TRUCK, return_empty=i == 0) for i, (x, (o, d)) in enumerate(pairs)]
    res = run(net, eset, flows, 5, seed=seed, wait_limit_h=wait, checkpoint_servers=1)
    assert_conserved(res)
    t = res.trips
    assert (t["km"] >= 0).all() and (t["hours"] >= 0).all() and (t["queue_hours"] >= -1e-9).all()
    assert (t["queue_hours"] <= t["hours"] + 1e-6).all()
    done = t["status"] == "delivered"
    assert (t.loc[done, "arrive"] >= t.loc[done, "depart"]).all()


def test_total_fuel_is_sum_over_trips(net, tmp_path):
    eset = m5_cut(tmp_path, net)
    heavy = TruckClass(name="heavy", payload_t=30.0, fuel_empty_l_100km=30.0, fuel_loaded_l_100km=45.0)
    flows = [
        Flow("da", "Damascus", "Aleppo", 20, TRUCK, load_factor=0.5, return_empty=True),
        Flow("hl", "Homs", "Latakia", 10, heavy),
    ]
    res = run(net, eset, flows, 5)
    t, s = res.trips, res.summary
    assert s["fuel_l"] == pytest.approx(t["fuel_l"].sum(), rel=1e-12)
    assert s["fuel_cost_usd"] == pytest.approx(t["fuel_cost_usd"].sum(), rel=1e-12)
    assert res.daily["fuel_l"].sum() == pytest.approx(s["fuel_l"], rel=1e-12)
    # Per trip: km / 100 x the rate of its class, load factor and leg.
    rate = np.where(t["leg"] == "empty_return", TRUCK.fuel_empty_l_100km,
                    np.where(t["flow"] == "hl", heavy.fuel_loaded_l_100km, (28.0 + 38.0) / 2))
    np.testing.assert_allclose(t["fuel_l"], t["km"] / 100.0 * rate, rtol=1e-12)
    np.testing.assert_allclose(t["fuel_cost_syp"], t["fuel_l"] * 500.0, rtol=1e-12)
    np.testing.assert_allclose(t["fuel_cost_usd"], t["fuel_l"] * 0.5, rtol=1e-12)
    assert s["vehicle_km"] == pytest.approx(res.segments["vehicle_km"].sum(), rel=1e-9)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    where=st.lists(st.sampled_from(["M5:Hama:Aleppo", "M5:Homs:Hama", "M4:Latakia:Saraqib", "m5-homs-talbiseh",
                                    "Salamiyah", "M1", "Khanasir", "Rastan"]), min_size=1, max_size=3, unique=True),
    cut_day=st.integers(min_value=0, max_value=3),
    seed=st.integers(min_value=0, max_value=2**31),
)
def test_closing_roads_never_lowers_vehicle_km_for_the_same_deliveries(net, tmp_path, where, cut_day, seed):
    flows = [
        Flow("da", "Damascus", "Aleppo", 12.5, TRUCK),
        Flow("lh", "Latakia", "Homs", 6.0, TRUCK, depart_hours=(0.0, 24.0)),
        Flow("ah", "Aleppo", "Hama", 5.5, TRUCK),
    ]
    events = [{"id": f"cut-{i}", "date": START + timedelta(days=cut_day), "action": "close", "where": w}
              for i, w in enumerate(where)]
    base = run(net, event_set(net, tmp_path, []), flows, 5, seed=seed)
    cut = run(net, event_set(net, tmp_path, events, name=f"cut-{seed}.yaml"), flows, 5, seed=seed)
    tb, tc = base.trips, cut.trips
    # Same seed, same departure plan: a truck is its flow and departure time in both runs.
    key = ["flow", "depart"]  # departures are stored to the second: drop the rare same-second pairs
    tb, tc = tb.drop_duplicates(key, keep=False), tc.drop_duplicates(key, keep=False)
    both = tb.merge(tc, on=key, suffixes=("_b", "_c"), validate="one_to_one")
    both = both[(both["status_b"] == "delivered") & (both["status_c"] == "delivered")]
    assert len(both) > 0
    assert both["km_c"].sum() >= both["km_b"].sum() - 1e-6


def test_closure_never_lowers_vehicle_km(net, tmp_path):
    flows = [
        Flow("da", "Damascus", "Aleppo", 15, TRUCK, depart_hours=(5.0, 12.0)),
        Flow("ha", "Hama", "Aleppo", 8, TRUCK, depart_hours=(5.0, 12.0)),
        Flow("ad", "Aleppo", "Damascus", 6, TRUCK, depart_hours=(5.0, 12.0)),
    ]
    base = run(net, event_set(net, tmp_path, []), flows, 5, seed=7)
    cut = run(net, m5_cut(tmp_path, net, day=2), flows, 5, seed=7)
    for res in (base, cut):
        assert (res.trips["status"] == "delivered").all()  # all trucks delivered in both runs
    assert len(base.trips) == len(cut.trips)
    assert (base.trips["depart"] == cut.trips["depart"]).all()  # same seed, same departures
    assert cut.summary["vehicle_km"] > base.summary["vehicle_km"]
    assert (cut.trips["km"] >= base.trips["km"] - 1e-9).all()


def test_midperiod_m5_closure_reroutes_and_costs_detour_fuel(net, tmp_path):
    """Trucks leaving from the closure day take the detour; those on the M5 at midnight reroute.

    Expected extra fuel = (trips departing on or after the closure day) x (detour km) x
    (L/km): the per-trip distances of trips that were not rerouted are exact (they
    follow ``net.route`` with and without the closure). Rerouted trucks (the few on
    the road at midnight) are the only inexact part: each one's extra km lies between
    0 and the detour from its position, bounded here by twice the full detour, which
    gives the tolerance.
    """
    days, flow = 6, Flow("da", "Damascus", "Aleppo", 40, TRUCK, depart_hours=(12.0, 23.0))
    base_route = net.route("Damascus", "Aleppo", vehicle="truck")
    cut_route = net.route("Damascus", "Aleppo", vehicle="truck", closures=["M5:Hama:Aleppo"])
    assert cut_route.reachable and cut_route.distance_km > base_route.distance_km
    detour_km = cut_route.distance_km - base_route.distance_km

    base = run(net, event_set(net, tmp_path, []), [flow], days)
    cut = run(net, m5_cut(tmp_path, net), [flow], days)
    assert base.summary["stranded"] == 0
    # Trucks caught inside the closed stretch (e.g. between Hama and Saraqib) may have
    # no way out at all: they strand after wait_limit_h; they are left out below.
    tb, tc = base.trips, cut.trips
    delivered = (tb["status"] == "delivered") & (tc["status"] == "delivered")
    assert cut.summary["reroutes"] > 0
    rerouted = tc["reroutes"] > 0
    assert rerouted.sum() == cut.summary["reroutes"]

    # Exact per-trip distances for trips that were not rerouted.
    after = pd.to_datetime(tc["depart"]) >= pd.Timestamp(START + timedelta(days=M5_CUT_DAY))
    plain = delivered & ~rerouted
    np.testing.assert_allclose(tb.loc[plain, "km"], base_route.distance_km, rtol=1e-9)
    np.testing.assert_allclose(tc.loc[plain & after, "km"], cut_route.distance_km, rtol=1e-9)
    np.testing.assert_allclose(tc.loc[plain & ~after, "km"], base_route.distance_km, rtol=1e-9)
    assert cut.trips.loc[plain & after, "roads"].str.contains("M5").all()

    # Totals over trips delivered in both runs.
    rate = TRUCK.litres_per_km(1.0)
    extra_fuel = tc.loc[delivered, "fuel_l"].sum() - tb.loc[delivered, "fuel_l"].sum()
    expected = (delivered & after & ~rerouted).sum() * detour_km * rate
    slack = (delivered & rerouted).sum() * 2.0 * detour_km * rate
    assert abs(extra_fuel - expected) <= slack + 1e-6
    assert extra_fuel > 0
    assert cut.summary["fuel_l"] > base.summary["fuel_l"]
    # Rerouted trucks drove more than the plain route, none beyond route + 2 detours.
    km_r = tc.loc[delivered & rerouted, "km"]
    assert (km_r >= base_route.distance_km - 1e-9).all()
    assert (km_r <= base_route.distance_km + 2 * detour_km + 1e-9).all()


def test_same_seed_gives_identical_frames(net, tmp_path):
    eset = event_set(net, tmp_path, [
        {"id": "m5-cut", "date": START + timedelta(days=2), "action": "close", "where": "M5:Hama:Aleppo"},
        {"id": "cp", "date": START, "action": "restrict", "where": "m5-homs-talbiseh",
         "restrict": {"delay_min": 20, "fee": {"amount": 50, "currency": "USD"}}},
    ])
    flows = [
        Flow("da", "Damascus", "Aleppo", 25.5, TRUCK, return_empty=True),
        Flow("hl", "Homs", "Latakia", 9.2, TRUCK),
    ]
    a = run(net, eset, flows, 5, seed=11)
    b = run(net, eset, flows, 5, seed=11)
    c = run(net, eset, flows, 5, seed=12)
    pd.testing.assert_frame_equal(a.trips, b.trips)
    pd.testing.assert_frame_equal(a.daily, b.daily)
    pd.testing.assert_frame_equal(a.segments, b.segments)
    assert a.summary.keys() == b.summary.keys()
    for k in a.summary:
        assert a.summary[k] == b.summary[k] or (math.isnan(a.summary[k]) and math.isnan(b.summary[k]))
    assert not a.trips.equals(c.trips)


def test_closed_crossing_strands_trucks_on_the_road_and_leaves_later_demand_unserved(net, tmp_path):
    """Nasib crossing closes at midnight: trucks still on the road wait wait_limit_h, then strand;
    from then on no truck is sent (the trips are unserved, not dispatched)."""
    cut = START + timedelta(days=1)
    eset = event_set(net, tmp_path, [{"id": "nasib-shut", "date": cut, "action": "close", "where": "Nasib crossing"}])
    assert not net.route("Damascus", "Nasib crossing", vehicle="truck", state=eset.state_at(cut)).reachable
    full = net.route("Damascus", "Nasib crossing", vehicle="truck")
    wait = 10.0
    flows = [Flow("dn", "Damascus", "Nasib crossing", 12, TRUCK, depart_hours=(21.0, 24.0))]
    res = run(net, eset, flows, 3, wait_limit_h=wait)
    assert_conserved(res)
    t, s = res.trips, res.summary
    assert s["trips_dispatched"] == 12 and s["trips_unserved"] == 24  # days 2 and 3 are not served
    assert s["tons_unserved"] == 24 * TRUCK.payload_t
    assert res.daily["unserved"].tolist() == [0, 12, 12]
    depart_h = (pd.to_datetime(t["depart"]) - pd.Timestamp(START)).dt.total_seconds() / 3600
    stranded = t["status"] == "stranded"
    assert stranded.sum() > 0
    # Those stranded were on the road at midnight and drove only part of the way.
    assert (depart_h[stranded] + full.time_h > 24.0).all()
    assert (t.loc[stranded, "km"] < full.distance_km).all()
    assert (t.loc[stranded, "hours"] >= wait).all()
    assert (t.loc[stranded, "hours"] <= 24.0 - depart_h[stranded] + wait + 1.0).all()
    delivered = t["status"] == "delivered"
    np.testing.assert_allclose(t.loc[delivered, "km"], full.distance_km, rtol=1e-9)
    assert res.daily["stranded"].sum() == stranded.sum()


def test_waiting_trucks_leave_when_the_crossing_reopens(net, tmp_path):
    cut, reopen = START + timedelta(days=1), START + timedelta(days=2)
    eset = event_set(net, tmp_path, [
        {"id": "nasib-shut", "date": cut, "end": reopen, "action": "close", "where": "Nasib crossing"},
    ])
    full = net.route("Damascus", "Nasib crossing", vehicle="truck")
    flows = [Flow("dn", "Damascus", "Nasib crossing", 12, TRUCK, depart_hours=(22.0, 24.0))]
    res = run(net, eset, flows, 3, wait_limit_h=30.0)
    assert_conserved(res)
    t = res.trips
    depart = pd.to_datetime(t["depart"])
    assert (t.loc[depart < pd.Timestamp(reopen), "status"] == "delivered").all()
    assert res.summary["trips_unserved"] == 12  # the day the crossing is shut
    t = t[t["status"] == "delivered"]
    depart, arrive = pd.to_datetime(t["depart"]), pd.to_datetime(t["arrive"])
    caught = (depart < pd.Timestamp(cut)) & (arrive > pd.Timestamp(cut))
    # Trucks caught on the road by the closure waited for the reopening, then finished the trip.
    assert caught.sum() > 0
    assert (arrive[caught] > pd.Timestamp(reopen)).all()
    np.testing.assert_allclose(t["km"], full.distance_km, rtol=1e-9)


def test_checkpoint_delay_adds_time_and_never_caps_the_road(net, tmp_path):
    """``delay_min`` is time added to each passage, not a server: 600 trucks a day all pass, each
    30 minutes later than on the open road, with no queue (a 30-minute server in two lanes would let
    96 a day through)."""
    flows = [Flow("da", "Damascus", "Aleppo", 600, TRUCK, depart_hours=(5.0, 20.0))]
    free = run(net, event_set(net, tmp_path, []), flows, 3)
    eset = event_set(net, tmp_path, [{"id": "cp", "date": START, "action": "restrict", "where": "m5-homs-talbiseh",
                                      "restrict": {"delay_min": 30}}])
    assert "m5-homs-talbiseh" in net.route("Damascus", "Aleppo", vehicle="truck", state=eset.state_at(START)).segments
    res = run(net, eset, flows, 3)
    assert_conserved(res)
    assert res.summary["queue_hours"] == 0 and res.summary["stranded"] == 0
    assert res.summary["trips_dispatched"] == free.summary["trips_dispatched"] == 1800
    assert res.summary["delivered"] + res.summary["in_transit"] == 1800  # the last evening's are on the road
    a, b = (r.trips.set_index("trip_id") for r in (free, res))
    both = (a["status"] == "delivered") & (b["status"] == "delivered")
    assert both.sum() > 1700
    # The roads carry ~40 trucks an hour: no congestion to speak of, so the delay is all the difference.
    np.testing.assert_allclose(b.loc[both, "hours"] - a.loc[both, "hours"], 0.5, atol=0.01)
    assert res.segments.set_index("segment").loc["m5-homs-talbiseh", "mean_delay_h"] >= 0.5


def test_checkpoint_restriction_queues_and_charges_fees(net, tmp_path):
    eset = event_set(net, tmp_path, [
        {"id": "homs-cp", "date": START, "action": "restrict", "where": "m5-homs-talbiseh",
         "restrict": {"queue": {"trucks_per_hour": 2, "lanes": 1}, "fee": {"amount": 100, "currency": "USD"}}},
        {"id": "homs-syp", "date": START, "action": "restrict", "where": "m5-hama-tayyibat-al-imam",
         "restrict": {"fee": {"amount": 20000, "currency": "SYP"}}},
    ])
    route = net.route("Damascus", "Aleppo", vehicle="truck", state=eset.state_at(START))
    assert "m5-homs-talbiseh" in route.segments and "m5-hama-tayyibat-al-imam" in route.segments
    flows = [Flow("da", "Damascus", "Aleppo", 40, TRUCK, depart_hours=(6.0, 10.0))]
    res = run(net, eset, flows, 3, checkpoint_servers=1, value_of_time_usd_h=10.0)
    t, s = res.trips, res.summary
    done = t["status"] == "delivered"
    assert done.sum() > 0
    assert s["queue_hours"] > 0
    assert (t.loc[done, "queue_hours"] > 0).all()
    np.testing.assert_allclose(t.loc[done, "fees_usd"], 100.0)
    np.testing.assert_allclose(t.loc[done, "fees_syp"], 20000.0)
    assert s["fees_usd"] == pytest.approx(t["fees_usd"].sum())
    # 40 trucks in 4 hours through one lane clearing 2 an hour: queues build up well beyond the service time.
    assert t.loc[done, "queue_hours"].mean() > 1.0
    seg = res.segments.set_index("segment")
    assert seg.loc["m5-homs-talbiseh", "mean_delay_h"] > 0.5
    expected_total = (s["fuel_cost_usd"] + s["fees_usd"] + s["fees_syp"] / 1000.0 + s["time_cost_usd"])
    assert s["total_cost_usd"] == pytest.approx(expected_total)
    assert s["time_cost_usd"] == pytest.approx(10.0 * s["truck_hours"])
    assert s["cost_per_ton_usd"] == pytest.approx(s["total_cost_usd"] / s["tons_delivered"])


def test_event_night_closure_holds_trucks_without_the_option(net, tmp_path):
    """A dated night closure (an event, not the optional ban) holds late trucks until 05:00."""
    eset = event_set(net, tmp_path, [{"id": "night", "date": START + timedelta(days=1), "action": "restrict",
                                      "where": "M5:Homs:Hama", "restrict": {"night_closed": True}}])
    flows = [Flow("da", "Damascus", "Aleppo", 20, TRUCK, depart_hours=(14.0, 24.0))]
    res = run(net, eset, flows, 4)
    assert_conserved(res)
    t = res.trips
    later = (t["depart"] >= pd.Timestamp(START + timedelta(days=1))) & (t["depart"] < pd.Timestamp(
        START + timedelta(days=3)))
    held = later & (t["queue_hours"] > 0)
    assert held.sum() > 0
    # Held trucks leave Homs at 05:00, so none arrives in Aleppo before then on the next morning.
    arrive = pd.to_datetime(t.loc[held & (t["status"] == "delivered"), "arrive"])
    assert len(arrive) > 0 and (arrive.dt.hour >= 5).all()
    # Trucks leaving early enough to be past Homs before 20:00 are not held.
    assert (t.loc[later & (t["depart"].dt.hour < 15), "queue_hours"] == 0).all()


def test_night_ban_holds_trucks_before_unsafe_edges(net, tmp_path):
    """Edges flagged night_unsafe are not entered 20:00-05:00: late trucks wait there until 05:00."""
    from routesim import Network

    G = net.graph.copy()
    for _, _, d in G.edges(data=True):
        if str(d.get("segment", "")).startswith("m5-homs"):
            d["night_unsafe"] = True
    flagged = Network.from_graph(G)
    eset = load_events(flagged, [], builtin=False)
    flows = [Flow("da", "Damascus", "Aleppo", 20, TRUCK, depart_hours=(14.0, 24.0))]
    banned = run(flagged, eset, flows, 3, night_ban=True)
    free = run(flagged, eset, flows, 3)
    assert_conserved(banned)
    assert free.summary["queue_hours"] == 0
    assert banned.summary["queue_hours"] > 0
    waited = banned.trips[banned.trips["queue_hours"] > 0]
    arrive = pd.to_datetime(waited.loc[waited["status"] == "delivered", "arrive"])
    assert len(arrive) > 0
    assert (arrive.dt.hour >= 5).all()  # released at 05:00, so no arrival in the small hours
    assert banned.summary["truck_hours"] > free.summary["truck_hours"]


def test_reopening_mid_trip_sends_trucks_not_yet_past_the_fork_back_to_the_m5(net, tmp_path):
    """M5 Hama-Aleppo closed on day 1 only: trucks leaving late on day 1 start on the detour;
    at the reopening (midnight) those still south of Hama, where the detour forks off, take the M5 again."""
    reopen = START + timedelta(days=2)
    eset = event_set(net, tmp_path, [{"id": "cut", "date": START + timedelta(days=1), "end": reopen,
                                      "action": "close", "where": "M5:Hama:Aleppo"}])
    base = net.route("Damascus", "Aleppo", vehicle="truck")
    detour = net.route("Damascus", "Aleppo", vehicle="truck", closures=["M5:Hama:Aleppo"])
    flows = [Flow("da", "Damascus", "Aleppo", 40, TRUCK, depart_hours=(16.0, 24.0))]
    res = run(net, eset, flows, 4)
    assert_conserved(res)
    assert res.summary["reroutes"] == res.trips["reroutes"].sum()
    t = res.trips[res.trips["status"] == "delivered"]
    day1 = (t["depart"] >= pd.Timestamp(START + timedelta(days=1))) & (t["depart"] < pd.Timestamp(reopen))
    under_way = day1 & (pd.to_datetime(t["arrive"]) > pd.Timestamp(reopen))
    back = under_way & (t["reroutes"] > 0)
    # Those south of Hama at midnight had not left the M5 yet: they drive exactly the open route.
    on_m5 = back & np.isclose(t["km"], base.distance_km, rtol=1e-9)
    assert on_m5.sum() > 0 and (t.loc[on_m5, "roads"] == "M5").all()
    # Re-planned trucks never drive more than the detour; the others keep the detour.
    assert (t.loc[back, "km"] < detour.distance_km).all()
    assert (under_way & ~back).sum() > 0
    np.testing.assert_allclose(t.loc[under_way & ~back, "km"], detour.distance_km, rtol=1e-9)
    assert (t.loc[day1 & ~under_way, "reroutes"] == 0).all()


def test_restriction_mid_trip_applies_to_trucks_not_yet_past_it(net, tmp_path):
    """A checkpoint with a fee appears at midnight on the M5 north of Homs: day-0 trucks that
    had not reached it queue and pay; those past it do not; the path is unchanged (no reroute)."""
    cp_day = START + timedelta(days=1)
    eset = event_set(net, tmp_path, [{"id": "cp", "date": cp_day, "action": "restrict", "where": "m5-homs-talbiseh",
                                      "restrict": {"queue": {"trucks_per_hour": 3},
                                                   "fee": {"amount": 40, "currency": "USD"}}}])
    flows = [Flow("da", "Damascus", "Aleppo", 30, TRUCK, depart_hours=(19.0, 24.0))]
    res = run(net, eset, flows, 3)
    assert_conserved(res)
    t = res.trips[res.trips["status"] == "delivered"]
    day0 = t["depart"] < pd.Timestamp(cp_day)
    paid = t["fees_usd"] > 0
    assert (day0 & paid).sum() > 0 and (day0 & ~paid).sum() > 0  # some were before the checkpoint, some past it
    assert (t.loc[paid, "fees_usd"] == 40).all() and (t.loc[~day0, "fees_usd"] == 40).all()
    assert (t.loc[day0 & paid, "queue_hours"] > 0).all() and (t.loc[day0 & ~paid, "queue_hours"] == 0).all()
    assert res.summary["reroutes"] == 0
    base = net.route("Damascus", "Aleppo", vehicle="truck")
    np.testing.assert_allclose(t["km"], base.distance_km, rtol=1e-9)


def test_detour_road_saturates_when_the_corridor_shifts_onto_it(net, tmp_path):
    """BPR: the same trip takes longer when thousands of trucks share the two-lane desert road."""
    eset = event_set(net, tmp_path, [
        {"id": "m5", "date": START, "action": "close", "where": "M5:Hama:Aleppo"},
        {"id": "m4", "date": START, "action": "close", "where": "M4:Latakia:Saraqib"},
    ])
    route = net.route("Damascus", "Aleppo", vehicle="truck", state=eset.state_at(START))
    assert "Desert road" in route.roads

    def hours(trucks: float, **config) -> tuple[float, pd.DataFrame]:
        res = run(net, eset, [Flow("da", "Damascus", "Aleppo", trucks, TRUCK, depart_hours=(6.0, 8.0))], 2,
                  **config)
        done = res.trips[res.trips["status"] == "delivered"]
        return float(done["hours"].mean()), res.segments.set_index("segment")

    light, light_seg = hours(10)
    heavy, heavy_seg = hours(3000)
    assert light == pytest.approx(route.time_h, rel=1e-3)  # free flow
    assert heavy > light * 1.05
    desert = [s for s in heavy_seg.index if heavy_seg.loc[s, "ref"] == "Desert road"]
    assert desert and (heavy_seg.loc[desert, "mean_delay_h"] > light_seg.loc[desert, "mean_delay_h"]).all()
    # Other traffic on the road adds to the trucks' volume.
    busier, _ = hours(3000, background_pcu_share=0.5)
    assert busier > heavy


def test_border_post_carried_by_the_network_queues_and_charges(net, tmp_path):
    """Checkpoints can come from the network itself: edge attributes survive a GraphML round trip
    (as strings), slow routes, and make a simpy queue with the edge's own number of lanes."""
    from routesim import Network, save_network
    from routesim.io import load_network as load_file

    G = net.graph.copy()
    marked = 0
    for _, _, d in G.edges(data=True):
        if d.get("segment") == "m5-nasib-crossing-nasib":
            d.update(checkpoint_min=45, fee_usd=75, checkpoint_trucks_per_hour=0.75, checkpoint_servers=1)
            marked += 1
    assert marked == 2  # both directions
    path = save_network(Network.from_graph(G), tmp_path / "posts.graphml")
    posted = load_file(path)
    cp = posted.select("m5-nasib-crossing-nasib")
    assert (posted.open_state.delay_s[cp] == 45 * 60).all() and (posted.open_state.fee_usd[cp] == 75).all()
    base = net.route("Nasib crossing", "Damascus", vehicle="truck")
    slow = posted.route("Nasib crossing", "Damascus", vehicle="truck")
    assert slow.time_h == pytest.approx(base.time_h + 0.75) and slow.fees_usd == 75

    eset = load_events(posted, [], builtin=False)
    flows = [Flow("nd", "Nasib crossing", "Damascus", 30, TRUCK, depart_hours=(6.0, 9.0))]
    res = run(posted, eset, flows, 2)
    assert_conserved(res)
    t = res.trips[res.trips["status"] == "delivered"]
    assert (t["fees_usd"] == 75).all() and (t["queue_hours"] > 0).all()
    # 30 trucks in 3 hours through one lane clearing one every 80 minutes: the queue grows far
    # beyond the service time (the 45 fixed minutes are no queue: they are in the trip's hours).
    assert t["queue_hours"].max() > 10.0
    # An event restricting the crossing replaces the network's own restriction.
    lifted = event_set(posted, tmp_path, [{"id": "fast-lane", "date": START, "action": "restrict",
                                           "where": "m5-nasib-crossing-nasib", "restrict": {"delay_min": 0}}])
    after = lifted.state_at(START)
    assert (after.delay_s[cp] == 0).all() and (after.fee_usd[cp] == 0).all() and (after.queue_tph[cp] == 0).all()


def test_departure_profile_sets_the_hours_trucks_leave(net, tmp_path):
    profile = [0.0] * 24
    profile[6], profile[18] = 3.0, 1.0
    flows = [Flow("da", "Damascus", "Aleppo", 200, TRUCK, depart_profile=tuple(profile))]
    res = run(net, event_set(net, tmp_path, []), flows, 3)
    hours = res.trips["depart"].dt.hour
    assert set(hours) == {6, 18}
    assert (hours == 6).mean() == pytest.approx(0.75, abs=0.06)
    with pytest.raises(ValueError, match="depart_profile"):
        run(net, event_set(net, tmp_path, []), [Flow("x", "Homs", "Hama", 1, TRUCK, depart_profile=(1.0,) * 23)], 1)


@pytest.mark.parametrize("kind", ["fixed", "lognormal", "exponential"])
def test_checkpoint_service_time_distributions(net, tmp_path, kind):
    """With lanes to spare there is no queue: the stop is the service time alone, of mean 1 / trucks_per_hour."""
    eset = event_set(net, tmp_path, [{"id": "cp", "date": START, "action": "restrict", "where": "m5-homs-talbiseh",
                                      "restrict": {"queue": {"trucks_per_hour": 2}}}])
    assert "m5-homs-talbiseh" in net.route("Damascus", "Aleppo", vehicle="truck", state=eset.state_at(START)).segments
    flows = [Flow("da", "Damascus", "Aleppo", 400, TRUCK, depart_hours=(0.0, 24.0))]
    res = run(net, eset, flows, 3, checkpoint_servers=10_000, checkpoint_service=kind, checkpoint_service_cv=0.4)
    q = res.trips.loc[res.trips["status"] == "delivered", "queue_hours"]
    assert len(q) > 800
    if kind == "fixed":
        np.testing.assert_allclose(q, 0.5)
        return
    assert q.mean() == pytest.approx(0.5, rel=0.08)
    cv = q.std() / q.mean()
    assert cv == pytest.approx(0.4 if kind == "lognormal" else 1.0, rel=0.15)


# -- the day's batches scheduled at once equal the truck-by-truck schedule, to the bit ---------------
def _twin_sims(net, eset, flows, **config):
    """Two fresh, identical simulation states (one for each scheduler)."""
    from routesim.sim.traffic import edge_traffic
    from routesim.sim.world import Sim

    cfg = SimConfig(start=START, end=START + timedelta(days=10), **config)
    return [Sim(net, eset, flows, cfg, FlatPrices(), edge_traffic(net, cfg)) for _ in range(2)]


def test_group_schedule_equals_truck_by_truck_schedule(net, tmp_path):
    """`schedule_group` (cells, compiled) gives the numbers of `count` then `times` per batch exactly:
    trip ends and night waits, hourly volumes, edge statistics, leg ends and per-truck delay rows,
    with congestion, background traffic, checkpoint queues and delays and trucks held three nights and more."""
    from routesim.sim.traffic import Group, count, schedule_group, times
    from routesim.sim.world import FlowRoutes, SimRoute

    eset = event_set(net, tmp_path, [
        # Trucks crawl along the M5, held every night: legs of several days.
        {"id": "crawl", "date": START, "action": "restrict", "where": "M5",
         "restrict": {"speed_factor": 0.03, "night_closed": True}},
        {"id": "cp", "date": START, "action": "restrict", "where": "m1-baniyas-tartus",
         "restrict": {"queue": {"trucks_per_hour": 3}, "fee": {"amount": 40, "currency": "USD"}}},
        # A fixed delay in a lead leg: in the free-flow time, not in the congestion.
        {"id": "post", "date": START, "action": "restrict", "where": "m1-tartus-tell-kalakh-junction",
         "restrict": {"delay_min": 25}},
        {"id": "tight", "date": START, "action": "restrict", "where": "M4:Latakia:Saraqib",
         "restrict": {"capacity_factor": 0.05}},
    ])
    ods = [("Damascus", "Aleppo"), ("Deraa", "Damascus"), ("Homs", "Latakia"), ("Latakia", "Aleppo"),
           ("Aleppo", "Tartus")]
    flows = [Flow(f"f{i}", o, d, 10.0, TRUCK, fee_usd_per_trip=5.0) for i, (o, d) in enumerate(ods)]
    new, ref = _twin_sims(net, eset, flows, background_pcu_share=0.2, truck_pce=40.0)
    # Paths chosen without the events, so that the crawl is on them; several batches of a flow share edges.
    paths = [list(net.route(o, d, vehicle="truck").edge_index) for o, d in ods]
    rng = np.random.default_rng(3)
    batches = [(i, np.sort(rng.uniform(0.0, 24.0, n))) for i, n in ((0, 40), (1, 25), (2, 1), (3, 60), (4, 9),
                                                                      (1, 7), (3, 33))]

    def routes_of(sim):
        return [SimRoute(sim, sim.src[i], sim.dst[i], paths[i], TRUCK) for i in range(len(flows))]

    routes_new, routes_ref = routes_of(new), routes_of(ref)
    lead = routes_new[2].lead  # Homs - Latakia: a checkpoint on the way
    assert lead is not None and 0 < lead[0] < routes_new[2].m
    table = FlowRoutes(len(flows))
    for i, route in enumerate(routes_new):
        table.set(i, route, new.registry)
    fl = np.array([i for i, _ in batches])
    group = Group(fl.astype(np.int32), np.zeros(len(fl), dtype=np.int8), np.array([len(s) for _, s in batches]),
                  np.concatenate([s for _, s in batches]), [routes_new[i] for i in fl], table.lead[fl], table.reg[fl],
                  table.nights[fl], table.road[fl], table.km[fl], table.fee_usd[fl] + new.flow_fee[fl],
                  table.fee_syp[fl], new.flow_tons[fl], new.rate_loaded[fl])
    new.alloc(len(group.starts))
    batch = schedule_group(new, group)

    rows = [count(ref, routes_ref[i], 0, routes_ref[i].next_stop[0], s) for i, s in batches]
    legs = [times(ref, routes_ref[i], 0, routes_ref[i].next_stop[0], s, r, float(ref.flow_tons[i]))
            for (i, s), r in zip(batches, rows, strict=True)]

    assert new.n_vcol == ref.n_vcol
    np.testing.assert_array_equal(new.vol[: new.n_vcol], ref.vol[: ref.n_vcol])
    for name in ("e_trucks", "e_tons", "e_km", "e_delay"):
        np.testing.assert_array_equal(getattr(new, name), getattr(ref, name), err_msg=name)
    most_waits = 0
    for b, ((i, s), leg) in enumerate(zip(batches, legs, strict=True)):
        trips = slice(batch.first + int(batch.r0[b]), batch.first + int(batch.r0[b]) + len(s))
        mine = batch.leg(b)
        np.testing.assert_array_equal(new.t_end[trips], leg.finish)
        np.testing.assert_array_equal(new.t_queue[trips], np.stack([leg.wait_row(r) for r in range(len(s))]).sum(1))
        np.testing.assert_array_equal(mine.ends, leg.ends)
        lead = routes_ref[i].lead
        assert lead is not None
        assert (new.t_km[trips] == lead[1]).all() and (new.t_fee_usd[trips] == lead[2] + 5.0).all()
        for r in range(len(s)):
            np.testing.assert_array_equal(mine.delay_row(r), leg.delay_row(r))
            np.testing.assert_array_equal(mine.wait_row(r), leg.wait_row(r))
            most_waits = max(most_waits, int((leg.wait_row(r) > 0).sum()))
    assert most_waits >= 3  # the running night-wait total is then left to numpy's pairwise sum


@pytest.mark.parametrize("chunk", [None, 40])
def test_departures_drawn_in_bulk_equal_one_flow_at_a_time(net, monkeypatch, chunk):
    """Departures drawn in bulk, a chunk of days at a time as the run reaches them, are the draws of
    one flow and day at a time, value for value, and leave the random stream where those would."""
    import routesim.sim.dispatch as dispatch

    if chunk is not None:
        monkeypatch.setattr(dispatch, "CHUNK_DRAWS", chunk)
    flows = [
        Flow("a", "Damascus", "Aleppo", 12.7, TRUCK),
        Flow("b", "Homs", "Latakia", 0.0, TRUCK),
        Flow("c", "Aleppo", "Tartus", 0.35, TRUCK, depart_hours=(2.5, 9.0)),
        Flow("d", "Deraa", "Damascus", 30.0, TRUCK, depart_hours=(0.0, 24.0)),
    ]
    sim, _ = _twin_sims(net, load_events(net, [], builtin=False), flows, seed=11)
    rng = np.random.default_rng([11, 0])
    chunks = 0
    for d in range(sim.n_days):
        if d >= sim.plan_d1:
            dispatch.plan_departures(sim, d)
            chunks += 1
            assert sim.plan_d0 == d
        row = d - sim.plan_d0
        for i, f in enumerate(flows):
            whole = math.floor(f.trucks_per_day)
            k = whole + int(rng.random() < f.trucks_per_day - whole)
            deps = np.sort(rng.uniform(f.depart_hours[0], f.depart_hours[1], k))
            assert sim.plan_k[row, i] == k
            at = sim.plan_at[row, i]
            np.testing.assert_array_equal(sim.plan_deps[at : at + k], deps)
    assert sim.rng.bit_generator.state == rng.bit_generator.state
    assert chunks == (1 if chunk is None else sim.n_days)  # 40 draws hold one day of these flows


def test_drain_follows_a_one_day_convoy_to_arrival(net, tmp_path):
    """A one-day study ends with the evening's trucks on the road; ``drain_days`` follows them to
    arrival (no truck leaves after the period), and a road cut after the period still strikes them."""
    flows = [Flow("da", "Damascus", "Aleppo", 60, TRUCK, depart_hours=(12.0, 24.0), return_empty=True)]
    plain = run(net, event_set(net, tmp_path, []), flows, 1)
    assert plain.summary["in_transit"] > 0
    drained = run(net, event_set(net, tmp_path, []), flows, 1, drain_days=5)
    assert_conserved(drained)
    s = drained.summary
    assert s["in_transit"] == 0 and s["stranded"] == 0
    # The same departures, no new ones: empty returns only for trucks that arrived within the period.
    assert s["trips_dispatched"] == plain.summary["trips_dispatched"]
    t = drained.trips
    assert (t["depart"] < pd.Timestamp(START + timedelta(days=1))).all()
    assert (t["leg"] == "empty_return").any() and (t["leg"] == "loaded").sum() == 60
    assert len(drained.daily) >= 2 and (drained.daily["dispatched"].iloc[1:] == 0).all()
    assert drained.daily["delivered"].sum() == s["trips_dispatched"]
    np.testing.assert_array_equal(t["depart"], plain.trips["depart"])
    # A cut the day after the period holds the late trucks; they are stranded once the wait limit is up.
    cut = event_set(net, tmp_path, [{"id": "cut", "date": START + timedelta(days=1), "action": "close",
                                     "where": "M5:Homs:Aleppo"}], name="cut.yaml")
    held = run(net, cut, flows, 1, drain_days=5, wait_limit_h=12.0)
    assert_conserved(held)
    assert held.summary["in_transit"] == 0 and held.summary["stranded"] > 0


def test_speed_and_delay_factors_scale_driving_and_checkpoint_time(net, tmp_path):
    """The factors an uncertain replication draws: ``speed_factor`` divides every driving time,
    ``delay_factor`` multiplies every checkpoint delay (and queue service time)."""
    eset = event_set(net, tmp_path, [{"id": "cp", "date": START, "action": "restrict", "where": "m5-homs-talbiseh",
                                      "restrict": {"delay_min": 30}}])
    flows = [Flow("da", "Damascus", "Aleppo", 20, TRUCK, depart_hours=(6.0, 8.0))]

    def hours(**factors):
        t = run(net, eset, flows, 2, **factors).trips.set_index("trip_id")
        return t.loc[t["status"] == "delivered", "hours"]

    base, slow, late = hours(), hours(speed_factor=0.5), hours(delay_factor=3.0)
    np.testing.assert_allclose(slow - base, base - 0.5, rtol=1e-6, atol=1e-3)  # driving doubled, delay not
    np.testing.assert_allclose(late - base, 1.0, atol=1e-3)  # 30 min x 3 = 1.5 h: one more hour
