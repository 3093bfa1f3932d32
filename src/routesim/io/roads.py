"""Reading real road data: OSM PBF/XML extracts and GIS line layers, into a :class:`RoadTable`.

:func:`read_roads` chooses the reader by the file's suffix:

* ``.pbf``, ``.osm``, ``.osm.bz2``, ``.osm.gz``, ``.xml`` (and ``.xml.bz2``/``.xml.gz``):
  OpenStreetMap, read with pyosmium (libosmium): used column-wise it was the
  fastest of the readers compared (see ``docs/import.md``), and it is the only
  one that reads PBF and XML alike and gives every way's node ids. Every way
  with a ``highway`` tag is kept with its node ids and coordinates; named
  ``place`` nodes become the places.
* ``.gpkg``, ``.shp``, ``.geojson``/``.json``, ``.parquet``/``.geoparquet``: a GIS line
  layer whose columns follow OSM tags (a HOT/HDX export, or the files in
  ``shared/osm``), read with pyogrio (GeoParquet with pyarrow). Vertices with
  identical coordinates are one node; a ``places`` point layer in the same file
  gives the places.

Both give every problem of the file as a :class:`~routesim.errors.NetworkError`
``file: problem``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from routesim._util.files import file_sha256
from routesim.errors import NetworkError
from routesim.network.compiled import OSM_ATTRIBUTION
from routesim.network.roadtable import WAY_TAGS, PlaceTable, RoadTable, TextColumn, is_name_tag

OSM_SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.bz2", ".osm.gz", ".xml", ".xml.bz2", ".xml.gz")
GIS_SUFFIXES = (".gpkg", ".shp", ".geojson", ".json", ".parquet", ".geoparquet")
#: Columns of a GIS layer that may stand for a tag beside its OSM key (case is ignored;
#: ``:`` also matches ``_``, and a Shapefile's 10-character truncation matches).
_COLUMN_ALIASES = {"name:ar": ("name_ar", "name_arabic"), "name:en": ("name_en", "name_english")}
_ID_COLUMNS = ("osm_id", "osm_way_id", "way_id")
_LENGTH_COLUMNS = ("length_m", "length", "length_km", "len_m", "shape_leng")


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for suffix in sorted(OSM_SUFFIXES + GIS_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            return suffix
    return path.suffix.lower()


def read_roads(path: str | os.PathLike[str], *, layer: str | None = None, attribution: str | None = None) -> RoadTable:
    """Read every road of an OSM extract or a GIS line layer.

    Parameters
    ----------
    path
        The file; its suffix chooses the reader (see the module docstring).
    layer
        GIS only: the line layer to read. Default: the layer named ``roads``, or
        the file's only line layer.
    attribution
        ``meta["attribution"]`` of the result. Default: "© OpenStreetMap
        contributors (ODbL 1.0)" for OSM files and for GIS layers (whose columns
        follow OSM tags, so they are taken as OSM-derived); pass ``""`` for a
        layer that is not.

    Returns
    -------
    RoadTable
        Every way with a ``highway`` value (footways included; the profile
        chooses), with ``meta`` ``source``, ``sha256``, ``format``, ``layer``,
        ``reader`` and ``attribution``.

    Raises
    ------
    NetworkError
        ``file: problem`` for a missing, corrupt or unreadable file, an unknown
        suffix, a layer without a ``highway`` column (the message lists the
        columns found), an empty layer, NaN or out-of-range coordinates, or a
        negative length column.
    """
    path = Path(path)
    if not path.is_file():
        raise NetworkError(f"{path}: road file not found")
    suffix = _suffix(path)
    if suffix in OSM_SUFFIXES:
        table = read_osm(path)
    elif suffix in GIS_SUFFIXES:
        if layer is not None and suffix in (".parquet", ".geoparquet"):
            raise NetworkError(f"{path}: a GeoParquet file has no layers; leave out layer={layer!r}")
        table = read_gis(path, layer=layer)
    else:
        raise NetworkError(f"{path}: unsupported road file; use one of {', '.join(OSM_SUFFIXES + GIS_SUFFIXES)}")
    table.meta["sha256"] = file_sha256(path)
    table.meta["attribution"] = OSM_ATTRIBUTION if attribution is None else attribution
    return table


# --- OSM -------------------------------------------------------------------------------------------


def read_osm(path: Path) -> RoadTable:
    """Every ``highway`` way and named ``place`` node of an OSM PBF or XML file.

    libosmium (through pyosmium) decodes the file, keeps the node locations,
    filters ways by ``highway`` and nodes by ``place``, and writes what passes as
    OPL text with the locations on the ways, all in C++. That text is parsed
    column-wise by pyarrow in batches. Iterating pyosmium objects in Python
    instead costs about 0.4 µs per tag lookup and 1 µs per node reference:
    12-16 s against 4 s for Syria's 507k ways and 2.5 M way nodes (see
    ``docs/import.md``).
    """
    import tempfile

    import osmium

    name = path.name.lower()
    fmt = "osm" if name.endswith(".xml") else "osm.bz2" if name.endswith(".xml.bz2") else \
        "osm.gz" if name.endswith(".xml.gz") else ""
    source = osmium.io.File(str(path), fmt) if fmt else osmium.io.File(str(path))
    with tempfile.TemporaryDirectory(prefix="routesim-osm-") as tmp:
        opl = Path(tmp) / "roads.opl"
        try:
            _osm_to_opl(source, opl)
        except (RuntimeError, ValueError, OSError) as exc:
            raise NetworkError(f"{path}: cannot read OSM data: {exc}") from None
        try:
            parsed = _parse_opl(opl)
        except (ValueError, OSError) as exc:  # pyarrow.ArrowInvalid is a ValueError
            raise NetworkError(f"{path}: cannot parse the OSM data libosmium wrote: {exc}") from None
    return _osm_table(path, parsed)


def _osm_to_opl(source: Any, opl: Path) -> None:
    """libosmium: the ``highway`` ways (with node locations) and ``place`` nodes of ``source``, as OPL."""
    import osmium

    writer = osmium.SimpleWriter(osmium.io.File(str(opl), "opl,add_metadata=false,locations_on_ways=true"))
    try:
        # The location index holds every node of the file; it is freed when this returns.
        locations = osmium.NodeLocationsForWays(osmium.index.create_map("flex_mem"))
        # Ways whose nodes are missing from an extract keep those nodes without location.
        locations.ignore_errors()
        roads, places = osmium.filter.KeyFilter("highway"), osmium.filter.KeyFilter("place")
        roads.enable_for(osmium.osm.WAY)  # each filter applies to one kind; the other passes it
        places.enable_for(osmium.osm.NODE)
        osmium.apply(source, locations, osmium.filter.EntityFilter(osmium.osm.NODE | osmium.osm.WAY), roads, places,
                     writer)
    finally:
        writer.close()


_OPL_WAY = r"^w(?P<id>-?\d+) T(?P<tags>\S*) N(?P<nodes>\S*)$"
_OPL_NODE = r"^n(?P<id>-?\d+) T(?P<tags>\S*) x(?P<x>\S*) y(?P<y>\S*)$"
_OPL_REF = r"^n(?P<id>-?\d+)(?:x(?P<x>-?[0-9.]*)y(?P<y>-?[0-9.]*))?$"  # "n12xy": no location
_OPL_ESCAPE = re.compile(r"%([0-9a-fA-F]{1,6})%")


def _unescape(text: str) -> str:
    """Decode OPL's ``%<hex>%`` escapes (used for spaces, commas, ``=`` and most non-ASCII)."""
    return _OPL_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text) if "%" in text else text


