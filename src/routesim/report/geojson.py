"""A route as GeoJSON for GIS: the path on the date and its baseline on the open network."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from routesim.network.graph import Network
from routesim.network.route import Detour


def _line(network: Network, edge_index: Sequence[int]) -> dict[str, Any] | None:
    coords: list[list[float]] = []
    for k in edge_index:
        xy = [[round(x, 7), round(y, 7)] for x, y in network.edges.coords(int(k))]
        coords.extend(xy if not coords else xy[1:])
    return {"type": "LineString", "coordinates": coords} if len(coords) >= 2 else None


def route_geojson(network: Network, detour: Detour, properties: Mapping[str, Any]) -> dict[str, Any]:
    """A FeatureCollection of two features: ``role: route`` (``properties`` of the query, as ``route --format json``
    gives them; no geometry when there is no route) and ``role: baseline`` (the same trip, nothing closed).

    Coordinates are longitude, latitude (WGS84, RFC 7946). A network from
    OpenStreetMap adds its ``attribution`` member.
    """
    features = [
        {"type": "Feature", "geometry": _line(network, detour.route.edge_index),
         "properties": {"role": "route", **properties}},
        {"type": "Feature", "geometry": _line(network, detour.baseline.edge_index),
         "properties": {"role": "baseline", "distance_km": properties.get("baseline_distance_km"),
                        "time_h": properties.get("baseline_time_h"), "roads": list(detour.baseline.roads)}},
    ]
    out: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    if network.meta.get("attribution"):
        out["attribution"] = str(network.meta["attribution"])
    return out
