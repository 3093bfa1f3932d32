"""Bringing your own roads: raw files built once and cached, compiled files, the CLI on them."""

from __future__ import annotations

import json
import os

import pytest

import routesim
from routesim.io.cache import cache_dir, cached_build
from routesim.io.networks import build_file

from .conftest import ROOT, run_cli

SAMPLES = ROOT.parent / "shared" / "osm" / "samples"
ANDORRA = SAMPLES / "graphhopper_andorra.osm.pbf"
MONACO = SAMPLES / "graphhopper_monaco.osm.gz"


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("ROUTESIM_CACHE", str(folder))
    return folder


def test_raw_file_is_built_once_then_loaded_from_the_cache(cache):
    assert cache_dir() == cache
    calls = []

    def build(path):
        calls.append(path)
        return build_file(path)

    first, entry, built = cached_build(ANDORRA, profile="car", build=build)
    again, entry2, built2 = cached_build(ANDORRA, profile="car", build=build)
    assert (built, built2) == (True, False) and entry == entry2 and len(calls) == 1
    assert again.n_edges == first.n_edges and again.meta == first.meta
    # Another profile, or a changed file, is another entry.
    cached_build(ANDORRA, profile="truck", build=lambda p: build_file(p, profile="truck"))
    assert len(list(cache.iterdir())) == 2
    # A damaged entry is rebuilt, not fatal.
    entry.write_bytes(b"garbage")
    _, _, rebuilt = cached_build(ANDORRA, profile="car", build=build)
    assert rebuilt and len(calls) == 2


def test_network_of_a_raw_extract_routes_between_its_places(cache):
    net = routesim.load_network(ANDORRA)
    assert net.meta["attribution"].startswith("© OpenStreetMap contributors")
    route = net.route("Andorra la Vella", "Canillo")
    assert route.reachable and 5 < route.distance_km < 25
    assert route.origin_snap_km < 1.0
    # Dated queries with events of this network's own; Syria's library names no road of Andorra,
    # which is a located error, not a wrong route.
    own = routesim.load_events(net, builtin=False)
    assert net.route("Andorra la Vella", "Canillo", date="2016-03-01", events=own).distance_km == route.distance_km
    with pytest.raises(routesim.InputFileError, match=r"borders.yaml:\d+: where: selector 'Nasib crossing'"):
        net.route("Andorra la Vella", "Canillo", date="2016-03-01")
    assert len(list(cache.iterdir())) == 1


def test_cli_builds_a_compiled_file_that_every_command_accepts(tmp_path, cache):
    out = tmp_path / "monaco.rsnet"
    res = run_cli("network", "build", str(MONACO), "-o", str(out))
    assert res.returncode == 0, res.stderr
    assert f"wrote {out}" in res.stdout and "© OpenStreetMap contributors" in res.stdout
    info = run_cli("network", "info", "--network", str(out), "--format", "json")
    assert info.returncode == 0, info.stderr
    data = json.loads(info.stdout)
    assert data["edges"] > 500 and data["components"] >= 1 and data["dropped"]
    assert any(k.startswith("highway=footway") for k in data["dropped"]), data["dropped"]
    route = run_cli("route", "Monaco", "43.7325,7.4189", "--network", str(out), "--format", "json")
    assert route.returncode == 0, route.stderr
    assert json.loads(route.stdout)["reachable"] is True
    # The raw file itself, through the cache.
    again = run_cli("route", "Monaco", "43.7325,7.4189", "--network", str(MONACO), "--format", "json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["distance_km"] == json.loads(route.stdout)["distance_km"]
    far = run_cli("route", "Monaco", "36.2,37.1", "--network", str(out))
    assert far.returncode == 2 and "km from the nearest node of the network" in far.stderr


@pytest.mark.parametrize("content", [b"", b"\x00\x01not a pbf at all", b"<osm><way id='1'><nd ref='9'/>"])
def test_bad_raw_files_are_clean_errors(tmp_path, cache, content):
    bad = tmp_path / "broken.osm.pbf"
    bad.write_bytes(content)
    res = run_cli("route", "a", "b", "--network", str(bad))
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    assert str(bad) in res.stderr
    assert not os.listdir(cache) if cache.exists() else True


def test_exports_of_an_osm_network_carry_the_attribution(tmp_path):
    import sqlite3

    net = routesim.load_network(MONACO)
    notice = "© OpenStreetMap contributors"
    graphml = routesim.save_network(net, tmp_path / "m.graphml").read_text(encoding="utf-8")
    assert notice in graphml
    geojson = json.loads(routesim.save_network(net, tmp_path / "m.geojson").read_text(encoding="utf-8"))
    assert geojson["attribution"].startswith(notice)
    gpkg = routesim.save_network(net, tmp_path / "m.gpkg")
    rows = sqlite3.connect(gpkg).execute("select table_name, description from gpkg_contents").fetchall()
    assert {name for name, text in rows if text.startswith(notice)} == {"nodes", "edges"}
    # The export reads back as a routesim network.
    assert routesim.load_network(tmp_path / "m.gpkg").edges.n == net.edges.n
