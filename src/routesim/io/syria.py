"""Syria's real road network from OpenStreetMap: the shipped major-roads network and the all-roads one.

Two networks are built from the GIS layers of ``shared/osm`` (see its README):

``syria-osm``
    Motorway..tertiary and their links of ``syria-roads-osm-2021-major.gpkg``,
    joined at the border nodes it shares exactly with the main roads of the
    neighbours (``neighbours-roads-osm.gpkg``: Lebanon, southern Turkey and
    border slivers of Iraq and Jordan), plus the patches of
    ``data/network/osm/patches.geojson`` (links the 2021 extract lacks). It is
    shipped compiled in ``data/network/osm/syria-osm.rsnet`` with its places in
    ``places.csv`` beside it, so loading it reads no GeoPackage. It is rebuilt by
    ``scripts/build_syria_network.py`` (:func:`build_syria_osm`).
``syria-full``
    Every road class of ``syria-roads-osm-2021.gpkg`` (about 0.5 M lines),
    built on first use and then loaded from the cache (:mod:`routesim.io.cache`).
    The file is looked up in ``$ROUTESIM_OSM_DIR``, else in ``../shared/osm``
    beside the repository when routesim runs from a checkout.

Places of the OSM network: first every place of the hand-drawn network
(``data/network/places.csv``: ids, names, aliases, kinds and sources kept), then
the neighbours' cities (``neighbour_places.csv``), then the OSM place points of
Syria (city, town, village, suburb, hamlet, quarter, neighbourhood) with their
raw OSM (mostly Arabic) name. An OSM place that is the same settlement as a
hand-drawn one (the nearest of a matching kind, a few km at most) becomes an
alias of it instead of a place of its own, so ``حلب`` finds Aleppo. The nearest
road vertex of every place is kept a junction at the build (``keep_nodes``) and
the place is bound to its nearest node of the largest strongly connected
component; a border crossing is bound to the border node (where a Syrian road
meets a neighbour's) nearest to it.

Data © OpenStreetMap contributors, ODbL 1.0.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from routesim._util.datafiles import data_dir, network_dir
from routesim.errors import NetworkError
from routesim.io.compiled import load_compiled
from routesim.network.compiled import OSM_ATTRIBUTION, CompiledRoads
from routesim.network.places import Place, PlaceIndex

#: Environment variable naming the folder with the OSM GeoPackages.
OSM_DIR_ENV = "ROUTESIM_OSM_DIR"
MAJOR_FILE = "syria-roads-osm-2021-major.gpkg"
NEIGHBOURS_FILE = "neighbours-roads-osm.gpkg"
FULL_FILE = "syria-roads-osm-2021.gpkg"
#: File names of the shipped network inside ``data/network/osm``.
COMPILED_NAME = "syria-osm.rsnet"
PLACES_NAME = "places.csv"
PATCHES_NAME = "patches.geojson"
OVERRIDES_NAME = "speed_overrides.csv"
NEIGHBOUR_PLACES_NAME = "neighbour_places.csv"
#: ``meta`` key of a compiled network listing the patches applied (id, source, reason, highway, ref, length_m).
PATCHES_META = "patches"
#: ``meta`` key listing the speed overrides applied (ref, source, reason, lines, km).
OVERRIDES_META = "speed_overrides"
#: OSM place kinds taken as places of the network.
OSM_PLACE_KINDS = ("city", "town", "village", "suburb", "hamlet", "quarter", "neighbourhood")
#: Way ids of the lines: Syria's features keep their number, the others are offset (see ``meta["way_id_ranges"]``).
NEIGHBOUR_WAY_OFFSET = 10_000_000
PATCH_WAY_OFFSET = 20_000_000
#: Farthest a border crossing may lie from the border node it is bound to, km.
CROSSING_LIMIT_KM = 10.0
#: Snap limit of the OSM network (places are bound to nodes at the build; points given by users snap).
SNAP_LIMIT_KM = 5.0
#: Which OSM place kinds may be the same settlement as a hand-drawn place of a kind, and how far apart, km.
_SAME_PLACE = {
    "city": (("city", "town"), 5.0),
    "port": (("city", "town"), 5.0),
    "town": (("city", "town", "village"), 3.0),
    "village": (("village", "town", "hamlet"), 2.0),
}
PLACE_COLUMNS = ("id", "name", "aliases", "lat", "lon", "kind", "governorate", "source", "flag", "node", "snap_km")


def osm_network_dir() -> Path:
    """``data/network/osm``: the shipped compiled network, its places, patches and README."""
    return data_dir() / "network" / "osm"


def osm_source_dir() -> Path | None:
    """The folder of the OSM GeoPackages: ``$ROUTESIM_OSM_DIR``, else ``../shared/osm`` beside a checkout."""
    explicit = os.environ.get(OSM_DIR_ENV)
    if explicit:
        return Path(explicit)
    checkout = Path(__file__).resolve().parents[3]
    if (checkout / "pyproject.toml").is_file():
        return checkout.parent / "shared" / "osm"
    return None


def osm_source_file(name: str) -> Path:
    """The OSM GeoPackage ``name``, or an error naming where it was looked for."""
    folder = osm_source_dir()
    if folder is not None and (folder / name).is_file():
        return folder / name
    looked = f"${OSM_DIR_ENV} ({os.environ.get(OSM_DIR_ENV) or 'not set'})"
    checkout = Path(__file__).resolve().parents[3].parent / "shared" / "osm"
    raise NetworkError(
        f"{name}: OSM road file not found; looked in {looked} and in {checkout} (../shared/osm beside the "
        f"repository). Set {OSM_DIR_ENV} to the folder holding {name}."
    )


# --- loading --------------------------------------------------------------------------------------


def read_places_csv(path: Path) -> PlaceIndex:
    """Places written by :func:`write_places_csv` (``node``: the compiled node id, empty: snaps)."""
    index = PlaceIndex()
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            node = row.get("node") or ""
            index.add(Place(
                id=row["id"], name=row["name"], lat=float(row["lat"]), lon=float(row["lon"]),
                kind=row.get("kind") or "place",
                aliases=tuple(a for a in (row.get("aliases") or "").split(";") if a),
                governorate=row.get("governorate") or "", source=row.get("source") or "",
                flag=row.get("flag") or "", node=int(node) if node else None,
            ))
    return index


def load_syria_osm(folder: Path | None = None) -> tuple[CompiledRoads, PlaceIndex]:
    """The shipped OSM network (compiled roads) and its places."""
    folder = folder or osm_network_dir()
    roads = load_compiled(folder / COMPILED_NAME)
    return roads, read_places_csv(folder / PLACES_NAME)


def syria_full_roads() -> CompiledRoads:
    """All road classes of ``syria-roads-osm-2021.gpkg``: built on first use, then from the cache."""
    from routesim.io.cache import cached_build
    from routesim.io.networks import build_file

    def build(path: Path) -> CompiledRoads:
        return with_built_up(build_file(path, profile="car"), path)

    roads, _, _ = cached_build(osm_source_file(FULL_FILE), profile="car-built-up", build=build)
    return roads


def with_built_up(roads: CompiledRoads, streets: Path) -> CompiledRoads:
    """``roads`` with the built-up areas found from the residential streets of ``streets`` (in place).

    The rule is ``data/profiles/built_up.csv`` (:mod:`routesim.network.builtup`).
    """
    from routesim.io.roads import read_street_lines
    from routesim.network.builtup import BuiltUpGrid, BuiltUpRule, apply_built_up

    rule = BuiltUpRule.from_csv()
    x, y, offsets = read_street_lines(streets)
    apply_built_up(roads, BuiltUpGrid.from_streets(x, y, offsets, rule=rule), rule=rule)
    roads.meta["built_up"]["streets"] = streets.name
    return roads


def full_places(roads: CompiledRoads) -> PlaceIndex:
    """Places of ``syria-full``: those of ``syria-osm`` (same ids, names and aliases), snapping to its nodes."""
    del roads  # the places of the full file's own layer are the OSM places already in the list
    index = PlaceIndex()
    for place in read_places_csv(osm_network_dir() / PLACES_NAME):
        index.add(replace(place, node=None))
    return index


# --- building -------------------------------------------------------------------------------------


def merge_road_tables(tables: Sequence[Any], way_offsets: Sequence[int]) -> tuple[Any, list[np.ndarray]]:
    """One :class:`~routesim.network.roadtable.RoadTable` from several GIS tables: vertices with
    identical coordinates become one node (this joins the files at their shared border nodes);
    way ids are offset per table; tags are those of any table. Places are left empty.

    Returns the merged table and, per table, the merged node index of each of its nodes.
    """
    from routesim.network.roadtable import RoadTable, TextColumn

    x = np.concatenate([t.node_x for t in tables])
    y = np.concatenate([t.node_y for t in tables])
    keys = np.column_stack([x, y])
    uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    base = np.cumsum([0, *[t.n_nodes for t in tables]])
    way_node = np.concatenate([inverse[t.way_node + base[i]] for i, t in enumerate(tables)])
    lengths = np.concatenate([np.diff(t.way_offset) for t in tables])
    way_offset = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=way_offset[1:])
    keys_all = sorted({k for t in tables for k in t.tags})
    tags = {k: TextColumn.from_values(np.concatenate([t.tag(k).decode() for t in tables])) for k in keys_all}
    dropped: dict[str, int] = {}
    for t in tables:
        for reason, n in t.dropped.items():
            dropped[reason] = dropped.get(reason, 0) + n
    maps = [inverse[base[i]:base[i + 1]] for i in range(len(tables))]
    return RoadTable(
        node_id=np.arange(1, len(uniq) + 1, dtype=np.int64),
        node_x=np.ascontiguousarray(uniq[:, 0]),
        node_y=np.ascontiguousarray(uniq[:, 1]),
        way_id=np.concatenate([t.way_id + off for t, off in zip(tables, way_offsets, strict=True)]).astype(np.int64),
        way_offset=way_offset,
        way_node=way_node.astype(np.int64),
        tags=tags,
        dropped=dropped,
        meta={"format": "gis", "attribution": OSM_ATTRIBUTION},
    ), maps


def read_patches(path: Path) -> tuple[Any, list[dict[str, Any]]]:
    """The patch lines (a road table) and their descriptions (id, source, reason, highway, ref)."""
    from routesim.io.roads import read_roads

    table = read_roads(path)
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    info = []
    for f in features:
        props = f["properties"]
        missing = [k for k in ("id", "highway", "source", "reason") if not props.get(k)]
        if missing:
            raise NetworkError(f"{path}: patch {props.get('id', '?')}: missing {', '.join(missing)}")
        info.append({k: props.get(k) for k in ("id", "highway", "ref", "oneway", "source", "reason")})
    return table, info


def _equirect(x: np.ndarray, y: np.ndarray, lat0: float) -> np.ndarray:
    return np.column_stack([np.asarray(x) * math.cos(math.radians(lat0)), np.asarray(y)])


def _km(lat0: float, lon0: float, lat1: np.ndarray, lon1: np.ndarray) -> np.ndarray:
    from routesim._util.geo import haversine_km_array

    return np.asarray(haversine_km_array(lat0, lon0, lat1, lon1))


def _read_osm_places(path: Path) -> list[dict[str, Any]]:
    import pyogrio

    frame = pyogrio.read_dataframe(path, layer="places")
    out = []
    for kind, name, name_ar, geom in zip(frame["place"], frame["name"], frame["name_ar"], frame.geometry,
                                         strict=True):
        if kind not in OSM_PLACE_KINDS or not isinstance(name, str) or not name.strip():
            continue
        aliases = [name_ar] if isinstance(name_ar, str) and name_ar.strip() and name_ar != name else []
        out.append({"name": name.strip(), "aliases": aliases, "kind": kind, "lon": float(geom.x),
                    "lat": float(geom.y)})
    rank = {k: i for i, k in enumerate(OSM_PLACE_KINDS)}
    out.sort(key=lambda p: rank[p["kind"]])  # stable: file order within a kind
    return out


def _read_csv_places(path: Path) -> list[dict[str, Any]]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = [{k: (v or "").strip() for k, v in row.items() if k} for row in csv.DictReader(fh)]
    for row in rows:
        row["aliases"] = [a.strip() for a in row.get("aliases", "").split(";") if a.strip()]
        row["lat"], row["lon"] = float(row["lat"]), float(row["lon"])
    return rows


def _gather_places(osm_places: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Hand-drawn places, neighbour cities, then the OSM places not merged into a hand-drawn one."""
    embedded = _read_csv_places(network_dir() / "places.csv")
    neighbours = _read_csv_places(osm_network_dir() / NEIGHBOUR_PLACES_NAME)
    merged = np.zeros(len(osm_places), dtype=bool)
    if osm_places:
        lat = np.array([p["lat"] for p in osm_places])
        lon = np.array([p["lon"] for p in osm_places])
        kinds = np.array([p["kind"] for p in osm_places])
        for place in embedded:
            rule = _SAME_PLACE.get(place["kind"])
            if rule is None:
                continue
            allowed, limit = rule
            d = _km(place["lat"], place["lon"], lat, lon)
            d[~np.isin(kinds, allowed) | merged] = np.inf
            k = int(np.argmin(d))
            if d[k] <= limit:
                merged[k] = True
                osm = osm_places[k]
                extra = [n for n in [osm["name"], *osm["aliases"]] if n not in place["aliases"] and n != place["name"]]
                place["aliases"] = [*place["aliases"], *extra]
                place["source"] = f"{place['source']}; OSM name: place={osm['kind']} {osm['name']}"
    out = [*embedded, *neighbours]
    counter: dict[str, int] = {}
    for i, p in enumerate(osm_places):
        if merged[i]:
            continue
        counter[p["kind"]] = counter.get(p["kind"], 0) + 1
        out.append({"id": f"osm-{p['kind']}-{counter[p['kind']]}", "name": p["name"], "aliases": p["aliases"],
                    "lat": p["lat"], "lon": p["lon"], "kind": p["kind"], "governorate": "",
                    "source": f"OSM place={p['kind']} ({FULL_FILE})", "flag": ""})
    return out


