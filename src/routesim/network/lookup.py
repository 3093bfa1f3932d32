"""Finding nodes: by place name (any spelling), node id or ``"lat,lon"``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cached_property
from typing import Any

import numpy as np

from routesim.errors import UnknownPlaceError
from routesim.network.places import Place, PlaceIndex

_COORD = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$")


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
        to the nearest node.
    """

    def __init__(
        self, node_ids: Sequence[Any] | np.ndarray, node_x: np.ndarray, node_y: np.ndarray, places: PlaceIndex
    ) -> None:
        # Country-scale networks keep their ids as an array; the id -> index map is built on first use.
        self.node_ids: Sequence[Any] | np.ndarray = node_ids if isinstance(node_ids, np.ndarray) else list(node_ids)
        self.node_x, self.node_y = node_x, node_y
        self.places = places
        self.node_place: dict[Any, Place] = {p.node: p for p in places if p.node is not None}

    @cached_property
    def index(self) -> dict[Any, int]:
        """Node id -> internal index."""
        ids = self.node_ids.tolist() if isinstance(self.node_ids, np.ndarray) else self.node_ids
        return {n: i for i, n in enumerate(ids)}

    def node_index(self, where: str | int) -> int:
        """Internal index of a node given by place name, node id or ``"lat,lon"``.

        Raises
        ------
        UnknownPlaceError
            With close matches, for a name that is no place of the network.
        """
        if not isinstance(where, str) and where in self.index:
            return self.index[where]
        text = str(where)
        place = self.places.find(text)
        if place is not None:
            if place.node is None:
                return self.nearest(place.lat, place.lon)
            return self.index[place.node]
        m = _COORD.match(text)
        if m:
            return self.nearest(float(m.group(1)), float(m.group(2)))
        for candidate in (text, int(text) if text.lstrip("-").isdigit() else None):
            if candidate is not None and candidate in self.index:
                return self.index[candidate]
        raise UnknownPlaceError(text, self.places.suggest(text))

    def nearest(self, lat: float, lon: float) -> int:
        """Index of the node nearest to (lat, lon) (equirectangular; fine at road scale)."""
        dx = (self.node_x - lon) * np.cos(np.radians(lat))
        return int(np.argmin(dx**2 + (self.node_y - lat) ** 2))

    def label(self, index: int) -> str:
        """Display name of the node at ``index`` (its place name, else its id)."""
        node = self.node_ids[index]
        place = self.node_place.get(node)
        return place.name if place else str(node)

    def is_place(self, index: int) -> bool:
        return self.node_ids[index] in self.node_place