def _parse_opl(opl: Path) -> dict[str, Any]:
    """Columns of the way and node lines of an OPL file, batch by batch."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    way_keys = frozenset(WAY_TAGS)
    out: dict[str, Any] = {"way_id": [], "size": [], "ref": [], "x": [], "y": [],
                           "tag_row": {}, "tag_value": {}, "places": []}
    n_ways = 0
    out["n_ways"] = 0
    if opl.stat().st_size == 0:
        return out
    # A tab never occurs unescaped in OPL, so each line is one "column".
    reader = pacsv.open_csv(
        opl,
        read_options=pacsv.ReadOptions(column_names=["line"], block_size=1 << 23),
        parse_options=pacsv.ParseOptions(delimiter="\t", quote_char=False, escape_char=False),
        convert_options=pacsv.ConvertOptions(column_types={"line": pa.string()}, strings_can_be_null=False),
    )
    for batch in reader:
        lines = batch.column(0)
        first = pc.utf8_slice_codeunits(lines, 0, 1)
        ways = pc.extract_regex(lines.filter(pc.equal(first, "w")), _OPL_WAY)
        if len(ways):
            out["way_id"].append(pc.cast(ways.field("id"), pa.int64()).to_numpy())
            refs = pc.split_pattern(ways.field("nodes"), ",")
            flat = pc.list_flatten(refs)
            sizes = pc.list_value_length(refs).to_numpy(zero_copy_only=False)
            empty = pc.equal(flat, "")  # a way without nodes: "N"
            if pc.any(empty).as_py():
                sizes = sizes - np.bincount(pc.list_parent_indices(refs).to_numpy()[empty.to_numpy(
                    zero_copy_only=False)], minlength=len(sizes))
                flat = flat.filter(pc.invert(empty))
            out["size"].append(sizes.astype(np.int64))
            nodes = pc.extract_regex(flat, _OPL_REF)
            out["ref"].append(pc.cast(nodes.field("id"), pa.int64()).to_numpy())
            for axis in ("x", "y"):
                text = nodes.field(axis)
                value = pc.cast(pc.if_else(pc.equal(text, ""), None, text), pa.float64())
                out[axis].append(value.to_numpy(zero_copy_only=False))
            tags = pc.split_pattern(ways.field("tags"), ",")
            pairs = pc.split_pattern(pc.list_flatten(tags), "=", max_splits=1)
            keys = pc.list_element(pairs, 0)
            values = pc.list_element(pairs, 1)
            rows = pc.list_parent_indices(tags).to_numpy() + n_ways
            keys_np = keys.dictionary_encode()
            for code, key in enumerate(keys_np.dictionary.to_pylist()):
                key = _unescape(key)
                if key not in way_keys:
                    continue
                mask = pc.equal(keys_np.indices, code)
                out["tag_row"].setdefault(key, []).append(rows[mask.to_numpy(zero_copy_only=False)])
                out["tag_value"].setdefault(key, []).append(values.filter(mask))
            n_ways += len(ways)
        nodes = pc.extract_regex(lines.filter(pc.equal(first, "n")), _OPL_NODE)
        for row in nodes.to_pylist():
            out["places"].append(row)
    out["n_ways"] = n_ways
    return out


def _cat(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype=dtype)


def _osm_table(path: Path, parsed: dict[str, Any]) -> RoadTable:
    import pyarrow as pa

    n_ways = parsed["n_ways"]
    if not n_ways:
        raise NetworkError(f"{path}: no way with a highway tag (is this an OSM extract with roads?)")
    ref_a, x_a, y_a = _cat(parsed["ref"], np.int64), _cat(parsed["x"], np.float64), _cat(parsed["y"], np.float64)
    sizes = _cat(parsed["size"], np.int64)
    dropped: dict[str, int] = {}
    valid = np.isfinite(x_a) & np.isfinite(y_a)
    if not valid.all():
        # Extracts cut at a border keep ways whose outer nodes were left out; drop those nodes.
        dropped["node without location"] = int((~valid).sum())
        way_of = np.repeat(np.arange(len(sizes)), sizes)
        sizes = np.bincount(way_of[valid], minlength=len(sizes)).astype(np.int64)
        ref_a, x_a, y_a = ref_a[valid], x_a[valid], y_a[valid]
    node_id, first, way_node = np.unique(ref_a, return_index=True, return_inverse=True)
    offset = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(sizes, out=offset[1:])
    tags: dict[str, TextColumn] = {}
    for key, rows in parsed["tag_row"].items():
        values = pa.chunked_array(parsed["tag_value"][key], type=pa.string()).combine_chunks()
        column = _text_column(values)
        codes = np.full(n_ways, -1, dtype=np.int32)
        codes[np.concatenate(rows)] = column.codes
        tags[key] = TextColumn(codes, [_unescape(v) for v in column.values])
    table = RoadTable(
        node_id=node_id.astype(np.int64),
        node_x=x_a[first],
        node_y=y_a[first],
        way_id=_cat(parsed["way_id"], np.int64),
        way_offset=offset,
        way_node=way_node.astype(np.int64).ravel(),
        tags=tags,
        dropped=dropped,
        meta={"source": path.name, "format": "osm", "layer": None, "reader": f"pyosmium {_version('osmium')}"},
    )
    names: list[dict[str, str]] = []
    kinds: list[str] = []
    ids: list[int] = []
    xy: list[tuple[float, float]] = []
    for row in parsed["places"]:
        pairs = [p.split("=", 1) for p in row["tags"].split(",") if "=" in p]
        tags_of = {_unescape(k): _unescape(v) for k, v in pairs}
        named = {k: v for k, v in tags_of.items() if is_name_tag(k)}
        if tags_of.get("place") and named and row["x"] and row["y"]:
            names.append(named)
            kinds.append(tags_of["place"])
            ids.append(int(row["id"]))
            xy.append((float(row["x"]), float(row["y"])))
    if names:
        coords = np.asarray(xy, dtype=np.float64)
        table.places = PlaceTable.from_names(
            names, kinds, coords[:, 0], coords[:, 1], node=table.node_index(np.asarray(ids, dtype=np.int64))
        )
    return table


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "?"


def write_osm(table: RoadTable, path: str | os.PathLike[str]) -> Path:
    """Write a road table as an OSM file (PBF or XML by suffix), e.g. a GIS layer for tools that read OSM.

    Nodes keep :attr:`RoadTable.node_id` and ways :attr:`RoadTable.way_id` (a
    way id repeated by the parts of one multi-line feature is renumbered after
    the largest); places become nodes numbered after the largest node id.
    """
    import osmium
    from osmium.osm.mutable import Node, Way

    path = Path(path)
    order = np.argsort(table.node_id, kind="stable")
    way_ids = table.way_id.copy()
    _, first = np.unique(way_ids, return_index=True)
    repeated = np.ones(len(way_ids), dtype=bool)
    repeated[first] = False
    way_ids[repeated] = way_ids.max(initial=0) + 1 + np.arange(int(repeated.sum()))
    columns = {k: v.decode() for k, v in table.tags.items()}
    try:
        with osmium.SimpleWriter(str(path), overwrite=True) as writer:
            ids, xs, ys = table.node_id[order].tolist(), table.node_x[order].tolist(), table.node_y[order].tolist()
            # A place on a road vertex tags that node; a second place on the same vertex gets its own node.
            place_at: dict[int, int] = {}
            for i, n in enumerate(table.places.node.tolist()):
                if n >= 0:
                    place_at.setdefault(n, i)
            on_vertex = set(place_at.values())
            for k, (nid, x, y) in enumerate(zip(ids, xs, ys, strict=True)):
                at = place_at.get(int(order[k]))
                tags = _place_tags(table.places, at) if at is not None else {}
                writer.add_node(Node(id=nid, location=(x, y), tags=tags))
            next_id = int(table.node_id.max(initial=0)) + 1
            for i in range(len(table.places)):
                if i not in on_vertex:
                    loc = (float(table.places.x[i]), float(table.places.y[i]))
                    writer.add_node(Node(id=next_id, location=loc, tags=_place_tags(table.places, i)))
                    next_id += 1
            node_ids = table.node_id
            for w in np.argsort(way_ids, kind="stable").tolist():
                nodes = node_ids[table.way_node[table.way_offset[w] : table.way_offset[w + 1]]].tolist()
                tags = {k: col[w] for k, col in columns.items() if col[w] is not None}
                writer.add_way(Way(id=int(way_ids[w]), nodes=nodes, tags=tags))
    except (RuntimeError, OSError) as exc:
        raise NetworkError(f"{path}: cannot write OSM data: {exc}") from None
    return path


def _place_tags(places: PlaceTable, i: int) -> dict[str, str]:
    tags = {"place": places.kind[i], "name": places.name[i]}
    if places.aliases[i]:
        tags["alt_name"] = places.aliases[i]
    return tags


# --- GIS -------------------------------------------------------------------------------------------


def _match_columns(found: list[str], keys: tuple[str, ...]) -> dict[str, str]:
    """Tag key -> the layer's column standing for it."""
    lower = {c.lower(): c for c in found}
    out: dict[str, str] = {}
    for key in keys:
        for cand in (key, key.replace(":", "_"), *_COLUMN_ALIASES.get(key, ()), key.replace(":", "_")[:10]):
            if cand.lower() in lower:
                out[key] = lower[cand.lower()]
                break
    return out


