"""Resolving selectors against a network: which edges a selector covers.

The selector forms are described in :mod:`routesim.models.selectors`. Matching
of roads and places ignores case; places also accept any alias.

Roads
    A road is named by a ref of the network's edges (each part of a ``;`` list:
    ``M5``, ``M4``, ``42`` …) or, where the network has no such ref, by a corridor
    (:mod:`routesim.network.corridors`: ``Desert road``, ``Ghab road`` …).

``ROAD:FROM:TO``
    When FROM and TO are nodes of the network that lie on the road (the hand-drawn
    network: its places are the road's nodes), the segments of the shortest path
    along the road's edges between them, both directions.

    Otherwise (a real network: a town lies beside the motorway, a motorway is two
    oneway carriageways, refs have gaps):

    1. *meet points*: FROM and TO each meet the road at the road node nearest to
       the place (its coordinates; a ``lat,lon`` point or node id: its node);
       farther than :data:`MEET_LIMIT_KM` is an error naming the distance. The
       road nodes within :data:`MEET_CLUSTER_KM` of a meet node are meet nodes
       too, so that either carriageway can start or end a path;
    2. *path*: the shortest path (metres) from FROM's meet nodes to TO's on the
       road's edges alone; when there is none, on every car-usable edge with the
       edges off the road costing :data:`CONNECTOR_PENALTY` times their length,
       accepted only if its part off the road is at most
       :data:`CONNECTOR_SHARE` of its length (unreffed urban stretches, missing
       links). The same again from TO to FROM: the opposite carriageway;
    3. *selection*: the road edges of both paths and their reverse twins (the
       other direction of the same line), and every ``*_link`` edge touching a
       node of those.

    A ref that fails so (e.g. the M5 north of Homs, whose OSM ref has gaps) is
    tried again on its edges plus those of the corridor of the same name
    (``data/network/corridors.yaml``) that are of the road's classes (those
    carrying at least 5 % of its length, links aside) or secondary and above:
    the unreffed urban stretches, not the streets to a town centre waypoint;
    that path may leave those edges for :data:`CORRIDOR_SHARE` of its length.

Places
    A place that is a node selects the edges touching it; a place that is no
    node (a real network) selects the edges touching the node it snaps to.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from routesim._util.geo import haversine_km_array
from routesim.errors import SelectorError, SnapError, UnknownPlaceError
from routesim.models.selectors import Selector, describe, polygon_rings
from routesim.network.corridors import Routable, corridor_edges, corridor_names, find_corridor
from routesim.network.edges import EdgeTable
from routesim.network.lookup import Resolved
from routesim.network.spatial import EdgePoints


class Selectable(Routable, Protocol):
    """What resolving needs of a network (a :class:`routesim.network.Network` has it):
    what corridors need, and spatial queries."""

    @property
    def points(self) -> EdgePoints: ...


def resolve(network: Selectable, selector: Selector) -> np.ndarray:
    """Boolean mask over ``network.edges`` of the edges ``selector`` covers.

    Raises
    ------
    SelectorError
        Naming the part of the selector that is wrong (unknown road, unknown
        place with close matches, place not on the road, malformed area).
    """
    if isinstance(selector, str):
        return _resolve_text(network, selector.strip())
    if isinstance(selector, Mapping):
        return _resolve_mapping(network, selector)
    if isinstance(selector, Sequence):
        mask = np.zeros(network.edges.n, dtype=bool)
        for part in selector:
            mask |= resolve(network, part)
        return mask
    raise SelectorError(f"selector {selector!r}: expected a string, a mapping or a list")


#: Farthest a place may lie from the road it meets in ``ROAD:FROM:TO``, km.
MEET_LIMIT_KM = 10.0
#: Road nodes this close to a meet node are meet nodes too (both carriageways), km.
MEET_CLUSTER_KM = 0.5
#: Cost factor of edges off the road when a path along the road needs connectors.
CONNECTOR_PENALTY = 4.0
#: Largest share of a ``ROAD:FROM:TO`` path (by length) that may lie off the road.
CONNECTOR_SHARE = 0.15
#: The same when the road is a ref helped by its corridor.
CORRIDOR_SHARE = 0.25


def _road_key(network: Selectable, text: str, whole: str) -> str:
    roads = network.edges.roads
    by_fold = {r.casefold(): r for r in roads}
    road = by_fold.get(text.strip().casefold())
    if road is None:
        if find_corridor(text) is not None:
            return text.strip()
        names = sorted({*roads, *corridor_names()})
        close = difflib.get_close_matches(text, names, n=5, cutoff=0.5)
        hint = f"; did you mean: {', '.join(close)}?" if close else f"; known roads: {', '.join(names)}"
        raise SelectorError(f"selector {whole!r}: ROAD: unknown road {text!r}{hint}")
    return road


def road_mask(network: Selectable, name: str) -> np.ndarray | None:
    """Edges of the road called ``name`` (a ref of the network, else a corridor), or ``None``.

    Raises
    ------
    SelectorError
        When ``name`` is a corridor that does not resolve on the network.
    """
    edges = network.edges
    by_fold = {r.casefold(): r for r in edges.roads}
    ref = by_fold.get(name.strip().casefold())
    if ref is not None:
        return _mask(edges.n, edges.road_edges[ref])
    corridor = find_corridor(name)
    return None if corridor is None else corridor_edges(network, corridor)


def _place_node(network: Selectable, text: str, whole: str, part: str) -> Resolved:
    try:
        return network.nodes.resolve(text)
    except (UnknownPlaceError, SnapError) as exc:
        raise SelectorError(f"selector {whole!r}: {part}: {exc}") from None


def _resolve_text(network: Selectable, text: str) -> np.ndarray:
    edges = network.edges
    if not text:
        raise SelectorError("selector '': empty")
    if ":" in text:
        parts = [p.strip() for p in text.split(":")]
        if len(parts) != 3 or not all(parts):
            raise SelectorError(
                f"selector {text!r}: expected ROAD:FROM:TO (e.g. M5:Hama:Aleppo), got {len(parts)} part(s)"
            )
        road = _road_key(network, parts[0], text)
        a = _place_node(network, parts[1], text, "FROM")
        b = _place_node(network, parts[2], text, "TO")
        return _road_between(network, road, a, b, text, parts)
    seg_edges = edges.segment_edges(text)
    if seg_edges is not None:
        return _mask(edges.n, seg_edges)
    by_fold = {r.casefold(): r for r in edges.roads}
    if text.casefold() in by_fold:
        return _mask(edges.n, edges.road_edges[by_fold[text.casefold()]])
    corridor = find_corridor(text)
    if corridor is not None:
        return corridor_edges(network, corridor).copy()
    place = network.nodes.places.find(text)
    if place is not None:
        if place.node is not None:
            idx = network.nodes.node_index(place.id)
        else:
            idx = _place_node(network, place.name, text, "place").index
        return (edges.u == idx) | (edges.v == idx)
    # Suggestions among a few thousand names stay instant; a country's segment ids are too many.
    segment_ids = edges.segment_ids if len(edges.segment_names) <= 20_000 else []
    candidates = (sorted(segment_ids) + sorted({*edges.roads, *corridor_names()})
                  + [p.name for p in network.nodes.places])
    close = difflib.get_close_matches(text, candidates, n=5, cutoff=0.6)
    hint = f"; did you mean: {', '.join(close)}?" if close else ""
    raise SelectorError(
        f"selector {text!r}: not a segment id, road, place or ROAD:FROM:TO{hint}"
    )


def _road_between(
    network: Selectable, road: str, a: Resolved, b: Resolved, whole: str, parts: list[str]
) -> np.ndarray:
    edges = network.edges
    on_road = road_mask(network, road)
    assert on_road is not None  # _road_key checked the name
    road_nodes = set(edges.u[on_road].tolist())
    if a.index == b.index:
        raise SelectorError(f"selector {whole!r}: FROM and TO are the same place")
    if a.snap_km == 0 and b.snap_km == 0 and a.index in road_nodes and b.index in road_nodes:
        paths = network.core.compile(edges.length_m, on_road).solve([a.index])
        path = paths.edge_path(0, b.index)
        if path is None:
            raise SelectorError(f"selector {whole!r}: road {road} does not connect FROM and TO")
        return np.isin(edges.segment_code, np.unique(edges.segment_code[np.asarray(path, dtype=np.int64)]))
    try:
        return _between_meet_points(network, road, on_road, a, b, whole, parts)
    except SelectorError:
        corridor = find_corridor(road)
        if corridor is None or road.casefold() not in {r.casefold() for r in edges.roads}:
            raise
        with_corridor = on_road | (corridor_edges(network, corridor) & _main_classes(edges, on_road))
        return _between_meet_points(network, road, with_corridor, a, b, whole, parts, share=CORRIDOR_SHARE)


#: Classes an unreffed stretch of a road may have in OSM (an urban stretch of a motorway).
_GAP_CLASSES = ("motorway", "trunk", "primary", "secondary")


def _main_classes(edges: EdgeTable, on_road: np.ndarray) -> np.ndarray:
    """Edges of the road's classes (links aside: those carrying at least 5 % of its length), and
    of motorways, trunks, primaries and secondaries."""
    length = np.bincount(edges.highway_code[on_road], weights=edges.length_m[on_road],
                         minlength=len(edges.highways))
    total = length.sum()
    main = np.asarray([total > 0 and (length[i] >= 0.05 * total or str(h) in _GAP_CLASSES)
                       and not str(h).endswith("_link") for i, h in enumerate(edges.highways)], dtype=bool)
    return main[edges.highway_code]


def _point_of(network: Selectable, text: str, found: Resolved) -> tuple[float, float]:
    place = network.nodes.places.find(text)
    if place is not None:
        return place.lat, place.lon
    return float(network.nodes.node_y[found.index]), float(network.nodes.node_x[found.index])


def _meet_nodes(
    network: Selectable, road: str, road_nodes: np.ndarray, text: str, found: Resolved, whole: str, label: str
) -> np.ndarray:
    nodes = network.nodes
    lat, lon = _point_of(network, text, found)
    d = haversine_km_array(lat, lon, nodes.node_y[road_nodes], nodes.node_x[road_nodes])
    k = int(np.argmin(d))
    if d[k] > MEET_LIMIT_KM:
        raise SelectorError(
            f"selector {whole!r}: {label}: {text!r} is not on road {road}: it is {d[k]:,.1f} km from the "
            f"road (at {nodes.label(int(road_nodes[k]))}); the limit is {MEET_LIMIT_KM:g} km"
        )
    m = int(road_nodes[k])
    near = haversine_km_array(float(nodes.node_y[m]), float(nodes.node_x[m]),
                              nodes.node_y[road_nodes], nodes.node_x[road_nodes])
    return road_nodes[near <= MEET_CLUSTER_KM]


def _best_path(
    network: Selectable, weights: np.ndarray, usable: np.ndarray, sources: np.ndarray, targets: np.ndarray
) -> list[int] | None:
    """Edges of the cheapest path from any of ``sources`` to any of ``targets``, or ``None``."""
    # Imported here: the event-mask cache spares most commands any resolution, and scipy with it.
    from scipy.sparse.csgraph import dijkstra

    compiled = network.core.compile(weights, usable)
    dist, pred, origin = dijkstra(compiled.matrix, directed=True, indices=sources, min_only=True,
                                  return_predecessors=True)
    k = int(np.argmin(dist[targets]))
    t = int(targets[k])
    if not np.isfinite(dist[t]):
        return None
    path = [t]
    while path[-1] != origin[t]:
        path.append(int(pred[path[-1]]))
    path.reverse()
    if len(path) < 2:
        return []
    pairs = network.core.pair_index(np.asarray(path[:-1], dtype=np.int64), np.asarray(path[1:], dtype=np.int64))
    return [int(e) for e in compiled.pair_edge[pairs]]


def _between_meet_points(
    network: Selectable, road: str, on_road: np.ndarray, a: Resolved, b: Resolved, whole: str, parts: list[str],
    *, share: float = CONNECTOR_SHARE,
) -> np.ndarray:
    edges = network.edges
    road_nodes = np.unique(np.r_[edges.u[on_road], edges.v[on_road]])
    src = _meet_nodes(network, road, road_nodes, parts[1], a, whole, "FROM")
    dst = _meet_nodes(network, road, road_nodes, parts[2], b, whole, "TO")
    if np.intersect1d(src, dst).size:
        raise SelectorError(f"selector {whole!r}: FROM and TO meet road {road} at the same point")
    usable = network.open_state.usable("car")
    length = edges.length_m
    connected = np.where(on_road, length, length * CONNECTOR_PENALTY)
    picked: list[int] = []
    for k, (s, t) in enumerate(((src, dst), (dst, src))):
        path = _best_path(network, length, on_road & usable, s, t)
        if path is None:
            path = _best_path(network, connected, usable, s, t)
            if path is not None:
                idx = np.asarray(path, dtype=np.int64)
                total = float(length[idx].sum())
                off = float(length[idx][~on_road[idx]].sum())
                if total > 0 and off > share * total:
                    if k == 0:
                        raise SelectorError(
                            f"selector {whole!r}: road {road} does not connect FROM and TO: the best path "
                            f"along it leaves the road for {off / 1000:,.1f} of {total / 1000:,.1f} km "
                            f"(at most {share:.0%} may)"
                        )
                    path = None
        if path is None:
            if k == 0:
                raise SelectorError(f"selector {whole!r}: road {road} does not connect FROM and TO")
            continue  # a oneway road: the forward direction only
        picked.extend(path)
    idx = np.asarray(picked, dtype=np.int64)
    idx = idx[on_road[idx]]
    mask = np.isin(edges.segment_code, np.unique(edges.segment_code[idx])) & on_road
    nodes = np.zeros(len(edges.node_x), dtype=bool)
    nodes[edges.u[mask]] = True
    nodes[edges.v[mask]] = True
    links = np.asarray([str(h).endswith("_link") for h in edges.highways], dtype=bool)
    if links.any():
        mask |= links[edges.highway_code] & (nodes[edges.u] | nodes[edges.v])
    return mask


def _resolve_mapping(network: Selectable, selector: Mapping[str, Any]) -> np.ndarray:
    whole = describe(selector)
    keys = set(selector)
    if keys == {"area"}:
        area = selector["area"]
        if not isinstance(area, Mapping):
            raise SelectorError(f"selector {whole!r}: area: expected a mapping")
        unknown = set(area) - {"place", "lat", "lon", "radius_km"}
        if unknown:
            raise SelectorError(f"selector {whole!r}: area: unknown key(s) {sorted(unknown)}")
        try:
            radius = float(area["radius_km"])
        except (KeyError, TypeError, ValueError):
            raise SelectorError(f"selector {whole!r}: area.radius_km: a number is required") from None
        if radius <= 0:
            raise SelectorError(f"selector {whole!r}: area.radius_km: must be > 0")
        if "place" in area:
            try:
                place = network.nodes.places.get(str(area["place"]))
            except UnknownPlaceError as exc:
                raise SelectorError(f"selector {whole!r}: area.place: {exc}") from None
            lat, lon = place.lat, place.lon
        else:
            try:
                lat, lon = float(area["lat"]), float(area["lon"])
            except (KeyError, TypeError, ValueError):
                raise SelectorError(
                    f"selector {whole!r}: area: give place, or lat and lon"
                ) from None
        return network.points.within_radius(lat, lon, radius)
    if keys == {"bbox"}:
        box = selector["bbox"]
        try:
            west, south, east, north = (float(x) for x in box)
        except (TypeError, ValueError):
            raise SelectorError(
                f"selector {whole!r}: bbox: expected [west, south, east, north]"
            ) from None
        if west >= east or south >= north:
            raise SelectorError(f"selector {whole!r}: bbox: west < east and south < north required")
        return network.points.within_bbox(west, south, east, north)
    if keys == {"polygon"}:
        try:
            rings = polygon_rings(selector["polygon"])
        except ValueError as exc:
            raise SelectorError(f"selector {whole!r}: polygon: {exc}") from None
        return network.points.within_polygon([np.asarray(r, dtype=float) for r in rings])
    raise SelectorError(f"selector {whole!r}: a mapping selector has exactly one key: area, bbox or polygon")


def _mask(n: int, idx: np.ndarray) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[idx] = True
    return mask
