"""Loading and saving networks: embedded data, compiled files, GraphML, GeoJSON, GeoPackage, raw roads."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from routesim._util.datafiles import data_dir, network_dir
from routesim._util.files import atomic_path
from routesim.errors import NetworkError, RoutesimError
from routesim.events.maskcache import bind_mask_cache
from routesim.io import networks
from routesim.io.cache import mask_cache
from routesim.network.graph import Network

if TYPE_CHECKING:
    # Only exports and osmnx graphs need networkx: loading a compiled network does not import it.
    import networkx as nx

    from routesim.events.eventset import EventSet

NETWORK_SUFFIXES = (".rsnet", ".graphml", ".geojson", ".json", ".gpkg", ".osm.pbf", ".osm", ".osm.bz2", ".osm.gz",
                    ".xml", ".shp", ".parquet")
_EMBEDDED: dict[str, Network] = {}
#: Networks known by name: ``"syria"`` (the default, also ``"syria-osm"``: OSM major roads and the
#: neighbours' main roads, shipped compiled), ``"syria-full"`` (every OSM road class, built from
#: ``syria-roads-osm-2021.gpkg`` on first use and cached; see :mod:`routesim.io.syria`) and
#: ``"syria-sketch"`` (the hand-drawn 100-segment network of ``data/network``, kept as a small fixture).
BUILTIN_NETWORKS = ("syria", "syria-sketch", "syria-osm", "syria-full")
#: The hand-drawn network's nodes are towns tens of km apart: points snap farther.
EMBEDDED_SNAP_LIMIT_KM = 60.0


def load_network(source: str | os.PathLike[str] = "syria", *, profile: str = "car") -> Network:
    """Load a road network.

    Parameters
    ----------
    source
        ``"syria"`` (default, also ``"syria-osm"``) for the OpenStreetMap major
        roads of Syria with the neighbours' main roads (shipped compiled;
        © OpenStreetMap contributors, ODbL), ``"syria-sketch"`` for the
        hand-drawn 100-segment network of ``data/network``, ``"syria-full"``
        for every OSM road class (built from ``syria-roads-osm-2021.gpkg`` in
        ``$ROUTESIM_OSM_DIR`` on first use, then cached) — each cached per
        process — or a path to: a compiled network (``.rsnet``,
        from ``routesim network build``); a ``.graphml`` file (osmnx
        ``save_graphml``); a ``.geojson``/``.gpkg`` written by :func:`save_network`;
        or raw roads — an OpenStreetMap extract (``.osm.pbf``, ``.osm``,
        ``.osm.bz2``, ``.osm.gz``) or a GIS line layer with OSM tag columns
        (GeoPackage, Shapefile, GeoJSON, GeoParquet), built once with the road
        profile and then loaded from the cache (:mod:`routesim.io.cache`).
    profile
        Road profile for raw roads: ``"car"`` (default) or ``"truck"``.

    Returns
    -------
    Network
        With the built-in event library as its default events (loaded on the
        first dated query).

    Raises
    ------
    RoutesimError
        For a missing file, an unsupported extension, or a graph that cannot be
        compiled (``file: problem``).
    """
    if str(source) in BUILTIN_NETWORKS:
        return _builtin(str(source))
    path = Path(source)
    if not path.is_file():
        raise RoutesimError(f"{path}: network file not found")
    suffix = path.suffix.lower()
    exports = {".graphml": read_graphml, ".geojson": read_geojson, ".json": read_geojson, ".gpkg": read_geopackage}
    try:
        if suffix == ".graphml" or (suffix in exports and networks.is_export(path)):
            return _bind(Network(exports[suffix](path)), f"export:{suffix}", [path])
        if networks.is_compiled(path) or suffix in networks.ROAD_SUFFIXES:
            return _bind(networks.open_roads_network(path, profile=profile), f"roads:{profile}", [path])
    except NetworkError as exc:
        message = str(exc)
        raise NetworkError(message if message.startswith(str(path)) else f"{path}: {message}") from None
    raise RoutesimError(f"{path}: unsupported network format; use one of {', '.join(NETWORK_SUFFIXES)}")


def _builtin(name: str) -> Network:
    """A built-in network by name (see :data:`BUILTIN_NETWORKS`), loaded once per process."""
    key = "syria-osm" if name == "syria" else name
    if key not in _EMBEDDED:
        if key == "syria-sketch":
            from routesim.io.embedded import build_graph

            graph, places = build_graph()
            net = Network(graph, places, snap_limit_km=EMBEDDED_SNAP_LIMIT_KM)
            _EMBEDDED[key] = _bind(net, key, [])
        elif key == "syria-osm":
            from routesim.io.syria import SNAP_LIMIT_KM, load_syria_osm, osm_network_dir

            roads, osm_places = load_syria_osm()
            net = Network.from_compiled(roads, places=osm_places, snap_limit_km=SNAP_LIMIT_KM)
            _EMBEDDED[key] = _bind(net, key, _data_files(osm_network_dir()))
        else:
            from routesim.io.syria import FULL_FILE, full_places, osm_network_dir, osm_source_file, syria_full_roads

            full = syria_full_roads()
            net = Network.from_compiled(full, places=full_places(full))
            _EMBEDDED[key] = _bind(net, key, [*_data_files(osm_network_dir()), osm_source_file(FULL_FILE)])
    return _EMBEDDED[key]


def _data_files(folder: Path) -> list[Path]:
    """The data files of a folder (documentation aside), in a fixed order."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() != ".md")


