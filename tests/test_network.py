"""The embedded network: coverage, lookups, and the seed case."""

from __future__ import annotations

import math

import numpy as np
import pytest

from routesim import UnknownPlaceError
from routesim.errors import SelectorError

GOVERNORATE_CAPITALS = [
    "Damascus", "Deraa", "Suwayda", "Quneitra", "Homs", "Hama", "Tartus", "Latakia",
    "Idlib", "Aleppo", "Raqqa", "Deir ez-Zor", "Al-Hasakah",
]
CROSSINGS = [
    "Nasib crossing", "Bab al-Hawa crossing", "Bab al-Salam crossing", "Jdeidet Yabous",
    "Dabousieh", "Al-Tanf", "Al-Yarubiyah", "Al-Bukamal",
]


def test_network_is_osmnx_shaped(net):
    G = net.graph
    assert G.graph["crs"] == "EPSG:4326"
    assert len(net.places) >= 120
    for _, data in G.nodes(data=True):
        assert {"x", "y"} <= data.keys()
    for _, _, data in G.edges(data=True):
        assert data["length"] > 0 and data["travel_time"] > 0 and data["speed_kph"] > 0
        assert data["truck_travel_time"] >= data["travel_time"]
        for key in ("highway", "ref", "name", "segment", "geometry", "source"):
            assert data[key] not in (None, "")


def test_graph_is_strongly_connected(net):
    import networkx as nx

    assert nx.is_strongly_connected(net.graph)


@pytest.mark.parametrize("place", GOVERNORATE_CAPITALS + CROSSINGS)
def test_capitals_and_crossings_are_routable(net, place):
    r = net.route("Damascus", place)
    assert (r.reachable and r.distance_km > 0) or place == "Damascus"


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("Saraqeb", "Saraqib"), ("maaret al-numan", "Maarat al-Numan"), ("Maarat Al Numan", "Maarat al-Numan"),
        ("DARAA", "Deraa"), ("Deir Ezzor", "Deir ez-Zor"), ("Tadmur", "Palmyra"), ("Ḥamāh", "Hama"),
    ],
)
def test_lookup_ignores_case_accents_hyphens(net, alias, name):
    assert net.places.get(alias).name == name


def test_unknown_place_lists_close_matches(net):
    with pytest.raises(UnknownPlaceError) as exc:
        net.route("Damascus", "Aleppoz")
    assert "Aleppo" in exc.value.suggestions


def test_m5_damascus_aleppo_about_four_and_a_half_hours(net):
    r = net.route("Damascus", "Aleppo")
    assert r.roads[0] == "M5" and set(r.roads) == {"M5"}
    assert 4.3 <= r.time_h <= 4.7
    assert 340 <= r.distance_km <= 370  # published 356-360 km
    for town in ("Homs", "Hama", "Maarat al-Numan", "Saraqib"):
        assert town in r.via


def test_seed_case_desert_road_when_m5_and_m4_west_are_cut(net):
    """2012-2020: M5 north of Hama and the M4 west were both cut."""
    d = net.detour("Damascus", "Aleppo", closures=["M5:Hama:Aleppo", "M4:Latakia:Saraqib"])
    r = d.route
    assert "Desert road" in r.roads
    assert {"Salamiyah", "Ithriya", "Khanasir", "As-Safira"} <= set(r.via)
    assert 5.4 <= r.time_h <= 6.6  # seed: about 6 h
    assert 40 <= d.detour_km <= 90  # Homs-Salamiyah shortcut: shorter than +90 km (README)


def test_only_m5_cut_takes_the_faster_of_the_two_honest_detours(net):
    r = net.route("Damascus", "Aleppo", closures=["M5:Hama:Aleppo"])
    desert = net.route("Damascus", "Aleppo", closures=["M5:Hama:Aleppo", "M4:Latakia:Saraqib"])
    closed = net.select("M5:Hama:Aleppo")
    assert r.reachable and not closed[list(r.edge_index)].any()
    assert r.time_h <= desert.time_h  # the router never misses a faster open route
    assert 5.4 <= r.time_h <= 6.6


def test_hama_aleppo_pays_about_90_km(net):
    d = net.detour("Hama", "Aleppo", closures=["M5:Hama:Aleppo", "M4:Latakia:Saraqib"])
    assert "Desert road" in d.route.roads
    assert 80 <= d.detour_km <= 100


