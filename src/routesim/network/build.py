"""Raw roads to the compiled network: profile filter, junctions, chain merging, geodesic lengths.

:func:`build_roads` turns a :class:`~routesim.network.roadtable.RoadTable` into a
:class:`~routesim.network.compiled.CompiledRoads` with array operations only
(no Python loop over ways, vertices or edges):

1. **Filter.** The profile keeps the drivable ways (:meth:`Profile.select`);
   ways drivable only against their digitised direction (``oneway=-1``) are
   reversed, so every oneway line runs in its direction of travel.
2. **Junctions.** A vertex ends a piece of road where a way ends, where
   ``np.bincount`` finds it used more than once among the drivable ways (ways
   that share a node, in OSM, or a vertex, in GIS), or where it is protected.
   Lines that cross without a shared vertex (bridges) do not connect.
3. **Chains.** Where exactly two pieces meet at a vertex that is not protected,
   and they agree in class, ref, names, oneway, bridge, tunnel, maxspeed and
   speeds (and a oneway continues in the same direction), they are one line.
   Chains are found with :func:`scipy.sparse.csgraph.connected_components`
   over the piece links and ordered by pointer jumping (:func:`_chain_order`).
4. **Geometry and length.** Every vertex is kept; lengths are geodesic on the
   WGS84 ellipsoid.

Protected vertices (never merged through, always line ends): those of
``keep_nodes``, every place that is itself a road vertex, and the drivable
vertex nearest to each named place, so a route to a village starts where the
road passes it rather than at the next junction.
"""

from __future__ import annotations

import math
import os
import re
from typing import Any

import numpy as np

from routesim.errors import NetworkError
from routesim.network.compiled import CompiledRoads
from routesim.network.profiles import Profile, get_profile
from routesim.network.roadtable import RoadTable, TextColumn

#: WGS84 ellipsoid.
_A = 6378137.0
_F = 1 / 298.257223563
_E2 = _F * (2 - _F)
#: Segments longer than this (m) are measured by pyproj's exact geodesic instead of the local formula.
_EXACT_ABOVE_M = 5000.0
_ARABIC = re.compile(r"[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]")
_FALSE = frozenset({"no", "false", "0", "none", ""})


def geodesic_m(x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray) -> np.ndarray:
    """Geodesic distances (m) on the WGS84 ellipsoid between point pairs given in degrees.

    Road segments are short: each is measured in the plane tangent at its mid
    latitude with the ellipsoid's meridional and prime-vertical radii there,
    which is within 1e-6 of the exact geodesic up to a few km; longer segments
    go to :class:`pyproj.Geod` (Karney's algorithm).
    """
    phi = np.radians((y0 + y1) * 0.5)
    s = np.sin(phi)
    w = 1.0 - _E2 * s * s
    n = _A / np.sqrt(w)  # prime vertical radius
    m = n * (1.0 - _E2) / w  # meridional radius
    dlon = np.radians(x1 - x0)
    dlon = np.where(dlon > math.pi, dlon - 2 * math.pi, np.where(dlon < -math.pi, dlon + 2 * math.pi, dlon))
    d = np.hypot(m * np.radians(y1 - y0), n * np.cos(phi) * dlon)
    long = np.flatnonzero(d > _EXACT_ABOVE_M)
    if len(long):
        from pyproj import Geod

        _, _, exact = Geod(ellps="WGS84").inv(x0[long], y0[long], x1[long], y1[long])
        d[long] = exact
    return d


def _flag(column: TextColumn) -> np.ndarray:
    return column.lookup(lambda v: v.strip().lower() not in _FALSE, False, dtype=bool)


def _arabic_names(table: RoadTable) -> TextColumn:
    """``name:ar``, or ``name`` where that is in Arabic script (as the HOT/HDX exports fill ``name_ar``)."""
    explicit = table.tag("name:ar")
    name = table.tag("name")
    fallback = name.lookup(lambda v: bool(_ARABIC.search(v)), False, dtype=bool)
    values = explicit.decode()
    use = ~explicit.present() & fallback
    values[use] = name.decode()[use]
    return TextColumn.from_values(values)


