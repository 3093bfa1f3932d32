"""From compiled arrays back to an osmnx-style ``MultiDiGraph`` (exports, osmnx interoperation)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import networkx as nx
import numpy as np
from shapely.geometry import LineString

from routesim.models.vehicles import vehicle_index
from routesim.network.edges import BASE_ATTRIBUTES, TRAFFIC_ATTRIBUTES, EdgeTable
from routesim.network.lookup import NodeLookup


def graph_from_edges(edges: EdgeTable, nodes: NodeLookup, *, meta: Mapping[str, Any] | None = None) -> nx.MultiDiGraph:
    """An osmnx-compatible graph of ``edges``: nodes with ``x``/``y`` (and ``name`` for
    places on nodes), edges with ``length``, ``speed_kph``, ``travel_time``,
    ``truck_travel_time``, ``highway``, ``ref``, ``segment``, ``via`` and ``geometry``.

    Built edge by edge: meant for exports and osmnx interoperation, not for
    country-scale routing (use the :class:`~routesim.network.Network` itself).
    """
    G = nx.MultiDiGraph(crs="EPSG:4326", **{k: v for k, v in (meta or {}).items() if isinstance(v, str)})
    ids = nodes.node_ids
    for i, node in enumerate(ids):
        data: dict[str, Any] = {"x": float(nodes.node_x[i]), "y": float(nodes.node_y[i])}
        place = nodes.node_place.get(node)
        if place is not None:
            data.update(name=place.name, place=place.id, kind=place.kind, aliases=";".join(place.aliases))
        G.add_node(node.item() if isinstance(node, np.generic) else node, **data)
    car, truck = edges.base_time_s[vehicle_index("car")], edges.base_time_s[vehicle_index("truck")]
    for e in range(edges.n):
        a, b = ids[int(edges.u[e])], ids[int(edges.v[e])]
        length = float(edges.length_m[e])
        data = {
            "length": length,
            "travel_time": float(car[e]),
            "speed_kph": length / 1000.0 / float(car[e]) * 3600.0 if car[e] > 0 else 0.0,
            "truck_travel_time": float(truck[e]),
            "highway": str(edges.highways[int(edges.highway_code[e])]),
            "segment": edges.segment_of(e),
            "geometry": LineString(edges.coords(e)),
        }
        ref = edges.ref_of(e)
        if ref:
            data["ref"] = ref
        via = edges.via(e)
        if via:
            data["via"] = ";".join(via)
        for name in BASE_ATTRIBUTES:
            if name in edges.base:
                data[name] = edges.base[name][e].item()
        for name in TRAFFIC_ATTRIBUTES:
            arr = edges.traffic.get(name)
            if arr is not None and not (arr.dtype.kind == "f" and np.isnan(arr[e])):
                data[name] = arr[e].item()
        G.add_edge(a.item() if isinstance(a, np.generic) else a, b.item() if isinstance(b, np.generic) else b,
                   key=int(edges.key[e]), **data)
    return G