def test_distance_weight_never_longer_than_time_weight(net):
    by_time = net.route("Latakia", "Deir ez-Zor")
    by_dist = net.route("Latakia", "Deir ez-Zor", weight="distance")
    assert by_dist.distance_km <= by_time.distance_km + 1e-9
    assert by_time.time_h <= by_dist.time_h + 1e-9


def test_truck_slower_than_car(net):
    assert net.route("Damascus", "Aleppo", vehicle="truck").time_h > net.route("Damascus", "Aleppo").time_h


def test_unreachable_is_reported_not_raised(net):
    r = net.route("Deraa", "Nasib crossing", closures=["Nasib crossing"])
    assert not r.reachable and math.isnan(r.distance_km)


@pytest.mark.parametrize(
    ("selector", "fragment"),
    [
        ("M9:Hama:Aleppo", "ROAD: unknown road 'M9'"),
        ("M5:Hamah-x:Aleppo", "FROM: unknown place"),
        ("M5:Hama:Latakia", "TO: 'Latakia' is not on road M5"),
        ("M5:Hama", "expected ROAD:FROM:TO"),
        ("no-such-segment", "not a segment id, road, place"),
    ],
)
def test_bad_selectors_say_which_part_is_wrong(net, selector, fragment):
    with pytest.raises(SelectorError, match=fragment.replace("(", r"\(")):
        net.select(selector)


def test_selector_kinds(net):
    whole = net.select("M5")
    part = net.select("M5:Hama:Aleppo")
    assert part.sum() < whole.sum() and not (part & ~whole).any()
    # Both directions of every segment.
    assert part.sum() % 2 == 0
    seg = net.edges.segment_ids[0]
    assert net.select(seg).sum() == 2
    area = net.select({"area": {"place": "Khanasir", "radius_km": 10}})
    assert area.any() and {str(s) for s in net.edges.segment[area]} & {
        s for s in net.edges.segment_ids if s.startswith("desert")
    }
    bbox = net.select({"bbox": [37.3, 35.6, 37.7, 35.9]})
    assert (bbox & area).any()


def test_travel_times_matrix_matches_routes(net):
    places = ["Damascus", "Homs", "Aleppo", "Latakia"]
    m = net.travel_times(places, places)
    assert m.shape == (4, 4) and (m.diagonal() == 0).all()
    assert m[0, 2] == pytest.approx(net.route("Damascus", "Aleppo").time_h)
    km = net.travel_times(["Damascus"], ["Aleppo"], weight="distance")
    assert km[0, 0] == pytest.approx(net.route("Damascus", "Aleppo", weight="distance").distance_km)


def test_polygon_selector_matches_the_box_and_respects_holes(net, tmp_path):
    from routesim.errors import InputFileError
    from routesim.events import load_events

    box = [37.0, 35.5, 37.6, 36.0]
    ring = [[box[0], box[1]], [box[2], box[1]], [box[2], box[3]], [box[0], box[3]]]
    by_box = net.select({"bbox": box})
    assert by_box.any()
    assert np.array_equal(net.select({"polygon": ring}), by_box)
    geometry = {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}
    assert np.array_equal(net.select({"polygon": geometry}), by_box)
    # Closing a triangle around Khanasir cuts the desert road there: the detour runs east by Rasafa.
    tri = [[37.3, 35.6], [37.7, 35.6], [37.5, 35.95]]
    cuts = ["M5:Hama:Aleppo", "M4:Latakia:Saraqib"]
    desert = net.route("Hama", "Aleppo", closures=cuts)
    r = net.route("Hama", "Aleppo", closures=[*cuts, {"polygon": tri}])
    assert "Khanasir" in desert.via and "Khanasir" not in r.via and r.distance_km > desert.distance_km + 50
    # Bad polygons are located errors in event files.
    f = tmp_path / "poly.yaml"
    f.write_text("events:\n  - id: p\n    date: 2016-01-01\n    action: close\n"
                 "    where: {polygon: [[36.0, 35.0], [37.0, 35.0]]}\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"poly.yaml:5: events\[0\]\.where.*three distinct vertices"):
        load_events(net, [f], builtin=False)