def _protected_nodes(table: RoadTable, keep_nodes: Any, vertex_nodes: np.ndarray) -> tuple[np.ndarray, int]:
    """Node indices that must stay line ends, and how many of ``keep_nodes`` lie off the drivable roads."""
    marks: list[np.ndarray] = []
    on_road = np.zeros(table.n_nodes, dtype=bool)
    on_road[vertex_nodes] = True
    points: list[np.ndarray] = []
    off = 0
    if keep_nodes is not None:
        given = np.asarray(list(keep_nodes) if not isinstance(keep_nodes, np.ndarray) else keep_nodes)
        if given.ndim == 2 and given.shape[1] == 2:
            points.append(given.astype(np.float64))
        elif given.ndim <= 1 and (given.size == 0 or np.issubdtype(given.dtype, np.integer)):
            idx = given.astype(np.int64).ravel()
            if len(idx) and (idx.min() < 0 or idx.max() >= table.n_nodes):
                raise ValueError(f"keep_nodes: node index out of range 0..{table.n_nodes - 1}")
            off += int((~on_road[idx]).sum())
            marks.append(idx)
        else:
            raise ValueError("keep_nodes: give node indices (1-D integers) or (k, 2) longitude/latitude points")
    places = table.places
    if len(places):
        marks.append(places.node[places.node >= 0])
        points.append(np.column_stack([places.x, places.y]))
    if points and len(vertex_nodes):
        from scipy.spatial import cKDTree

        pts = np.concatenate(points)
        candidates = np.flatnonzero(on_road)
        # Equirectangular metres around the data's mean latitude: enough to pick the nearest vertex.
        k = math.cos(math.radians(float(np.mean(table.node_y[candidates]))))
        # An unbalanced tree builds several times faster and is as good for a few thousand queries.
        tree = cKDTree(np.column_stack([table.node_x[candidates] * k, table.node_y[candidates]]),
                       balanced_tree=False, compact_nodes=False)
        _, nearest = tree.query(np.column_stack([pts[:, 0] * k, pts[:, 1]]))
        marks.append(candidates[nearest])
    protected = np.zeros(table.n_nodes, dtype=bool)
    for m in marks:
        protected[m] = True
    return protected & on_road, off