def _text_column(values: Any) -> TextColumn:
    """A pyarrow array of any type as a :class:`TextColumn` (numbers as their text, ``""`` absent)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_floating(values.type):
        # 50.0 -> "50": a maxspeed or oneway stored as a number reads as OSM would write it.
        as_int = pc.cast(values, pa.int64(), safe=False)
        whole = pc.equal(pc.cast(as_int, values.type), values)
        values = pc.if_else(whole, pc.cast(as_int, pa.string()), pc.cast(values, pa.string()))
    elif not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        values = pc.cast(values, pa.string())
    encoded = pc.dictionary_encode(values)
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    codes = np.where(encoded.indices.is_null().to_numpy(zero_copy_only=False), -1, codes).astype(np.int32)
    texts = [str(v) for v in encoded.dictionary.to_pylist()]
    blank = np.array([not t.strip() for t in texts] + [True], dtype=bool)
    codes = np.where(blank[codes], -1, codes).astype(np.int32)
    return TextColumn(codes, texts)


def _choose_layer(path: Path, layer: str | None) -> tuple[str | None, str | None]:
    """The roads layer to read and the places layer (or None) of a GIS file."""
    import pyogrio

    try:
        layers = [(str(n), str(t)) for n, t in pyogrio.list_layers(path)]
    except Exception as exc:  # pyogrio raises DataSourceError, OSError and others
        raise NetworkError(f"{path}: cannot open GIS file: {exc}") from None
    if not layers:
        raise NetworkError(f"{path}: no layers")
    names = [n for n, _ in layers]
    if layer is not None:
        if layer not in names:
            raise NetworkError(f"{path}: no layer {layer!r}; layers: {', '.join(names)}")
        chosen = layer
    elif "roads" in names or len(layers) == 1:
        chosen = "roads" if "roads" in names else names[0]
    else:
        lines = [n for n, t in layers if "line" in t.lower()]
        if len(lines) != 1:
            raise NetworkError(f"{path}: several layers ({', '.join(names)}); choose one with layer=")
        chosen = lines[0]
    places = next((n for n, t in layers if n.lower() == "places" and n != chosen and "point" in t.lower()), None)
    return chosen, places


def _read_layer(path: Path, layer: str | None) -> tuple[Any, list[str], str | None]:
    """(arrow table with a WKB ``geometry`` column, field names, CRS) of a GIS layer."""
    if _suffix(path) in (".parquet", ".geoparquet"):
        return _read_geoparquet(path)
    import pyogrio

    try:
        meta, table = pyogrio.read_arrow(path, layer=layer)
    except Exception as exc:
        raise NetworkError(f"{path}: cannot read layer {layer!r}: {exc}") from None
    geometry = meta.get("geometry_name") or "wkb_geometry"
    if geometry not in table.column_names:
        raise NetworkError(f"{path}: layer {layer!r} has no geometry")
    fields = [str(f) for f in meta["fields"]]
    table = table.rename_columns(["geometry" if c == geometry else c for c in table.column_names])
    return table, fields, meta.get("crs")


def read_street_lines(
    path: str | os.PathLike[str], *, classes: tuple[str, ...] = ("residential", "living_street"),
    layer: str | None = "roads",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Geometry of the lines of some ``highway`` classes of a GIS layer, for density maps.

    Reads only those features (an SQL filter in the driver) and only their
    geometry. Returns ``(x, y, offsets)``: vertex longitudes and latitudes of
    every line concatenated, line ``i`` being ``offsets[i]:offsets[i + 1]``.
    """
    import pyogrio

    p = Path(path)
    listed = ", ".join("'" + c.replace("'", "''") + "'" for c in classes)
    try:
        meta, table = pyogrio.read_arrow(p, layer=layer, columns=[], where=f"highway IN ({listed})")
    except Exception as exc:  # pyogrio raises DataSourceError, OSError and others
        raise NetworkError(f"{p}: cannot read streets from layer {layer!r}: {exc}") from None
    geometry = meta.get("geometry_name") or "wkb_geometry"
    column = table.column(geometry)
    lines = _wkb_linestrings(column)
    if lines is None:
        lines = _shapely_lines(p, f"layer {layer!r}", column, {})
    coords, vertex_part, _ = lines
    starts = np.flatnonzero(np.r_[True, vertex_part[1:] != vertex_part[:-1]])
    offsets = np.r_[starts, len(vertex_part)].astype(np.int64)
    return coords[:, 0].copy(), coords[:, 1].copy(), offsets


