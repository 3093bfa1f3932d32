"""Resolving selectors against a network: which edges a selector covers.

The selector forms are described in :mod:`routesim.models.selectors`. Matching
of roads and places ignores case; places also accept any alias.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from routesim.errors import SelectorError, UnknownPlaceError
from routesim.models.selectors import Selector, describe
from routesim.network.core import RoutingCore
from routesim.network.edges import EdgeTable
from routesim.network.lookup import NodeLookup
from routesim.network.spatial import EdgePoints


class Selectable(Protocol):
    """What resolving needs of a network (a :class:`routesim.network.Network` has it)."""

    @property
    def edges(self) -> EdgeTable: ...

    @property
    def nodes(self) -> NodeLookup: ...

    @property
    def core(self) -> RoutingCore: ...

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


def _road_key(network: Selectable, text: str, whole: str) -> str:
    roads = network.edges.roads
    by_fold = {r.casefold(): r for r in roads}
    road = by_fold.get(text.strip().casefold())
    if road is None:
        close = difflib.get_close_matches(text, sorted(roads), n=5, cutoff=0.5)
        hint = f"; did you mean: {', '.join(close)}?" if close else f"; known roads: {', '.join(sorted(roads))}"
        raise SelectorError(f"selector {whole!r}: ROAD: unknown road {text!r}{hint}")
    return road


def _place_node(network: Selectable, text: str, whole: str, part: str) -> int:
    try:
        return network.nodes.node_index(text)
    except UnknownPlaceError as exc:
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
    place = network.nodes.places.find(text)
    if place is not None and place.node is not None:
        idx = network.nodes.node_index(place.id)
        return (edges.u == idx) | (edges.v == idx)
    # Suggestions among a few thousand names stay instant; a country's segment ids are too many.
    segment_ids = edges.segment_ids if len(edges.segment_names) <= 20_000 else []
    candidates = sorted(segment_ids) + sorted(edges.roads) + [p.name for p in network.nodes.places]
    close = difflib.get_close_matches(text, candidates, n=5, cutoff=0.6)
    hint = f"; did you mean: {', '.join(close)}?" if close else ""
    raise SelectorError(
        f"selector {text!r}: not a segment id, road, place or ROAD:FROM:TO{hint}"
    )


def _road_between(
    network: Selectable, road: str, a: int, b: int, whole: str, parts: list[str]
) -> np.ndarray:
    edges = network.edges
    on_road = _mask(edges.n, edges.road_edges[road])
    road_nodes = set(edges.u[on_road].tolist())
    for node, label, name in ((a, "FROM", parts[1]), (b, "TO", parts[2])):
        if node not in road_nodes:
            names = sorted({network.nodes.label(n) for n in road_nodes})
            raise SelectorError(
                f"selector {whole!r}: {label}: {name!r} is not on road {road} "
                f"(its places: {', '.join(names)})"
            )
    if a == b:
        raise SelectorError(f"selector {whole!r}: FROM and TO are the same place")
    paths = network.core.compile(edges.length_m, on_road).solve([a])
    path = paths.edge_path(0, b)
    if path is None:
        raise SelectorError(f"selector {whole!r}: road {road} does not connect FROM and TO")
    return np.isin(edges.segment_code, np.unique(edges.segment_code[np.asarray(path, dtype=np.int64)]))


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
    raise SelectorError(f"selector {whole!r}: a mapping selector has exactly one key: area or bbox")


def _mask(n: int, idx: np.ndarray) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[idx] = True
    return mask