def build_roads(
    table: RoadTable,
    *,
    profile: str | Profile = "car",
    speeds: str | os.PathLike[str] | None = None,
    keep_nodes: Any = None,
) -> CompiledRoads:
    """Compile the drivable roads of ``table`` into lines and directed edges.

    Parameters
    ----------
    table
        From :func:`routesim.io.roads.read_roads`.
    profile
        ``"car"`` (default) or ``"truck"``, or a :class:`Profile`: which ways are
        drivable and in which direction; the lines carry both car and truck
        speeds whichever profile chose them.
    speeds
        A CSV overriding rows of ``data/profiles/road_speeds.csv`` (default none).
    keep_nodes
        Vertices that must stay junctions (never merged through): node indices
        into ``table`` (1-D integers; :meth:`RoadTable.node_index` turns OSM
        node ids into them), or ``(k, 2)`` longitude/latitude points, each
        protecting the nearest drivable vertex. Default: none beyond the places.

    Returns
    -------
    CompiledRoads
        ``dropped`` counts the ways left out per reason; ``meta`` holds
        ``source``, ``sha256``, ``format``, ``layer``, ``profile``,
        ``attribution``, ``speeds`` (files of the speed table), ``ways_read``,
        ``ways_kept`` and ``keep_nodes_off_road``.

    Raises
    ------
    NetworkError
        ``source: problem`` when nothing is drivable or a length is not finite.
    """
    prof = get_profile(profile, speeds=speeds)
    source = table.meta.get("source", "roads")
    keep, dropped = prof.select(table)
    dropped = {**table.dropped, **dropped}
    direction = prof.direction(table)
    car, truck = prof.way_speeds(table)
    maxspeed = prof.maxspeeds(table)

    kept, refs, way_of, short = _drivable_vertices(table, keep, direction)
    if short:
        dropped["fewer than two nodes"] = short
    if not len(kept):
        found = sorted(set(table.tag("highway").values))
        raise NetworkError(f"{source}: no drivable road for profile {prof.name!r} "
                           f"(highway values found: {', '.join(found[:20]) or 'none'})")
    dropped = {k: v for k, v in dropped.items() if v}

    protected, off_road = _protected_nodes(table, keep_nodes, refs)
    p_start, p_end = _pieces(refs, way_of, protected, table.n_nodes)
    p_way = way_of[p_start]
    # Pieces of one attribute group may merge.
    hw, ref, name, name_ar = table.tag("highway"), table.tag("ref"), table.tag("name"), _arabic_names(table)
    oneway = direction != 0
    bridge, tunnel = _flag(table.tag("bridge")), _flag(table.tag("tunnel"))
    group = _group_ids([
        hw.codes[kept], ref.codes[kept], name.codes[kept], name_ar.codes[kept], oneway[kept], bridge[kept],
        tunnel[kept], maxspeed[kept], car[kept], truck[kept],
    ])
    nbr, nbr_side = _merge_links(refs[p_start], refs[p_end], group[p_way], oneway[kept][p_way], protected)
    line_of_piece, order, forward = _chain_order(nbr, nbr_side)
    geom_node, geom_offset, first_piece = _line_vertices(refs, p_start, p_end, line_of_piece, order, forward)
    geom_x, geom_y = table.node_x[geom_node], table.node_y[geom_node]
    length = _line_lengths(geom_x, geom_y, geom_offset)
    if not np.isfinite(length).all() or (length < 0).any():
        raise NetworkError(f"{source}: a line length is not a finite non-negative number")

    n_lines = len(geom_offset) - 1
    node_raw, uv = np.unique(np.concatenate([geom_node[geom_offset[:-1]], geom_node[geom_offset[1:] - 1]]),
                             return_inverse=True)
    uv = uv.ravel()
    line_way = kept[p_way[first_piece]]
    texts, (ref_c, name_c, name_ar_c) = _shared_texts([ref, name, name_ar], line_way)
    hw_used = np.unique(hw.codes[line_way])
    hw_map = np.full(len(hw.values), -1, dtype=np.int16)
    hw_map[hw_used] = np.arange(len(hw_used), dtype=np.int16)
    line_oneway = oneway[line_way]
    edge_line, edge_forward = _directed_edges(line_oneway)
    places = table.places
    meta = {
        k: table.meta.get(k) for k in ("source", "sha256", "format", "layer", "reader", "attribution")
    }
    meta.update(profile=prof.name, speeds=list(prof.speeds.source), ways_read=table.n_ways,
                ways_kept=len(kept), keep_nodes_off_road=off_road)
    return CompiledRoads(
        node_id=table.node_id[node_raw],
        node_x=table.node_x[node_raw],
        node_y=table.node_y[node_raw],
        line_u=uv[:n_lines].astype(np.int64),
        line_v=uv[n_lines:].astype(np.int64),
        line_length_m=length,
        line_highway=hw_map[hw.codes[line_way]],
        line_ref=ref_c,
        line_name=name_c,
        line_name_ar=name_ar_c,
        line_oneway=line_oneway,
        line_car_kph=car[line_way].astype(np.float64),
        line_truck_kph=truck[line_way].astype(np.float64),
        line_maxspeed_kph=maxspeed[line_way].astype(np.float64),
        line_bridge=bridge[line_way],
        line_tunnel=tunnel[line_way],
        line_source=table.way_id[line_way].astype(np.int64),
        geom_offset=geom_offset,
        geom_x=geom_x,
        geom_y=geom_y,
        edge_line=edge_line,
        edge_forward=edge_forward,
        highways=[hw.values[i] for i in hw_used],
        texts=texts,
        place_name=list(places.name),
        place_kind=list(places.kind),
        place_aliases=list(places.aliases),
        place_x=np.asarray(places.x, dtype=np.float64),
        place_y=np.asarray(places.y, dtype=np.float64),
        dropped=dropped,
        meta=meta,
    )