def _read_geoparquet(path: Path) -> tuple[Any, list[str], str | None]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:
        raise NetworkError(f"{path}: cannot read GeoParquet: {exc}") from None
    geo = json.loads((table.schema.metadata or {}).get(b"geo", b"{}") or b"{}")
    column = geo.get("primary_column", "geometry")
    if column not in table.column_names:
        raise NetworkError(f"{path}: no geometry column (GeoParquet 'geo' metadata missing or wrong)")
    info = geo.get("columns", {}).get(column, {})
    if info.get("encoding", "WKB").upper() != "WKB":
        raise NetworkError(f"{path}: geometry encoding {info.get('encoding')!r} is not supported; write it as WKB")
    crs = info.get("crs")
    crs_text = None if crs is None else json.dumps(crs) if isinstance(crs, dict) else str(crs)
    fields = [c for c in table.column_names if c != column]
    table = table.rename_columns(["geometry" if c == column else c for c in table.column_names])
    return table, fields, crs_text


def _to_wgs84(path: Path, x: np.ndarray, y: np.ndarray, crs: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates in longitude/latitude: a layer in another CRS is transformed."""
    if crs is None:
        return x, y
    from pyproj import CRS, Transformer
    from pyproj.exceptions import CRSError

    try:
        source = CRS.from_user_input(json.loads(crs) if crs.startswith("{") else crs)
    except (CRSError, ValueError) as exc:
        raise NetworkError(f"{path}: unknown CRS {crs!r}: {exc}") from None
    target = CRS.from_epsg(4326)
    if source.equals(target, ignore_axis_order=True) or source.to_epsg() == 4326 or "CRS84" in source.srs:
        return x, y
    transformer = Transformer.from_crs(source, target, always_xy=True)
    lon, lat = transformer.transform(x, y)
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def read_gis(path: Path, *, layer: str | None = None) -> RoadTable:
    """Every ``highway`` line of a GIS layer; identical vertices become one node."""
    import pyarrow as pa

    is_parquet = _suffix(path) in (".parquet", ".geoparquet")
    chosen, places_layer = (None, None) if is_parquet else _choose_layer(path, layer)
    arrow, fields, crs = _read_layer(path, chosen)
    where = f"layer {chosen!r}" if chosen else "the file"
    columns = _match_columns(fields, WAY_TAGS)
    if "highway" not in columns:
        raise NetworkError(f"{path}: {where} has no 'highway' column (columns found: {', '.join(fields) or 'none'})")
    if arrow.num_rows == 0:
        raise NetworkError(f"{path}: {where} is empty")
    _check_lengths(path, arrow, fields)
    dropped: dict[str, int] = {}
    lines = _wkb_linestrings(arrow.column("geometry"))
    if lines is None:
        lines = _shapely_lines(path, where, arrow.column("geometry"), dropped)
    coords, vertex_part, part_feature = lines
    if not len(part_feature):
        raise NetworkError(f"{path}: {where} has no line geometries")
    bad = ~np.isfinite(coords).all(axis=1)
    if bad.any():
        feature = int(part_feature[vertex_part[bad][0]]) + 1
        raise NetworkError(f"{path}: {where}: feature {feature}: NaN or infinite coordinate")
    x, y = _to_wgs84(path, np.ascontiguousarray(coords[:, 0]), np.ascontiguousarray(coords[:, 1]), crs)
    del coords, lines
    out = (np.abs(x) > 180) | (np.abs(y) > 90)
    if out.any():
        k = int(np.flatnonzero(out)[0])
        raise NetworkError(f"{path}: {where}: feature {int(part_feature[vertex_part[k]]) + 1}: coordinate "
                           f"({x[k]}, {y[k]}) is not longitude/latitude")
    node_of, node_x, node_y = _vertex_nodes(x, y)
    sizes = np.bincount(vertex_part, minlength=len(part_feature)).astype(np.int64)
    del vertex_part
    offset = np.zeros(len(part_feature) + 1, dtype=np.int64)
    np.cumsum(sizes, out=offset[1:])
    take = pa.array(part_feature)
    tags = {key: _text_column(arrow.column(col).take(take)) for key, col in columns.items()}
    # A column without any value is no tag (as in OSM, where an unused key does not exist).
    tags = {key: column for key, column in tags.items() if key == "highway" or column.present().any()}
    id_col = next((c for c in _match_columns(fields, _ID_COLUMNS).values()), None)
    way_id = part_feature.astype(np.int64) + 1
    if id_col is not None:
        ids = arrow.column(id_col).take(take).to_numpy(zero_copy_only=False)
        # Ids that are not numbers ("w123") leave the feature numbers.
        with contextlib.suppress(TypeError, ValueError):
            way_id = np.where(np.isfinite(ids.astype(np.float64)), ids, way_id).astype(np.int64)
    table = RoadTable(
        node_id=np.arange(1, len(node_x) + 1, dtype=np.int64),
        node_x=node_x,
        node_y=node_y,
        way_id=way_id,
        way_offset=offset,
        way_node=node_of,
        tags=tags,
        dropped=dropped,
        meta={"source": path.name, "format": "gis", "layer": chosen, "reader": f"pyogrio {_version('pyogrio')}"},
    )
    if places_layer is not None:
        table.places = _read_places(path, places_layer, node_x, node_y)
    return table


def _wkb_linestrings(column: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Coordinates of a WKB column in which every feature is a little-endian 2-D LineString, without
    making geometry objects; ``None`` for any other content (the caller then uses shapely).

    Returns ``(coords (n, 2), vertex -> part, part -> feature)`` like :func:`_shapely_lines`.
    Road layers (GeoPackage, HOT/HDX exports) are usually all LineStrings, and
    this reads them in a fraction of shapely's time and memory.
    """
    import pyarrow as pa

    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if isinstance(arr, pa.ExtensionArray):
        arr = arr.storage
    if not len(arr) or arr.null_count or not (pa.types.is_binary(arr.type) or pa.types.is_large_binary(arr.type)):
        return None
    _, offsets_buf, data_buf = arr.buffers()
    wide = pa.types.is_large_binary(arr.type)
    raw = np.frombuffer(offsets_buf, dtype=np.int64 if wide else np.int32)
    offsets: np.ndarray = raw[arr.offset : arr.offset + len(arr) + 1].astype(np.int64)
    data = np.frombuffer(data_buf, dtype=np.uint8)
    start = offsets[:-1]
    if (offsets[1:] - start < 9).any() or (data[start] != 1).any():
        return None

    def uint32(at: np.ndarray) -> np.ndarray:
        b = [data[at + k].astype(np.uint32) for k in range(4)]
        return b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)

    if (uint32(start + 1) != 2).any():  # 2: LineString (2-D), little-endian above
        return None
    n = uint32(start + 5).astype(np.int64)
    # Empty lines are counted as "no geometry" by the shapely path.
    if (offsets[1:] - start != 9 + 16 * n).any() or (n == 0).any():
        return None
    feature = np.arange(len(n), dtype=np.int64)
    # Byte position of every coordinate (x and y alternate), then one gather per byte alignment:
    # WKB puts doubles at any offset, so each alignment reads through its own shifted float64 view.
    count = 2 * n
    first = np.zeros(len(n), dtype=np.int64)
    np.cumsum(count[:-1], out=first[1:])
    total = int(count.sum())
    pos = np.arange(total, dtype=np.int64)
    pos -= np.repeat(first, count)
    pos *= 8
    pos += np.repeat(start[feature] + 9, count)
    values = np.empty(total, dtype=np.float64)
    shift = pos % 8
    for k in range(8):
        at = np.flatnonzero(shift == k)
        if len(at):
            view = np.frombuffer(data_buf, dtype="<f8", offset=k, count=(data_buf.size - k) // 8)
            values[at] = view[(pos[at] - k) // 8]
    del pos, shift
    vertex_part = np.repeat(np.arange(len(n), dtype=np.int64), n)
    return values.reshape(-1, 2), vertex_part, feature.astype(np.int64)


def _shapely_lines(
    path: Path, where: str, column: Any, dropped: dict[str, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coordinates of the (Multi)LineStrings of a WKB column through shapely; other geometries are
    counted in ``dropped``. Returns ``(coords (n, 2), vertex -> part, part -> feature)``."""
    import shapely

    try:
        geoms = shapely.from_wkb(column.to_numpy(zero_copy_only=False), on_invalid="raise")
    except Exception as exc:  # shapely.errors.GEOSException for broken WKB
        raise NetworkError(f"{path}: {where}: unreadable geometry: {exc}") from None
    type_id = shapely.get_type_id(geoms)
    empty = shapely.is_empty(geoms)
    line = np.isin(type_id, (1, 5)) & ~empty  # LineString, MultiLineString
    no_geometry = int(((type_id < 0) | (empty & np.isin(type_id, (1, 5)))).sum())
    if no_geometry:
        dropped["no geometry"] = no_geometry
    other = ~line & (type_id >= 0) & ~empty
    for tid, count in zip(*np.unique(type_id[other], return_counts=True), strict=True):
        dropped[f"geometry {shapely.GeometryType(int(tid)).name.title().replace('string', 'String')}"] = int(count)
    features = np.flatnonzero(line)
    parts, part_feature = shapely.get_parts(geoms[features], return_index=True)
    del geoms
    coords, vertex_part = shapely.get_coordinates(parts, return_index=True)
    return coords, vertex_part.astype(np.int64), features[part_feature].astype(np.int64)


def _vertex_nodes(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Node index of every vertex (equal coordinates share one), and the nodes' coordinates."""
    import pandas as pd

    # A complex number hashes both coordinates at once: one O(n) factorize, no sort.
    codes, uniques = pd.factorize(x + 1j * y)
    uniques = np.asarray(uniques)
    return codes.astype(np.int64), uniques.real.copy(), uniques.imag.copy()


def _check_lengths(path: Path, arrow: Any, fields: list[str]) -> None:
    """A length column, where the layer has one, must not be negative (a sign of a broken export)."""
    for column in _match_columns(fields, _LENGTH_COLUMNS).values():
        try:
            values = arrow.column(column).to_numpy(zero_copy_only=False).astype(np.float64)
        except (TypeError, ValueError):
            continue
        negative = np.flatnonzero(values < 0)
        if len(negative):
            i = int(negative[0])
            raise NetworkError(f"{path}: feature {i + 1}: negative length {values[i]} in column {column!r}")


def _read_places(path: Path, layer: str, node_x: np.ndarray, node_y: np.ndarray) -> PlaceTable:
    import pandas as pd
    import shapely

    arrow, fields, crs = _read_layer(path, layer)
    columns = _match_columns(fields, ("place",))
    # Any name column: "name", "name_ar" or "name:ar", "alt_name" ... ("_" stands for ":" in GIS layers).
    for field in fields:
        key = field.lower()
        key = key if is_name_tag(key) else key.replace("_", ":", 1) if key.startswith("name_") else key
        if is_name_tag(key):
            columns.setdefault(key, field)
    if arrow.num_rows == 0 or "place" not in columns:
        return PlaceTable()
    geoms = shapely.from_wkb(arrow.column("geometry").to_numpy(zero_copy_only=False))
    ok = shapely.get_type_id(geoms) == 0
    x = np.where(ok, shapely.get_x(geoms), np.nan)
    y = np.where(ok, shapely.get_y(geoms), np.nan)
    x, y = _to_wgs84(path, x, y, crs)
    texts = {key: arrow.column(col).to_pylist() for key, col in columns.items()}
    keep = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    names = [{k: str(texts[k][i]) for k in texts if k != "place" and texts[k][i] not in (None, "")} for i in keep]
    kinds = [str(texts["place"][i] or "") for i in keep]
    # Which road vertex (if any) each place sits on: probe every vertex against the few place points.
    codes, points = pd.factorize(x[keep] + 1j * y[keep])
    hit = pd.Index(points).get_indexer(pd.Index(node_x + 1j * node_y))
    vertex_of_point = np.full(len(points), -1, dtype=np.int64)
    vertex_of_point[hit[hit >= 0]] = np.flatnonzero(hit >= 0)
    node = vertex_of_point[codes]
    return PlaceTable.from_names(names, kinds, x[keep], y[keep], node=node)
