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
    import numpy as np

    from routesim.events.eventset import EventSet
    from routesim.network.state import NetworkState

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
            graph = exports[suffix](path)
            try:
                network = Network(graph)
            except _READ_ERRORS as exc:  # node attributes missing or not numbers (x, y)
                raise NetworkError(f"{path}: not a usable network: {_why(exc)}") from None
            return _bind(network, f"export:{suffix}", [path])
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


#: What reading a damaged network file raises in osmnx, networkx, pandas, GDAL (pyogrio) or the XML parser:
#: all made a :class:`NetworkError` naming the file.
_READ_ERRORS: tuple[type[BaseException], ...] = (ValueError, KeyError, TypeError, IndexError, AttributeError,
                                                 OSError, SyntaxError)


def read_graphml(path: Path) -> nx.MultiDiGraph:
    """An osmnx GraphML file (``ox.save_graphml``), its edges checked (:func:`check_edges`).

    Raises
    ------
    NetworkError
        For a file that is no GraphML network or has unusable edges, naming the file.
    """
    import networkx as nx
    import osmnx as ox

    try:
        G = ox.load_graphml(path)
    except (*_READ_ERRORS, nx.NetworkXError) as exc:  # XML ParseError is a SyntaxError
        raise NetworkError(f"{path}: not a readable GraphML network: {_why(exc)}") from None
    return check_edges(G, path)


def _why(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:300]}" if text else type(exc).__name__


#: Edge attributes that must be positive, finite numbers where an edge has them (``length`` always).
_POSITIVE = ("length", "travel_time", "truck_travel_time", "speed_kph")
_UNITS = {"length": "metres", "travel_time": "seconds", "truck_travel_time": "seconds", "speed_kph": "km/h"}


def check_edges(G: nx.MultiDiGraph, path: Path) -> nx.MultiDiGraph:
    """``G`` if every edge has a positive, finite ``length`` (metres) and, where given, positive
    finite ``travel_time``/``truck_travel_time`` (s) and ``speed_kph``.

    A zero, negative or NaN length would make routes of negative or no length
    (a -647 km route), so the file is refused rather than repaired.

    Raises
    ------
    NetworkError
        Naming the file, the attribute and the first edges at fault.
    """
    import math

    if G.number_of_edges() == 0:
        raise NetworkError(f"{path}: the network has no edges")
    for name in _POSITIVE:
        bad = []
        for u, v, k, value in G.edges(keys=True, data=name, default=None if name != "length" else math.nan):
            if value is None:
                continue
            try:
                number = float(value)
            except (TypeError, ValueError):
                number = math.nan
            if not 0 < number < math.inf:
                bad.append(((u, v, k), value))
        if bad:
            shown = ", ".join(f"({u}, {v}, {k}): {value!r}" for (u, v, k), value in bad[:3])
            more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
            raise NetworkError(f"{path}: {len(bad)} of {G.number_of_edges()} edges have no usable '{name}' "
                               f"({_UNITS[name]}, a positive number): {shown}{more}")
    return G


def save_network(network: Network, path: str | os.PathLike[str], *, state: NetworkState | None = None) -> Path:
    """Export the network by extension: ``.graphml``, ``.geojson`` or ``.gpkg``.

    GraphML is written by ``osmnx.save_graphml`` and reads back with
    ``osmnx.load_graphml``; GeoJSON holds nodes and edges as one feature
    collection (property ``element``); GeoPackage has ``nodes`` and ``edges`` layers.
    A network derived from OpenStreetMap carries its attribution into every
    export (GraphML graph attribute, GeoJSON ``attribution`` member, GeoPackage
    layer description). With ``state`` (e.g. ``network.state_at(day)``), every
    edge also carries its state that day as columns (:func:`state_columns`).
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in (".graphml", ".geojson", ".gpkg"):
        raise RoutesimError(f"{target}: export format must be .graphml, .geojson or .gpkg")
    import osmnx as ox

    G = network.graph if state is None else _with_state(network, state)
    with atomic_path(target) as tmp:
        if suffix == ".graphml":
            ox.save_graphml(G, tmp)
        elif suffix == ".geojson":
            tmp.write_text(json.dumps(_geojson(G)), encoding="utf-8")
        else:
            tmp.unlink()
            nodes, edges = _gdfs(G)
            notice = str(G.graph.get("attribution", ""))
            options = {"layer_options": {"DESCRIPTION": notice}} if notice else {}
            nodes.to_file(tmp, layer="nodes", driver="GPKG", **options)
            edges.to_file(tmp, layer="edges", driver="GPKG", **options)
    return target


#: Names of an edge's state on a day, by code of :func:`edge_state_codes` (a later one wins).
EDGE_STATES = ("open", "restricted", "night-closed", "closed")


def edge_state_codes(state: NetworkState) -> np.ndarray:
    """Per edge, an index into :data:`EDGE_STATES`.

    ``closed``: no vehicle may pass (an event, a front line or a siege);
    ``night-closed``: closed from 20:00 to 05:00; ``restricted``: slower, a
    checkpoint delay, a fee, less capacity, or closed to some vehicles only.
    """
    import numpy as np

    restricted = (state.speed_factor < 1) | (state.delay_s > 0) | (state.fee_usd > 0) | (state.fee_syp > 0)
    restricted |= (state.capacity_factor < 1) | state.closed.any(axis=0)
    out = np.where(restricted, 1, 0)
    out = np.where(state.night_closed, 2, out)
    return np.where(state.closed.all(axis=0), 3, out).astype(np.int8)


def state_columns(state: NetworkState) -> dict[str, Any]:
    """Per-edge columns of a state for exports: ``state`` (a name of :data:`EDGE_STATES`), ``closed_car``,
    ``closed_truck``, ``night_closed``, ``speed_factor``, ``delay_s``, ``fee_usd``, ``fee_syp`` and ``state_date``."""
    import numpy as np

    from routesim.models.vehicles import vehicle_index

    names = np.asarray(EDGE_STATES, dtype=object)[edge_state_codes(state)]
    return {
        "state": names, "closed_car": state.closed[vehicle_index("car")], "closed_truck": state.closed[
            vehicle_index("truck")], "night_closed": state.night_closed, "speed_factor": state.speed_factor,
        "delay_s": state.delay_s, "fee_usd": state.fee_usd, "fee_syp": state.fee_syp,
        "state_date": np.full(state.n_edges, state.date.isoformat() if state.date else "", dtype=object),
    }


def _with_state(network: Network, state: NetworkState) -> nx.MultiDiGraph:
    """A copy of the network's graph whose edges carry :func:`state_columns`."""
    G = network.graph.copy()
    e = network.edges
    ids = network.node_ids
    columns = {k: v.tolist() for k, v in state_columns(state).items()}
    for i, (u, v, k) in enumerate(zip(e.u.tolist(), e.v.tolist(), e.key.tolist(), strict=True)):
        G.edges[ids[u], ids[v], k].update({name: col[i] for name, col in columns.items()})
    return G


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


