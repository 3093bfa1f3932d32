"""Round trips through osmnx GraphML, GeoJSON, GeoPackage, and OSM XML import."""

from __future__ import annotations

import osmnx as ox
import pytest

from routesim import Network, load_network, save_network
from routesim.errors import RoutesimError

PAIRS = [("Damascus", "Aleppo"), ("Latakia", "Deir ez-Zor"), ("Nasib crossing", "Qamishli"), ("Tartus", "Raqqa")]


def test_graphml_roundtrip_gives_same_shortest_paths_in_osmnx(net, tmp_path):
    path = save_network(net, tmp_path / "syria.graphml")
    G = ox.load_graphml(path)
    for o, d in PAIRS:
        ours = net.route(o, d)
        a, b = net.places.get(o).node, net.places.get(d).node
        theirs = ox.routing.shortest_path(G, a, b, weight="travel_time")
        assert list(ours.nodes) == theirs
    again = Network.from_graph(G)
    assert again.route("Damascus", "Aleppo").time_h == pytest.approx(net.route("Damascus", "Aleppo").time_h)


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg"])
def test_gis_roundtrip(net, tmp_path, suffix):
    path = save_network(net, tmp_path / f"syria{suffix}")
    back = load_network(path)
    for o, d in PAIRS[:2]:
        assert back.route(o, d).segments == net.route(o, d).segments
    assert back.route("Damascus", "Aleppo", closures=["M5:Hama:Aleppo"]).segments == net.route(
        "Damascus", "Aleppo", closures=["M5:Hama:Aleppo"]
    ).segments


OSM_XML = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="routesim-tests">
  <node id="1" lat="35.00" lon="36.70" version="1"/>
  <node id="2" lat="35.05" lon="36.72" version="1"/>
  <node id="3" lat="35.10" lon="36.75" version="1"/>
  <node id="4" lat="35.05" lon="36.85" version="1"/>
  <node id="5" lat="35.10" lon="36.80" version="1"/>
  <node id="6" lat="34.98" lon="36.69" version="1"/>
  <node id="7" lat="35.12" lon="36.76" version="1"/>
  <way id="100" version="1">
    <nd ref="1"/><nd ref="2"/><nd ref="3"/>
    <tag k="highway" v="motorway"/><tag k="ref" v="M5"/><tag k="name" v="Test motorway"/>
    <tag k="maxspeed" v="110"/>
  </way>
  <way id="200" version="1">
    <nd ref="1"/><nd ref="4"/><nd ref="5"/><nd ref="3"/>
    <tag k="highway" v="secondary"/><tag k="ref" v="Desert road"/>
  </way>
  <way id="300" version="1">
    <nd ref="6"/><nd ref="1"/>
    <tag k="highway" v="residential"/>
  </way>
  <way id="400" version="1">
    <nd ref="3"/><nd ref="7"/>
    <tag k="highway" v="residential"/>
  </way>
</osm>
"""


def test_osm_xml_import_routes_and_closes(tmp_path):
    path = tmp_path / "tiny.osm"
    path.write_text(OSM_XML, encoding="utf-8")
    net = load_network(path)
    r = net.route(1, 3)
    assert r.reachable and r.roads == ("M5",)
    detour = net.detour(1, 3, closures=["M5"])
    assert detour.route.roads == ("Desert road",)
    assert detour.detour_km > 0 and detour.extra_time_h > 0
    assert net.route("35.0,36.7", "35.1,36.75").nodes == r.nodes  # nearest-node lookup


def test_missing_or_unsupported_network_file(tmp_path):
    with pytest.raises(RoutesimError, match="not found"):
        load_network(tmp_path / "none.graphml")
    bad = tmp_path / "x.shp"
    bad.write_text("")
    with pytest.raises(RoutesimError, match="unsupported"):
        load_network(bad)


def _mode(path) -> int:
    return path.stat().st_mode & 0o777


@pytest.mark.parametrize("suffix", [".graphml", ".geojson", ".gpkg"])
def test_exports_get_the_permissions_of_the_umask(net, tmp_path, suffix):
    import os

    old = os.umask(0o022)
    try:
        path = save_network(net, tmp_path / f"syria{suffix}")
        assert _mode(path) == 0o644
        os.umask(0o077)
        assert _mode(save_network(net, tmp_path / f"private{suffix}")) == 0o600
    finally:
        os.umask(old)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_graph_without_length_is_a_clean_error(tmp_path):
    import networkx as nx

    from routesim.errors import NetworkError

    G = nx.MultiDiGraph(crs="EPSG:4326")
    G.add_node(1, x=36.7, y=35.0)
    G.add_node(2, x=36.8, y=35.1)
    G.add_edge(1, 2, highway="primary")
    G.add_edge(2, 1, highway="primary", length=-5.0)
    with pytest.raises(NetworkError, match=r"2 of 2 edges have no usable 'length'"):
        Network(G)
    path = tmp_path / "nolength.graphml"
    ox.save_graphml(G, path)
    from .conftest import run_cli

    res = run_cli("route", "1", "2", "--network", str(path))
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert f"{path}: 2 of 2 edges have no usable 'length'" in res.stderr


def test_network_file_of_a_scenario_is_loaded_and_compiled_once(net, tmp_path, monkeypatch):
    import routesim.network.graph as graph
    from routesim.runner import load_scenario, run_scenario

    save_network(net, tmp_path / "syria.graphml")
    (tmp_path / "s.yaml").write_text(
        "name: once\nnetwork: syria.graphml\ndate: 2016-03-01\n"
        "demand:\n  - {origin: Damascus, destination: Aleppo, trucks_per_day: 4}\n"
        "simulation: {freight: false}\n",
        encoding="utf-8",
    )
    calls = []
    real = graph.compile_edges
    monkeypatch.setattr(graph, "compile_edges", lambda *a, **k: calls.append(1) or real(*a, **k))
    target, summary = run_scenario(load_scenario(tmp_path / "s.yaml"), out=tmp_path / "results", progress=False)
    assert len(calls) == 1
    assert (target / "od.csv").is_file()
    rows = {(r["engine"], r["metric"]): r["value"] for r in summary}
    assert rows[("route", "trips")] == 4