def _bind_places(roads: CompiledRoads, places: list[dict[str, Any]], border: np.ndarray) -> None:
    """Set ``node`` (compiled node id) and ``snap_km`` of every place: crossings to the nearest border
    node, the others to the nearest node of the largest strongly connected component."""
    from scipy.spatial import cKDTree

    from routesim.network.components import largest_component

    mask = largest_component(roads.n_nodes, roads.edge_u, roads.edge_v)
    eligible = np.flatnonzero(mask)
    lat0 = float(np.mean(roads.node_y))
    tree = cKDTree(_equirect(roads.node_x[eligible], roads.node_y[eligible], lat0))
    lat = np.array([p["lat"] for p in places])
    lon = np.array([p["lon"] for p in places])
    _, nearest = tree.query(_equirect(lon, lat, lat0))
    border = border[mask[border]]
    # Dual carriageways cross at two border nodes: prefer the one driven out of Syria (a Syrian edge
    # arrives, a neighbour's edge leaves), so a route from Syria abroad passes the crossing place.
    syrian = roads.line_source[roads.edge_line] < NEIGHBOUR_WAY_OFFSET
    arrive = np.zeros(roads.n_nodes, dtype=bool)
    arrive[roads.edge_v[syrian]] = True
    leave = np.zeros(roads.n_nodes, dtype=bool)
    leave[roads.edge_u[~syrian]] = True
    exits = border[(arrive & leave)[border]]
    for i, p in enumerate(places):
        node = int(eligible[nearest[i]])
        for candidates in (exits, border) if p["kind"] == "crossing" else ():
            if not len(candidates):
                continue
            d = _km(p["lat"], p["lon"], roads.node_y[candidates], roads.node_x[candidates])
            k = int(np.argmin(d))
            if d[k] <= CROSSING_LIMIT_KM:
                node = int(candidates[k])
                break
        p["node"] = int(roads.node_id[node])
        p["snap_km"] = round(float(_km(p["lat"], p["lon"], roads.node_y[node:node + 1],
                                       roads.node_x[node:node + 1])[0]), 3)


