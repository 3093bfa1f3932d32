"""Finding nodes: by place name (any spelling), node id or ``"lat,lon"``, snapping points to the road."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from routesim._util.geo import haversine_km_array
from routesim.errors import SnapError, UnknownPlaceError
from routesim.network.places import Place, PlaceIndex

#: Place kinds a route names as passed when it runs near them (see :meth:`NodeLookup.passed`).
#: with how near (km) it must pass: a city's centre lies farther from its bypass than a junction's.
LANDMARK_KINDS = {"city": 4.0, "port": 4.0, "town": 2.0, "junction": 1.5, "crossing": 1.5}
#: Farthest a point may snap to a node, km (see :class:`NodeLookup`).
DEFAULT_SNAP_LIMIT_KM = 5.0

_COORD = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$")


@dataclass(frozen=True)
class Resolved:
    """A node found for what a user gave: its index, the label to show, and how far it snapped.

    ``snap_km`` is 0 for a node given by id or a place that is a node, else the
    distance from the given point (or the place's coordinates) to the node.
    """

    index: int
    label: str
    snap_km: float = 0.0


class NodeLookup:
    """Node ids, their internal indices and coordinates, and the places on them.

    Parameters
    ----------
    node_ids
        Graph node ids; a node's internal index is its position here.
    node_x, node_y
        Longitudes and latitudes, degrees.
    places
        Named places; those with ``node`` set are graph nodes, the others snap
        to the nearest eligible node.
    eligible
        Called once, on the first snap: the mask of nodes points may snap to
        (a :class:`~routesim.network.Network` gives its largest strongly
        connected component, so a snapped point can reach and be reached from
        the rest). Default: every node.
    snap_limit_km
        Farthest a point or place may lie from the node it snaps to (default
        5 km); beyond it, resolving is an error that names the distance.
    """

    def __init__(
        self, node_ids: Sequence[Any] | np.ndarray, node_x: np.ndarray, node_y: np.ndarray, places: PlaceIndex,
        *, eligible: Callable[[], np.ndarray] | None = None, snap_limit_km: float = DEFAULT_SNAP_LIMIT_KM,
    ) -> None:
        # Country-scale networks keep their ids as an array; the id -> index map is built on first use.
        self.node_ids: Sequence[Any] | np.ndarray = node_ids if isinstance(node_ids, np.ndarray) else list(node_ids)
        self.node_x, self.node_y = node_x, node_y
        self.places = places
        self.node_place: dict[Any, Place] = {p.node: p for p in places if p.node is not None}
        self._eligible = eligible
        self.snap_limit_km = snap_limit_km

    @cached_property
    def index(self) -> dict[Any, int]:
        """Node id -> internal index."""
        ids = self.node_ids.tolist() if isinstance(self.node_ids, np.ndarray) else self.node_ids
        return {n: i for i, n in enumerate(ids)}

    @cached_property
    def _snap_nodes(self) -> np.ndarray:
        mask = self._eligible() if self._eligible is not None else np.ones(len(self.node_x), dtype=bool)
        nodes = np.flatnonzero(mask)
        return nodes if len(nodes) else np.arange(len(self.node_x))

    def node_index(self, where: str | int) -> int:
        """Internal index of a node given by place name, node id or ``"lat,lon"`` (see :meth:`resolve`)."""
        return self.resolve(where).index

    def resolve(self, where: str | int) -> Resolved:
        """The node for a place name (any spelling or script), a node id or ``"lat,lon"``.

        Raises
        ------
        UnknownPlaceError
            With close matches, for a name that is no place of the network.
        SnapError
            When the point or place lies farther than :attr:`snap_limit_km` from
            every node it may snap to.
        """
        if not isinstance(where, str) and where in self.index:
            i = self.index[where]
            return Resolved(i, self.label(i))
        text = str(where)
        m = _COORD.match(text)
        if m:
            lat, lon = float(m.group(1)), float(m.group(2))
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise SnapError(f"{text!r}: not a latitude,longitude pair (degrees, lat first)")
            return self._snap(lat, lon, text.strip())
        place = self.places.find(text)
        if place is not None:
            if place.node is None:
                return self._snap(place.lat, place.lon, f"{place.name} ({place.lat:.5f},{place.lon:.5f})")
            i = self.index[place.node]
            return Resolved(i, self.label(i))
        for candidate in (text, int(text) if text.lstrip("-").isdigit() else None):
            if candidate is not None and candidate in self.index:
                i = self.index[candidate]
                return Resolved(i, self.label(i))
        raise UnknownPlaceError(text, self.places.suggest(text))

    def _snap(self, lat: float, lon: float, what: str) -> Resolved:
        i, km = self.nearest_eligible(lat, lon)
        if km > self.snap_limit_km:
            raise SnapError(
                f"{what} is {km:,.1f} km from the nearest node of the network "
                f"({self.label(i)}); the snap limit is {self.snap_limit_km:g} km"
            )
        return Resolved(i, self.label(i), km)

    def nearest_eligible(self, lat: float, lon: float) -> tuple[int, float]:
        """The eligible node nearest to (lat, lon) and its great-circle distance, km."""
        nodes = self._snap_nodes
        d = haversine_km_array(lat, lon, self.node_y[nodes], self.node_x[nodes])
        k = int(np.argmin(d))
        return int(nodes[k]), float(d[k])

    def nearest(self, lat: float, lon: float) -> int:
        """Index of the node nearest to (lat, lon), whatever its component."""
        dx = (self.node_x - lon) * np.cos(np.radians(lat))
        return int(np.argmin(dx**2 + (self.node_y - lat) ** 2))

    def label(self, index: int) -> str:
        """Display name of the node at ``index`` (its place name, else its id)."""
        node = self.node_ids[index]
        place = self.node_place.get(node)
        return place.name if place else str(node)

    def is_place(self, index: int) -> bool:
        return bool(self.is_place_mask[index])

    @cached_property
    def landmarks(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
        """Longitudes, latitudes, radii (km) and names of the places a route reports passing near.

        Every place of the gazetteer kinds of :data:`LANDMARK_KINDS` whose id is not
        an OSM place point's (``osm-...``): the curated towns, junctions and
        crossings, whose bound node may lie in a town centre off the through road.
        """
        chosen = [p for p in self.places if p.kind in LANDMARK_KINDS and not p.id.startswith("osm-")]
        lon = np.array([p.lon for p in chosen], dtype=np.float64)
        lat = np.array([p.lat for p in chosen], dtype=np.float64)
        return lon, lat, np.array([LANDMARK_KINDS[p.kind] for p in chosen], dtype=np.float64), [p.name for p in chosen]

    def passed(self, path_nodes: np.ndarray) -> list[tuple[int, str]]:
        """Landmarks a path runs near (radius by kind, :data:`LANDMARK_KINDS`): (first path position, name)."""
        lx, ly, radius, names = self.landmarks
        if not len(names) or not len(path_nodes):
            return []
        px, py = self.node_x[path_nodes], self.node_y[path_nodes]
        pad = max(LANDMARK_KINDS.values()) / 80.0  # degrees; generous at Syria's latitudes
        near = np.flatnonzero((lx >= px.min() - pad) & (lx <= px.max() + pad) & (ly >= py.min() - pad)
                              & (ly <= py.max() + pad))
        out = []
        for i in near.tolist():
            d = haversine_km_array(ly[i], lx[i], py, px)
            k = int(np.argmin(d))
            if d[k] <= radius[i]:
                out.append((k, names[i]))
        return sorted(out)

    @cached_property
    def is_named_place_mask(self) -> np.ndarray:
        """Nodes that are places of the gazetteer, not OSM place points (ids ``osm-...``): a route names these."""
        mask = np.zeros(len(self.node_x), dtype=bool)
        mask[[self.index[n] for n, p in self.node_place.items() if not p.id.startswith("osm-")]] = True
        return mask

    @cached_property
    def is_place_mask(self) -> np.ndarray:
        """Nodes that are places."""
        mask = np.zeros(len(self.node_x), dtype=bool)
        mask[[self.index[n] for n in self.node_place]] = True
        return mask
