"""Place names in any spelling or script, and snapping points to the road network."""

from __future__ import annotations

import numpy as np
import pytest

from routesim import Network
from routesim.errors import SnapError, UnknownPlaceError
from routesim.network.compiled import CompiledRoads
from routesim.network.places import normalize_name

from .conftest import run_cli


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Maarat al-Numan", "MAARAT AL NUMAN"),
        ("الرقة", "رقة"),  # attached article
        ("معرّة النعمان", "معرة النعمان"),  # shadda
        ("إدلب", "ادلب"),  # hamza under alef
        ("حمـــاة", "حماه"),  # tatweel, taa marbuta
        ("Dar'a", "Dara"),
    ],
)
def test_spellings_share_a_key(a, b):
    assert normalize_name(a) == normalize_name(b) != ""


def _roads() -> CompiledRoads:
    """Two two-way roads: a main line of three nodes, and a lone stub 30 km away (its own component)."""
    x = np.array([37.00, 37.10, 37.20, 37.30, 37.31])
    y = np.array([36.00, 36.00, 36.00, 36.27, 36.27])
    line_u, line_v = np.array([0, 1, 3]), np.array([1, 2, 4])
    geom_x = np.r_[x[[0, 1]], x[[1, 2]], x[[3, 4]]]
    geom_y = np.r_[y[[0, 1]], y[[1, 2]], y[[3, 4]]]
    n = 3
    return CompiledRoads(
        node_id=np.array([10, 11, 12, 13, 14]), node_x=x, node_y=y, line_u=line_u, line_v=line_v,
        line_length_m=np.array([9000.0, 9000.0, 900.0]), line_highway=np.zeros(n, dtype=np.int16),
        line_ref=np.array([0, 0, -1], dtype=np.int32), line_name=np.full(n, -1, dtype=np.int32),
        line_name_ar=np.full(n, -1, dtype=np.int32), line_oneway=np.zeros(n, dtype=bool),
        line_car_kph=np.full(n, 60.0), line_truck_kph=np.full(n, 50.0), line_maxspeed_kph=np.full(n, np.nan),
        line_bridge=np.zeros(n, dtype=bool), line_tunnel=np.zeros(n, dtype=bool), line_source=np.array([1, 1, 2]),
        geom_offset=np.array([0, 2, 4, 6]), geom_x=geom_x, geom_y=geom_y,
        edge_line=np.array([0, 0, 1, 1, 2, 2]), edge_forward=np.array([True, False] * 3),
        highways=["primary"], texts=["M9"],
        place_name=["Aleppo", "Stubville"], place_kind=["city", "village"],
        place_aliases=["حلب;Halab", "قرية"], place_x=np.array([37.01, 37.30]), place_y=np.array([36.01, 36.275]),
        meta={"source": "test"},
    )


def test_places_and_points_snap_to_the_largest_component():
    net = Network.from_compiled(_roads())
    assert net.resolve("حلب").index == net.resolve("Aleppo").index == 0
    assert net.resolve("Halab").snap_km == pytest.approx(1.39, abs=0.05)
    # The stub is a component of its own: its village snaps to the main road, 30 km away, beyond the limit.
    with pytest.raises(SnapError, match=r"Stubville .* is 3\d\.\d km from the nearest node .* limit is 5 km"):
        net.resolve("Stubville")
    assert Network.from_compiled(_roads(), snap_limit_km=50).resolve("قرية").index in (1, 2)
    far = "48.8566,2.3522"  # Paris
    with pytest.raises(SnapError, match=r"48.8566,2.3522 is 3,\d{3}\.\d km"):
        net.resolve(far)
    with pytest.raises(SnapError, match="not a latitude,longitude"):
        net.resolve("136.0,37.0")
    with pytest.raises(UnknownPlaceError, match="did you mean: Aleppo"):
        net.resolve("Aleppa")
    route = net.route("Aleppo", "36.0,37.2")
    assert route.reachable and route.distance_km == pytest.approx(18.0)


def test_cli_names_the_snap_distance(tmp_path):
    res = run_cli("route", "Damascus", "48.8566,2.3522")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "km from the nearest node of the network" in res.stderr


def test_compiled_file_round_trip_and_corrupt_files(tmp_path):
    from routesim.errors import NetworkError
    from routesim.io.compiled import FORMAT, load_compiled, read_header, save_compiled

    roads = _roads()
    path = save_compiled(roads, tmp_path / "tiny.rsnet")
    back = load_compiled(path)
    for name in ("node_id", "node_x", "line_u", "line_length_m", "geom_offset", "edge_line", "edge_forward"):
        np.testing.assert_array_equal(getattr(back, name), getattr(roads, name))
    assert back.texts == roads.texts and back.place_aliases == roads.place_aliases and back.meta == roads.meta
    assert read_header(path)["format"] == FORMAT
    a = Network.from_compiled(roads).route("Aleppo", "36.0,37.2")
    b = Network.from_compiled(back).route("Aleppo", "36.0,37.2")
    assert (a.distance_km, a.roads) == (b.distance_km, b.roads) == (pytest.approx(18.0), ("M9",))
    (tmp_path / "junk.rsnet").write_bytes(b"PK\x03\x04 not really")
    truncated = tmp_path / "cut.rsnet"
    truncated.write_bytes(path.read_bytes()[:200])
    for bad in ("junk.rsnet", "cut.rsnet", "missing.rsnet"):
        with pytest.raises(NetworkError, match=bad):
            load_compiled(tmp_path / bad)


def test_polygon_holes_leave_out_the_roads_inside_them():
    net = Network.from_compiled(_roads())
    outer = [[36.9, 35.9], [37.4, 35.9], [37.4, 36.4], [36.9, 36.4]]
    hole = [[37.25, 36.2], [37.35, 36.2], [37.35, 36.3], [37.25, 36.3]]
    everything = net.select({"polygon": outer})
    assert everything.all()
    holed = net.select({"polygon": {"type": "MultiPolygon", "coordinates": [[outer, hole]]}})
    assert holed.tolist() == [True, True, True, True, False, False]  # the stub lies in the hole