def _graph_from_frames(nodes: Any, edges: Any, graph_attrs: dict[str, Any], path: Path) -> nx.MultiDiGraph:
    """The graph of an export's node and edge tables, its edges checked (:func:`check_edges`).

    Raises
    ------
    NetworkError
        When a column the graph needs (``osmid``; ``u``, ``v``, ``key``) is missing or
        holds other than integers, or an edge names a node that is not there.
    """
    import osmnx as ox

    missing = [c for c in ("osmid",) if c not in nodes.columns] + [c for c in ("u", "v", "key")
                                                                    if c not in edges.columns]
    if missing:
        raise NetworkError(f"{path}: not a routesim network export: no column {', '.join(missing)}")
    try:
        nodes = nodes.set_index("osmid")
        nodes.index = nodes.index.astype("int64")
        edges = edges.astype({c: "int64" for c in ("u", "v", "key")}).set_index(["u", "v", "key"])
        unknown = set(edges.index.get_level_values(0)) | set(edges.index.get_level_values(1))
        unknown -= set(nodes.index)
        if unknown:
            raise NetworkError(f"{path}: edges name nodes that are not in the file: {sorted(unknown)[:3]}")
        G = ox.convert.graph_from_gdfs(nodes, edges, graph_attrs=graph_attrs)
    except _READ_ERRORS as exc:
        raise NetworkError(f"{path}: not a readable network export: {_why(exc)}") from None
    return check_edges(G, path)


def read_geopackage(path: Path) -> nx.MultiDiGraph:
    """A GeoPackage written by :func:`save_network` (``nodes`` and ``edges`` layers).

    Raises
    ------
    NetworkError
        For a damaged file or layers without the columns of an export, naming the file.
    """
    import geopandas as gpd

    try:
        nodes = gpd.read_file(path, layer="nodes")
        edges = gpd.read_file(path, layer="edges")
    except Exception as exc:  # GDAL's errors (pyogrio) have no common base but Exception
        raise NetworkError(f"{path}: cannot read GeoPackage: {_why(exc)}") from None
    return _graph_from_frames(nodes, edges, {"crs": str(nodes.crs or "EPSG:4326")}, path)


def read_geojson(path: Path) -> nx.MultiDiGraph:
    """A GeoJSON written by :func:`save_network` (features with an ``element`` property).

    Raises
    ------
    NetworkError
        For a damaged file or features without the properties of an export, naming the file.
    """
    import geopandas as gpd

    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # GDAL's errors (pyogrio) have no common base but Exception
        raise NetworkError(f"{path}: cannot read GeoJSON: {_why(exc)}") from None
    if "element" not in frame.columns:
        raise NetworkError(f"{path}: not a routesim network GeoJSON (no 'element' property)")
    nodes = frame[frame["element"] == "node"].dropna(axis=1, how="all").drop(columns="element")
    edges = frame[frame["element"] == "edge"].dropna(axis=1, how="all").drop(columns="element")
    return _graph_from_frames(nodes, edges, {"crs": "EPSG:4326"}, path)