def build_syria_osm(
    source_dir: Path, *, patches: Path | None = None, overrides: Path | None = None,
) -> tuple[CompiledRoads, list[dict[str, Any]]]:
    """Build the ``syria-osm`` network from the GeoPackages in ``source_dir``.

    Parameters
    ----------
    patches, overrides
        Default ``data/network/osm/patches.geojson`` and ``speed_overrides.csv``.

    Returns
    -------
    (roads, places)
        The compiled roads (with the contraction order; ``meta[PATCHES_META]``
        lists the patches applied) and the place rows for :func:`write_places_csv`.
    """
    from routesim._util.files import file_sha256
    from routesim.io.roads import read_roads
    from routesim.network.build import build_roads
    from routesim.network.core import RoutingCore
    from routesim.network.overrides import apply_overrides, read_overrides

    patches = patches or osm_network_dir() / PATCHES_NAME
    files = {name: source_dir / name for name in (MAJOR_FILE, NEIGHBOURS_FILE, FULL_FILE)}
    for path in files.values():
        if not path.is_file():
            raise NetworkError(f"{path}: OSM road file not found")
    syria = read_roads(files[MAJOR_FILE])
    neighbours = read_roads(files[NEIGHBOURS_FILE])
    patch_table, patch_info = read_patches(patches)
    table, node_of = merge_road_tables([syria, neighbours, patch_table],
                                       [0, NEIGHBOUR_WAY_OFFSET, PATCH_WAY_OFFSET])
    # Border nodes: vertices of both files; every patch end must be a vertex of the roads.
    in_syria = np.zeros(table.n_nodes, dtype=bool)
    in_syria[node_of[0][syria.way_node]] = True
    in_nb = np.zeros(table.n_nodes, dtype=bool)
    in_nb[node_of[1][neighbours.way_node]] = True
    border_raw = np.flatnonzero(in_syria & in_nb)
    for i, info in enumerate(patch_info):
        ends = patch_table.way_nodes(i)[[0, -1]]
        joined = (in_syria | in_nb)[node_of[2][ends]]
        if not joined.all():
            raise NetworkError(f"{patches}: patch {info['id']}: an end is not a vertex of the roads")

    osm_places = _read_osm_places(files[FULL_FILE])
    places = _gather_places(osm_places)
    # Border nodes stay junctions even where the two countries' roads agree in every attribute.
    keep = np.concatenate([np.array([[p["lon"], p["lat"]] for p in places], dtype=np.float64),
                           np.column_stack([table.node_x[border_raw], table.node_y[border_raw]])])
    roads = build_roads(table, profile="car", keep_nodes=keep)
    overrides = overrides or osm_network_dir() / OVERRIDES_NAME
    roads.meta[OVERRIDES_META] = apply_overrides(roads, read_overrides(overrides))
    with_built_up(roads, files[FULL_FILE])
    roads.node_order = RoutingCore(roads.n_nodes, roads.edge_u, roads.edge_v).cch_order
    # Node ids of the merged table are 1..n; the compiled network keeps them for the nodes it uses.
    border_ids = table.node_id[border_raw]
    border = np.flatnonzero(np.isin(roads.node_id, border_ids))
    _bind_places(roads, places, border)

    patch_lines = roads.line_source >= PATCH_WAY_OFFSET
    for i, info in enumerate(patch_info):
        info["length_m"] = round(float(roads.line_length_m[roads.line_source == PATCH_WAY_OFFSET + i + 1].sum()), 1)
    roads.meta.update(
        source=f"{MAJOR_FILE} + {NEIGHBOURS_FILE} + {PATCHES_NAME}",
        sha256={MAJOR_FILE: syria.meta["sha256"], NEIGHBOURS_FILE: neighbours.meta["sha256"],
                PATCHES_NAME: file_sha256(patches), OVERRIDES_NAME: file_sha256(overrides),
                "places": file_sha256(files[FULL_FILE])},
        layer="roads",
        attribution=OSM_ATTRIBUTION,
        network="syria-osm",
        snapshot="OpenStreetMap as of about 2021-08-05 (Geofabrik extracts, tokenless-tiles z14)",
        licence="ODbL 1.0 (https://www.openstreetmap.org/copyright)",
        way_id_ranges={"syria": [1, NEIGHBOUR_WAY_OFFSET - 1], "neighbours": [NEIGHBOUR_WAY_OFFSET + 1,
                       PATCH_WAY_OFFSET - 1], "patches": [PATCH_WAY_OFFSET + 1, PATCH_WAY_OFFSET + len(patch_info)]},
        border_nodes=[int(i) for i in roads.node_id[border]],
        ways_read=table.n_ways,
    )
    roads.meta[PATCHES_META] = patch_info
    roads.meta["patch_lines"] = int(patch_lines.sum())
    return roads, places


def write_places_csv(places: list[dict[str, Any]], path: Path) -> Path:
    """Write the place rows of :func:`build_syria_osm` (``aliases`` joined by ``;``)."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(PLACE_COLUMNS), lineterminator="\n")
        writer.writeheader()
        for p in places:
            row = {k: p.get(k, "") for k in PLACE_COLUMNS}
            row["aliases"] = ";".join(p["aliases"])
            row["lat"], row["lon"] = f"{p['lat']:.7f}", f"{p['lon']:.7f}"
            writer.writerow(row)
    return path


def array_digest(roads: CompiledRoads) -> str:
    """SHA-256 over every array and text table of a compiled network (to check a rebuild is identical)."""
    from dataclasses import fields

    h = hashlib.sha256()
    for f in fields(CompiledRoads):
        if f.name == "meta":
            continue
        value = getattr(roads, f.name)
        if isinstance(value, np.ndarray):
            h.update(f.name.encode())
            h.update(str(value.dtype).encode())
            h.update(np.ascontiguousarray(value).tobytes())
        else:
            h.update(json.dumps(value, ensure_ascii=False, sort_keys=True).encode())
    return h.hexdigest()
