"""The compiled form of a road network: flat arrays that load fast and route directly.

A :class:`CompiledRoads` holds *lines* (maximal runs of road between junctions,
with one set of attributes and a geometry) and the *directed edges* driven along
them (one per direction a line may be driven). It is what importers produce
(:mod:`routesim.network.build` from OSM or GIS roads), what
``routesim network build`` writes, and what :class:`routesim.network.Network`
is built from without going through a networkx graph.

Text attributes are stored as integer codes into lookup tables (``-1``: none),
so that two million edges cost a few arrays, not two million Python strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: "© OpenStreetMap contributors": carried by every network built from OSM data (ODbL).
OSM_ATTRIBUTION = "© OpenStreetMap contributors (ODbL 1.0)"


@dataclass(eq=False)
class CompiledRoads:
    """Nodes, lines and directed edges as aligned arrays.

    Attributes
    ----------
    node_id
        ``(n_nodes,)`` int64: the source's node id (OSM node id; for GIS layers a
        number given to each distinct vertex).
    node_x, node_y
        ``(n_nodes,)`` float64: longitude and latitude, degrees (WGS84).
    line_u, line_v
        ``(n_lines,)`` int64: index of the first and last node of each line, in
        the line's digitised direction.
    line_length_m
        ``(n_lines,)`` float64: geodesic length along the geometry, metres.
    line_highway
        ``(n_lines,)`` int16: code into :attr:`highways` (OSM ``highway``).
    line_ref, line_name, line_name_ar
        ``(n_lines,)`` int32: codes into :attr:`texts` (``-1``: none). ``ref`` may
        be a ``;``-separated list as in OSM.
    line_oneway
        ``(n_lines,)`` bool: drivable only in the digitised direction.
    line_car_kph, line_truck_kph
        ``(n_lines,)`` float64: free-flow speeds chosen by the profile.
    line_maxspeed_kph
        ``(n_lines,)`` float64: the source's ``maxspeed``, nan where absent.
    line_bridge, line_tunnel
        ``(n_lines,)`` bool.
    line_source
        ``(n_lines,)`` int64: id of the source way or feature the line came from
        (a merged chain keeps the first one's).
    geom_offset
        ``(n_lines + 1,)`` int64: line ``i``'s vertices are
        ``geom_x[geom_offset[i]:geom_offset[i + 1]]`` (and ``geom_y``), end nodes
        included, in digitised order.
    geom_x, geom_y
        float64 vertex coordinates of every line, concatenated.
    edge_line
        ``(n_edges,)`` int64: the line each directed edge drives along.
    edge_forward
        ``(n_edges,)`` bool: ``True`` along the digitised direction (from
        ``line_u`` to ``line_v``), ``False`` against it.
    highways, texts
        Lookup tables of the codes.
    place_name, place_kind, place_aliases
        Places found in the source (OSM ``place`` nodes, a GIS places layer):
        display name, kind (``city``, ``town``, ``village`` ...) and other names
        joined by ``;`` (``name:en``, ``name:ar``, ``alt_name`` ...).
    place_x, place_y
        float64 place coordinates.
    line_built_up_m
        ``(n_lines,)`` float64: metres of each line inside built-up areas, whose
        slower driving its speeds already include (:mod:`routesim.network.builtup`);
        empty: not computed.
    node_order
        Contraction order of the nodes for point-to-point routing
        (:class:`routesim.network.core.RoutingCore`), computed once when the
        network is built and saved with it; empty: computed on first use.
    dropped
        What the import left out and why: reason -> count of ways or features
        (``"highway=footway"``, ``"access=private"``, ``"no geometry"`` ...).
    meta
        Provenance: ``source`` (file name), ``sha256`` (of the source file),
        ``profile``, ``attribution`` and anything an importer adds.
    """

    node_id: np.ndarray
    node_x: np.ndarray
    node_y: np.ndarray
    line_u: np.ndarray
    line_v: np.ndarray
    line_length_m: np.ndarray
    line_highway: np.ndarray
    line_ref: np.ndarray
    line_name: np.ndarray
    line_name_ar: np.ndarray
    line_oneway: np.ndarray
    line_car_kph: np.ndarray
    line_truck_kph: np.ndarray
    line_maxspeed_kph: np.ndarray
    line_bridge: np.ndarray
    line_tunnel: np.ndarray
    line_source: np.ndarray
    geom_offset: np.ndarray
    geom_x: np.ndarray
    geom_y: np.ndarray
    edge_line: np.ndarray
    edge_forward: np.ndarray
    highways: list[str]
    texts: list[str]
    place_name: list[str] = field(default_factory=list)
    place_kind: list[str] = field(default_factory=list)
    place_aliases: list[str] = field(default_factory=list)
    place_x: np.ndarray = field(default_factory=lambda: np.zeros(0))
    place_y: np.ndarray = field(default_factory=lambda: np.zeros(0))
    line_built_up_m: np.ndarray = field(default_factory=lambda: np.zeros(0))
    node_order: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    dropped: dict[str, int] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n_nodes(self) -> int:
        return len(self.node_id)

    @property
    def n_lines(self) -> int:
        return len(self.line_u)

    @property
    def n_edges(self) -> int:
        return len(self.edge_line)

    @property
    def edge_u(self) -> np.ndarray:
        """Tail node index of each directed edge."""
        return np.where(self.edge_forward, self.line_u[self.edge_line], self.line_v[self.edge_line])

    @property
    def edge_v(self) -> np.ndarray:
        """Head node index of each directed edge."""
        return np.where(self.edge_forward, self.line_v[self.edge_line], self.line_u[self.edge_line])
