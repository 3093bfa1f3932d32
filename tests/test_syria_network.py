"""The OpenStreetMap network of Syria shipped compiled (``load_network("syria-osm")``)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from routesim import load_network
from routesim.errors import NetworkError
from routesim.io import syria
from routesim.io.compiled import load_compiled
from routesim.network.compiled import OSM_ATTRIBUTION

ROOT = Path(__file__).resolve().parents[1]
OSM_DIR = ROOT.parent / "shared" / "osm"
HAVE_OSM = all((OSM_DIR / name).is_file() for name in (syria.MAJOR_FILE, syria.NEIGHBOURS_FILE, syria.FULL_FILE))
#: Carriageway ends of the M5 gap north of Homs (lon, lat), bridged by the patches.
GAP_ENDS = ((36.7241111, 34.8040539), (36.7253289, 34.8342739))


@pytest.fixture(scope="module")
def osm():
    return load_network("syria-osm")


def _node_at(net, lon: float, lat: float) -> object:
    i = int(np.argmin(np.abs(net.node_x - lon) + np.abs(net.node_y - lat)))
    assert abs(net.node_x[i] - lon) < 1e-7 and abs(net.node_y[i] - lat) < 1e-7
    return net.node_ids[i]


def test_shipped_file_loads_with_attribution(osm) -> None:
    path = syria.osm_network_dir() / syria.COMPILED_NAME
    assert path.stat().st_size < 25e6
    assert osm.meta["attribution"] == OSM_ATTRIBUTION
    assert "OpenStreetMap contributors" in (syria.osm_network_dir() / "README.md").read_text(encoding="utf-8")
    assert osm.meta["network"] == "syria-osm"
    assert len(osm.meta["border_nodes"]) >= 30
    assert len(osm.node_ids) > 50_000


def test_osm_is_the_default_and_the_sketch_stays_available() -> None:
    assert load_network() is load_network("syria") is load_network("syria-osm")
    sketch = load_network("syria-sketch")
    assert sketch is not load_network("syria") and sketch.edges.n < 300
    assert "OpenStreetMap" in load_network().meta["attribution"]


@pytest.mark.parametrize("name, pid", [
    ("Damascus", "damascus"), ("Aleppo", "aleppo"), ("حلب", "aleppo"), ("Halab", "aleppo"),
    ("Nasib crossing", "nasib-crossing"), ("Bab al-Hawa crossing", "bab-al-hawa-crossing"),
    ("Beirut", "beirut"), ("Gaziantep", "gaziantep"),
])
def test_places_of_the_sketch_resolve(osm, name: str, pid: str) -> None:
    place = osm.places.get(name)
    assert place.id == pid
    assert place.node is not None
    assert osm.resolve(name).snap_km == 0.0


def test_embedded_places_keep_ids_and_sources(osm) -> None:
    sketch = load_network("syria-sketch")
    for place in sketch.places:
        mine = osm.places.places[place.id]
        assert mine.name == place.name
        assert set(place.aliases) <= set(mine.aliases)
        assert mine.source.startswith(place.source)
    assert sum(p.id.startswith("osm-") for p in osm.places) > 5000


def test_crossings_are_border_nodes(osm) -> None:
    border = set(osm.meta["border_nodes"])
    for pid in ("nasib-crossing", "bab-al-hawa-crossing", "bab-al-salam-crossing", "jdeidet-yabous", "dabousieh",
                "kasab-crossing"):
        assert osm.places.places[pid].node in border, pid


def test_damascus_aleppo_on_the_m5(osm) -> None:
    car = osm.route("Damascus", "Aleppo")
    truck = osm.route("Damascus", "Aleppo", vehicle="truck")
    assert "M5" in car.roads and "M5" in truck.roads
    assert 320 < car.distance_km < 380
    assert truck.time_h > car.time_h


@pytest.mark.parametrize("origin, destination, crossing", [
    ("Damascus", "Beirut", "Jdeidet Yabous"),
    ("Homs", "Tripoli", "Dabousieh"),
    ("Aleppo", "Gaziantep", "Bab al-Salam crossing"),
    ("Idlib", "Antakya", "Bab al-Hawa crossing"),
])
def test_routes_abroad_cross_at_a_crossing(osm, origin: str, destination: str, crossing: str) -> None:
    route = osm.route(origin, destination)
    assert route.reachable
    assert crossing in route.via
    assert set(route.nodes) & set(osm.meta["border_nodes"])


def test_m5_gap_north_of_homs_is_patched(osm) -> None:
    ids = [p["id"] for p in osm.meta[syria.PATCHES_META]]
    assert ids == ["m5-north-of-homs-northbound", "m5-north-of-homs-southbound"]
    for patch in osm.meta[syria.PATCHES_META]:
        assert patch["source"] and patch["reason"] and 3000 < patch["length_m"] < 3500
    north = osm.route("Homs", "Hama")
    assert north.roads == ("M5",)
    a, b = (_node_at(osm, *end) for end in GAP_ENDS)
    assert north.nodes.index(b) == north.nodes.index(a) + 1  # the patch line, end to end
    south = osm.route("Hama", "Homs")
    assert south.roads == ("M5",)


def test_osm_files_missing_names_both_places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(syria.OSM_DIR_ENV, str(tmp_path))
    with pytest.raises(NetworkError, match=r"ROUTESIM_OSM_DIR.*shared/osm"):
        syria.osm_source_file(syria.FULL_FILE)


def test_readme_records_the_digest() -> None:
    readme = (syria.osm_network_dir() / "README.md").read_text(encoding="utf-8")
    recorded = re.search(r"arrays sha256 `([0-9a-f]{64})`", readme)
    assert recorded is not None
    shipped = load_compiled(syria.osm_network_dir() / syria.COMPILED_NAME)
    assert syria.array_digest(shipped) == recorded.group(1)


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_OSM, reason="shared/osm GeoPackages not present")
def test_rebuild_is_identical(tmp_path: Path) -> None:
    roads, places = syria.build_syria_osm(OSM_DIR)
    shipped = load_compiled(syria.osm_network_dir() / syria.COMPILED_NAME)
    assert syria.array_digest(roads) == syria.array_digest(shipped)
    syria.write_places_csv(places, tmp_path / syria.PLACES_NAME)
    assert (tmp_path / syria.PLACES_NAME).read_bytes() == (syria.osm_network_dir() / syria.PLACES_NAME).read_bytes()