def _drivable_vertices(
    table: RoadTable, keep: np.ndarray, direction: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The vertices of the kept ways, in driving order.

    Returns ``(kept, refs, way_of, short)``: the kept ways' indices, their node
    indices concatenated (reversed where a way is driven against its
    digitisation, a node repeated back to back once), the position in ``kept``
    of each entry's way, and how many ways had fewer than two distinct nodes.
    """
    counts = np.diff(table.way_offset)
    kept = np.flatnonzero(keep & (counts >= 2))
    short = int((keep & (counts < 2)).sum())
    n_v = counts[kept]
    total = int(n_v.sum())
    way_of = np.repeat(np.arange(len(kept), dtype=np.int64), n_v)
    local_start = np.zeros(len(kept), dtype=np.int64)
    np.cumsum(n_v[:-1], out=local_start[1:])
    within = np.arange(total, dtype=np.int64) - local_start[way_of]
    within = np.where((direction[kept] < 0)[way_of], n_v[way_of] - 1 - within, within)
    refs = table.way_node[table.way_offset[kept][way_of] + within]
    del within
    # A node repeated back to back is no segment.
    same = np.zeros(total, dtype=bool)
    same[1:] = (refs[1:] == refs[:-1]) & (way_of[1:] == way_of[:-1])
    if same.any():
        refs, way_of = refs[~same], way_of[~same]
        n_v = np.bincount(way_of, minlength=len(kept))
        too_short = n_v < 2
        if too_short.any():
            drop = too_short[way_of]
            refs, way_of = refs[~drop], way_of[~drop]
            short += int(too_short.sum())
            kept = kept[~too_short]
            way_of = (np.cumsum(~too_short) - 1)[way_of]
    return kept, refs, way_of, short


def _pieces(refs: np.ndarray, way_of: np.ndarray, protected: np.ndarray, n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Split the ways at junctions: ``(start, end)`` positions in ``refs`` of every piece.

    A vertex is a junction where a way ends, where it is used more than once
    among the drivable ways, or where it is protected.
    """
    first = np.ones(len(refs), dtype=bool)
    first[1:] = way_of[1:] != way_of[:-1]
    last = np.ones(len(refs), dtype=bool)
    last[:-1] = first[1:]
    use = np.bincount(refs, minlength=n_nodes)
    breaks = np.flatnonzero(first | last | (use[refs] > 1) | protected[refs])
    pair = way_of[breaks[1:]] == way_of[breaks[:-1]]
    return breaks[:-1][pair], breaks[1:][pair]


def _merge_links(
    start_node: np.ndarray, end_node: np.ndarray, group: np.ndarray, oneway: np.ndarray, protected: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Which pieces continue into which: the two pieces at a vertex where exactly two piece ends
    meet, if it is not protected, they are of one group, and a oneway continues its direction.

    Returns ``(nbr, nbr_side)`` as :func:`_chain_order` takes them.
    """
    n_p = len(start_node)
    ends = np.concatenate([start_node, end_node])
    piece = np.concatenate([np.arange(n_p), np.arange(n_p)])
    side = np.concatenate([np.zeros(n_p, np.int8), np.ones(n_p, np.int8)])
    degree = np.bincount(ends, minlength=len(protected))
    cand = np.flatnonzero((degree[ends] == 2) & ~protected[ends])
    order = cand[np.argsort(ends[cand], kind="stable")]
    a, b = order[0::2], order[1::2]
    pa, pb, ea, eb = piece[a], piece[b], side[a], side[b]
    ok = (pa != pb) & (group[pa] == group[pb]) & (~oneway[pa] | (ea != eb))
    pa, pb, ea, eb = pa[ok], pb[ok], ea[ok], eb[ok]
    nbr = np.full((n_p, 2), -1, dtype=np.int64)
    nbr_side = np.full((n_p, 2), -1, dtype=np.int8)
    nbr[pa, ea], nbr_side[pa, ea] = pb, eb
    nbr[pb, eb], nbr_side[pb, eb] = pa, ea
    return nbr, nbr_side


def _line_vertices(
    refs: np.ndarray, start: np.ndarray, end: np.ndarray, line_of: np.ndarray, order: np.ndarray, forward: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Concatenate the pieces of every line into its vertex sequence.

    Returns ``(geom_node, geom_offset, first_piece)``: node index of every line
    vertex, the per-line offsets into it, and each line's first piece.
    """
    n_p = len(order)
    start_o, end_o, fwd_o, line_o = start[order], end[order], forward[order], line_of[order]
    head = np.ones(n_p, dtype=bool)
    head[1:] = line_o[1:] != line_o[:-1]
    # Every piece after a line's first starts at the vertex the previous one ended on: skip it.
    take = (end_o - start_o + 1) - (~head)
    pos0 = np.zeros(n_p, dtype=np.int64)
    np.cumsum(take[:-1], out=pos0[1:])
    rep = np.repeat(np.arange(n_p, dtype=np.int64), take)
    k = np.arange(int(take.sum()), dtype=np.int64) - pos0[rep] + (~head)[rep]
    geom_node = refs[np.where(fwd_o[rep], start_o[rep] + k, end_o[rep] - k)]
    n_lines = int(line_o[-1]) + 1
    per_line = np.bincount(line_o, weights=take, minlength=n_lines).astype(np.int64)
    geom_offset = np.zeros(n_lines + 1, dtype=np.int64)
    np.cumsum(per_line, out=geom_offset[1:])
    return geom_node, geom_offset, order[head]


def _line_lengths(x: np.ndarray, y: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """Geodesic length of every line, metres."""
    seg = geodesic_m(x[:-1], y[:-1], x[1:], y[1:])
    n_lines = len(offset) - 1
    seg_line = np.repeat(np.arange(n_lines, dtype=np.int64), np.diff(offset))[:-1]
    inside = np.ones(len(seg), dtype=bool)
    inside[offset[1:-1] - 1] = False  # the step from one line's last vertex to the next line's first
    return np.bincount(seg_line[inside], weights=seg[inside], minlength=n_lines)


def _directed_edges(oneway: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(edge_line, edge_forward)``: each line forward, then backward unless it is oneway."""
    edge_line = np.repeat(np.arange(len(oneway), dtype=np.int64), 1 + ~oneway)
    edge_forward = np.ones(len(edge_line), dtype=bool)
    edge_forward[1:] = edge_line[1:] != edge_line[:-1]
    return edge_line, edge_forward


def _group_ids(columns: list[np.ndarray]) -> np.ndarray:
    """One integer per distinct row of the given columns (hashing, no sort: O(n))."""
    import pandas as pd

    group = np.zeros(len(columns[0]), dtype=np.int64)
    for column in columns:
        codes, uniques = pd.factorize(column, use_na_sentinel=False)  # nan is a value of its own
        # Re-factorize the combined key so it never outgrows int64.
        group, _ = pd.factorize(group * (len(uniques) + 1) + codes)
    return group


def _shared_texts(columns: list[TextColumn], rows: np.ndarray) -> tuple[list[str], list[np.ndarray]]:
    """One lookup table for several text columns, and each column's codes into it for ``rows``."""
    texts: dict[str, int] = {}
    out: list[np.ndarray] = []
    for column in columns:
        codes = column.codes[rows]
        used = np.unique(codes[codes >= 0])
        remap = np.full(len(column.values) + 1, -1, dtype=np.int32)
        for i in used.tolist():
            remap[i] = texts.setdefault(column.values[i], len(texts))
        out.append(remap[codes])
    return list(texts), out


def _chain_order(nbr: np.ndarray, nbr_side: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Order linked pieces into chains.

    Parameters
    ----------
    nbr
        ``(n, 2)``: the piece linked at each piece's start (column 0) and end
        (column 1), ``-1`` for none. Links are symmetric; every piece has at
        most one link per end, so chains are paths or rings.
    nbr_side
        ``(n, 2)``: which end (0 start, 1 end) of the linked piece the link reaches.

    Returns
    -------
    line
        ``(n,)`` the chain (line) of each piece, numbered by its first piece.
    order
        The pieces in traversal order, chain after chain.
    forward
        ``(n,)`` whether a piece is driven from its start to its end in its chain.

    Notes
    -----
    A *state* ``2 p + s`` is piece ``p`` entered at end ``s``; its successor is
    the piece linked at the other end, entered at the side the link reaches.
    States form two directed paths per chain (one per direction), ranked by
    pointer jumping in ``log2(longest chain)`` array steps.
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(nbr)
    nbr = nbr.copy()
    rows = np.repeat(np.arange(n), 2)
    cols = nbr.ravel()
    has = cols >= 0
    graph = csr_matrix((np.ones(int(has.sum()), dtype=np.int8), (rows[has], cols[has])), shape=(n, n))
    n_comp, comp = connected_components(graph, directed=False)
    # A ring of pieces (every end linked) is cut open at its lowest piece's start.
    ring = np.bincount(comp, weights=(nbr < 0).any(axis=1), minlength=n_comp) == 0
    if ring.any():
        first_of = np.full(n_comp, n, dtype=np.int64)
        np.minimum.at(first_of, comp, np.arange(n))
        cut = first_of[ring]
        partner, side = nbr[cut, 0], nbr_side[cut, 0]
        nbr[cut, 0] = -1
        nbr[partner, side] = -1
    # Each chain starts at a free start if it has one (keeping its first piece's digitised direction).
    fp, fe = np.nonzero(nbr < 0)
    pick = np.lexsort((fp, fe, comp[fp]))
    fp, fe = fp[pick], fe[pick]
    lead = np.ones(len(fp), dtype=bool)
    lead[1:] = comp[fp][1:] != comp[fp][:-1]
    start_state = np.empty(n_comp, dtype=np.int64)
    start_state[comp[fp[lead]]] = 2 * fp[lead] + fe[lead]
    # Successor of every state, then Wyllie's list ranking: steps to the end of its path, and that end.
    piece = np.arange(n, dtype=np.int64)
    nxt = np.arange(2 * n, dtype=np.int64)
    for entry in (0, 1):
        q, qs = nbr[:, 1 - entry], nbr_side[:, 1 - entry]
        linked = q >= 0
        nxt[2 * piece[linked] + entry] = 2 * q[linked] + qs[linked]
    rank = (nxt != np.arange(2 * n)).astype(np.int64)
    jump = nxt
    while True:
        ahead = jump[jump]
        if np.array_equal(ahead, jump):
            break
        rank = rank + rank[jump]
        jump = ahead
    # Keep, of each piece's two states, the one on the path that leaves from its chain's start.
    state = np.arange(2 * n, dtype=np.int64)
    chain = comp[state // 2]
    chosen = jump == jump[start_state[chain]]
    state, chain = state[chosen], chain[chosen]
    position = rank[start_state[chain]] - rank[state]
    line_number = np.empty(n_comp, dtype=np.int64)
    line_number[np.argsort(start_state // 2, kind="stable")] = np.arange(n_comp)
    line_of_state = line_number[chain]
    sort = np.lexsort((position, line_of_state))
    order = state[sort] // 2
    forward = np.zeros(n, dtype=bool)
    forward[state // 2] = state % 2 == 0
    line = np.empty(n, dtype=np.int64)
    line[state // 2] = line_of_state
    return line, order, forward
