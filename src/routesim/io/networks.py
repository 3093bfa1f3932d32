"""Opening any network a user names: the embedded one, a compiled file, an osmnx graph,
a routesim export, or raw roads (OSM PBF/XML, GIS line layers) built once and cached.

Raw road files are recognised by their suffix (:data:`ROAD_SUFFIXES`); a
GeoPackage or GeoJSON is a routesim export when it has ``nodes``/``edges``
layers (or ``element`` properties), else a layer of roads.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from routesim.errors import NetworkError, RoutesimError
from routesim.io.cache import cached_build
from routesim.io.compiled import SUFFIX, load_compiled, save_compiled
from routesim.io.roads import read_roads
from routesim.network.build import build_roads
from routesim.network.compiled import CompiledRoads
from routesim.network.core import RoutingCore
from routesim.network.graph import Network

#: Suffixes read as raw roads (OSM extracts, GIS line layers).
ROAD_SUFFIXES = (".pbf", ".osm", ".xml", ".bz2", ".gz", ".gpkg", ".shp", ".geojson", ".json", ".parquet",
                 ".geoparquet")
#: Road profiles (see :mod:`routesim.network.profiles`).
PROFILES = ("car", "truck")


def is_compiled(path: Path) -> bool:
    return path.suffix.lower() == SUFFIX


def is_export(path: Path) -> bool:
    """A routesim export (``save_network``) rather than a layer of roads."""
    suffix = path.suffix.lower()
    if suffix == ".gpkg":
        try:
            import pyogrio

            layers = {str(name) for name, _ in pyogrio.list_layers(path)}
        except Exception as exc:  # any failure of GDAL to open it makes it a bad file
            raise NetworkError(f"{path}: cannot read GeoPackage: {exc}") from None
        return {"nodes", "edges"} <= layers
    if suffix in (".geojson", ".json"):
        try:
            with path.open(encoding="utf-8") as fh:
                head = fh.read(1 << 16)
        except (OSError, UnicodeDecodeError) as exc:
            raise NetworkError(f"{path}: cannot read: {exc}") from None
        return '"element"' in head
    return False


def build_file(source: str | os.PathLike[str], *, profile: str = "car", layer: str | None = None) -> CompiledRoads:
    """Read raw roads and compile them (no cache)."""
    if profile not in PROFILES:
        raise RoutesimError(f"unknown profile {profile!r}; expected one of {', '.join(PROFILES)}")
    roads = build_roads(read_roads(source, layer=layer), profile=profile)
    # The contraction order is the slow part of preparing fast routing: compute it once, here.
    roads.node_order = RoutingCore(roads.n_nodes, roads.edge_u, roads.edge_v).cch_order
    return roads


def compiled_roads(
    source: str | os.PathLike[str], *, profile: str = "car", layer: str | None = None, cache: bool = True
) -> CompiledRoads:
    """The compiled network of a raw road file: from the cache when it was built before."""
    path = Path(source)
    if is_compiled(path):
        return load_compiled(path)
    if not cache:
        return build_file(path, profile=profile, layer=layer)
    key = profile if layer is None else f"{profile}-{layer}"
    roads, _, _ = cached_build(path, profile=key, build=lambda p: build_file(p, profile=profile, layer=layer))
    return roads


def build_network_file(
    source: str | os.PathLike[str], output: str | os.PathLike[str] | None = None, *, profile: str = "car",
    layer: str | None = None,
) -> tuple[Path, CompiledRoads]:
    """``routesim network build``: compile a raw road file into a ``.rsnet`` file.

    Parameters
    ----------
    output
        Default: the source's name with the ``.rsnet`` suffix, in the current folder.
    """
    src = Path(source)
    if not src.is_file():
        raise NetworkError(f"{src}: file not found")
    target = Path(output) if output is not None else Path(src.name.split(".")[0] + SUFFIX)
    roads = build_file(src, profile=profile, layer=layer)
    return save_compiled(roads, target), roads


def compiled_summary(roads: CompiledRoads) -> dict[str, object]:
    """Provenance and counts of a compiled network, for ``network info`` and ``network build``."""
    return {
        "source": roads.meta.get("source", ""),
        "profile": roads.meta.get("profile", ""),
        "attribution": roads.meta.get("attribution", ""),
        "nodes": roads.n_nodes,
        "lines": roads.n_lines,
        "edges": roads.n_edges,
        "places": len(roads.place_name),
        "dropped": json.dumps(roads.dropped, ensure_ascii=False, sort_keys=True),
        "patches": ", ".join(str(p.get("id", "")) for p in roads.meta.get("patches", [])),
    }


def open_roads_network(source: str | os.PathLike[str], *, profile: str = "car") -> Network:
    """A :class:`Network` from a compiled file or a raw road file (built once, cached)."""
    return Network.from_compiled(compiled_roads(source, profile=profile))
