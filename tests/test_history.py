"""The war's history replayed on the default network (OpenStreetMap): events and the ground together."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from routesim.events.eventset import as_event_set

DESERT = {"Salamiyah", "Ithriya", "Khanasir", "As-Safira"}


def test_open_m5_damascus_aleppo_about_four_and_a_half_hours(osm):
    r = osm.route("Damascus", "Aleppo")
    assert "M5" in r.roads and 340 <= r.distance_km <= 360  # published about 356 km
    assert 4.3 <= r.time_h <= 4.7  # published 4.5 h by car
    assert not DESERT & set(r.via)


@pytest.mark.parametrize("day", ["2010-06-01", "2020-03-20", "2025-06-01"])
def test_m5_open_years(osm, day):
    r = osm.route("Damascus", "Aleppo", date=day)
    assert r.reachable and not DESERT & set(r.via) and 4.3 <= r.time_h <= 4.7


def test_desert_road_years(osm):
    # The M5 cut north of Hama and the Idlib countryside held by the opposition: the desert road.
    r = osm.route("Damascus", "Aleppo", date="2016-06-01")
    assert set(r.via) >= DESERT and "Maarat al-Numan" not in r.via
    assert 5.5 <= r.time_h <= 7.0  # published about 6 h by car
    open_km = osm.route("Damascus", "Aleppo").distance_km
    assert 60 <= r.distance_km - open_km <= 140
    # Through Hama the detour is the seed's "about 90 km longer" and then some (the road via Salamiyah).
    hama = osm.route("Hama", "Aleppo", date="2016-06-01")
    assert set(hama.via) >= DESERT and 80 <= hama.distance_km - osm.route("Hama", "Aleppo").distance_km <= 130


def test_aleppo_latakia_2020_by_the_roads_open_then(osm):
    # March 2020: the M4 west of Saraqib was held by HTS; the Ghab roads took about 3 h.
    r = osm.route("Aleppo", "Latakia", date="2020-03-20")
    m4_west = osm.select("M4:Latakia:Saraqib")
    assert r.reachable and not m4_west[list(r.edge_index)].any()
    assert 2.6 <= r.time_h <= 3.5


def test_sieges_and_offensives_cut_routes(osm):
    # Wikipedia: Siege of Deir ez-Zor (2014-2017), broken on 2017-09-05.
    assert not osm.route("Damascus", "Deir ez-Zor", date="2016-06-01").reachable
    assert osm.route("Damascus", "Deir ez-Zor", date="2018-01-01").reachable
    assert not osm.route("Damascus", "Aleppo", date="2024-12-05").reachable  # the HTS offensive
    assert not osm.route("Damascus", "Qamishli", date="2016-06-01").reachable  # across ISIS ground


def test_un_crosses_where_trucks_may_not(osm):
    # Saraqib-Trumba (2020) is open to civilians and the UN, not to commercial trucks.
    truck = osm.route("Damascus", "Idlib", date="2020-03-20")
    un = osm.route("Damascus", "Idlib", date="2020-03-20", actor="un")
    assert un.reachable
    assert not truck.reachable or truck.time_h > un.time_h


def test_idlib_2021_only_through_declared_crossings(osm):
    # 2021: Idlib held by HTS; commercial traffic crossed only at declared points (data/control/crossings.csv).
    eset = as_event_set(osm, None)
    day = date(2021, 6, 1)
    r = osm.route("Damascus", "Idlib", date=day)
    if r.reachable:
        used = eset.control.crossings_along(day, np.asarray(r.edge_index))
        zones = eset.control.zones_along(day, np.asarray(r.edge_index))
        assert used and len(zones) == len(used) + 1  # every change of hands at a crossing