def _bind(network: Network, kind: str, files: Sequence[Path]) -> Network:
    """Bind the built-in event library, and the cache of event masks of a network made from ``files``.

    The mask cache's identity covers the shipped network data and road profiles
    too (``data/network``: places, segments, corridors; ``data/profiles``),
    which decide what a selector selects on any network.
    """
    network.set_default_events(factory=_library_events)
    shared = [*_data_files(network_dir()), *_data_files(data_dir() / "profiles")]
    bind_mask_cache(network, mask_cache(f"{kind}:{network.nodes.snap_limit_km}", [*shared, *files]))
    return network


def _library_events(network: Network) -> EventSet:
    """The built-in event library on ``network`` (the first dated query loads it)."""
    # Imported here: an undated route runs none of the event machinery (nor the control tables).
    from routesim.events.eventset import load_events

    return load_events(network)


def read_graphml(path: Path) -> nx.MultiDiGraph:
    import osmnx as ox

    return ox.load_graphml(path)


def save_network(network: Network, path: str | os.PathLike[str]) -> Path:
    """Export the network by extension: ``.graphml``, ``.geojson`` or ``.gpkg``.

    GraphML is written by ``osmnx.save_graphml`` and reads back with
    ``osmnx.load_graphml``; GeoJSON holds nodes and edges as one feature
    collection (property ``element``); GeoPackage has ``nodes`` and ``edges`` layers.
    A network derived from OpenStreetMap carries its attribution into every
    export (GraphML graph attribute, GeoJSON ``attribution`` member, GeoPackage
    layer description).
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in (".graphml", ".geojson", ".gpkg"):
        raise RoutesimError(f"{target}: export format must be .graphml, .geojson or .gpkg")
    import osmnx as ox

    with atomic_path(target) as tmp:
        if suffix == ".graphml":
            ox.save_graphml(network.graph, tmp)
        elif suffix == ".geojson":
            tmp.write_text(json.dumps(_geojson(network.graph)), encoding="utf-8")
        else:
            tmp.unlink()
            nodes, edges = _gdfs(network.graph)
            notice = str(network.graph.graph.get("attribution", ""))
            options = {"layer_options": {"DESCRIPTION": notice}} if notice else {}
            nodes.to_file(tmp, layer="nodes", driver="GPKG", **options)
            edges.to_file(tmp, layer="edges", driver="GPKG", **options)
    return target


def _gdfs(G: nx.MultiDiGraph) -> tuple[Any, Any]:
    import osmnx as ox

    nodes, edges = ox.graph_to_gdfs(G)
    nodes = nodes.reset_index()
    edges = edges.reset_index()
    for frame in (nodes, edges):
        for col in frame.columns:
            if col != "geometry" and frame[col].map(lambda x: isinstance(x, list | dict)).any():
                frame[col] = frame[col].map(json.dumps)
    return nodes, edges


def _geojson(G: nx.MultiDiGraph) -> dict[str, Any]:
    nodes, edges = _gdfs(G)
    out = json.loads(nodes.assign(element="node").to_json(drop_id=True))
    out["features"] += json.loads(edges.assign(element="edge").to_json(drop_id=True))["features"]
    out["crs_name"] = str(G.graph.get("crs", "EPSG:4326"))
    if G.graph.get("attribution"):
        out["attribution"] = str(G.graph["attribution"])
    return out


def _graph_from_frames(nodes: Any, edges: Any, graph_attrs: dict[str, Any]) -> nx.MultiDiGraph:
    import osmnx as ox

    nodes = nodes.set_index("osmid")
    edges = edges.set_index(["u", "v", "key"])
    nodes.index = nodes.index.astype("int64")
    G = ox.convert.graph_from_gdfs(nodes, edges, graph_attrs=graph_attrs)
    return G


def read_geopackage(path: Path) -> nx.MultiDiGraph:
    import geopandas as gpd

    nodes = gpd.read_file(path, layer="nodes")
    edges = gpd.read_file(path, layer="edges")
    return _graph_from_frames(nodes, edges, {"crs": str(nodes.crs or "EPSG:4326")})


def read_geojson(path: Path) -> nx.MultiDiGraph:
    import geopandas as gpd

    try:
        frame = gpd.read_file(path)
    except Exception as exc:
        raise RoutesimError(f"{path}: cannot read GeoJSON: {exc}") from None
    if "element" not in frame.columns:
        raise RoutesimError(f"{path}: not a routesim network GeoJSON (no 'element' property)")
    nodes = frame[frame["element"] == "node"].dropna(axis=1, how="all").drop(columns="element")
    edges = frame[frame["element"] == "edge"].dropna(axis=1, how="all").drop(columns="element")
    for col in ("u", "v", "key"):
        edges[col] = edges[col].astype("int64")
    return _graph_from_frames(nodes, edges, {"crs": "EPSG:4326"})
