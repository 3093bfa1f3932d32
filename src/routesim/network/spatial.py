"""Where edges are: points sampled along their geometry, and the edges near a point or in a box."""

from __future__ import annotations

from functools import cached_property

import numpy as np

from routesim._util.geo import haversine_km_array
from routesim.network.edges import EdgeTable

#: Sample points per geometry leg: an area touching the middle of a long
#: segment must catch it.
POINTS_PER_LEG = 8


class EdgePoints:
    """Points densified along every edge geometry, built on first use (area selectors only)."""

    def __init__(self, edges: EdgeTable) -> None:
        self.edges = edges

    @cached_property
    def _points(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        e = self.edges
        lats: list[np.ndarray] = []
        lons: list[np.ndarray] = []
        owners: list[np.ndarray] = []
        t = np.linspace(0.0, 1.0, POINTS_PER_LEG, endpoint=False)[None, :]
        for i, c in enumerate(e.coords):
            xy = np.asarray(c if c is not None else [
                (e.node_x[e.u[i]], e.node_y[e.u[i]]),
                (e.node_x[e.v[i]], e.node_y[e.v[i]]),
            ])
            a, b = xy[:-1], xy[1:]
            lon = (a[:, :1] + (b[:, :1] - a[:, :1]) * t).ravel()
            lat = (a[:, 1:] + (b[:, 1:] - a[:, 1:]) * t).ravel()
            lons += [lon, xy[-1:, 0]]
            lats += [lat, xy[-1:, 1]]
            owners.append(np.full(len(lon) + 1, i))
        if not owners:
            empty = np.zeros(0)
            return empty, empty, np.zeros(0, dtype=np.int64)
        return np.concatenate(lats), np.concatenate(lons), np.concatenate(owners)

    def within_radius(self, lat: float, lon: float, radius_km: float) -> np.ndarray:
        """Edges with a point within ``radius_km`` of (lat, lon)."""
        pts_lat, pts_lon, pts_edge = self._points
        d = haversine_km_array(lat, lon, pts_lat, pts_lon)
        mask = np.zeros(self.edges.n, dtype=bool)
        mask[pts_edge[d <= radius_km]] = True
        return mask

    def within_bbox(self, west: float, south: float, east: float, north: float) -> np.ndarray:
        """Edges with a point inside the box."""
        pts_lat, pts_lon, pts_edge = self._points
        inside = (pts_lon >= west) & (pts_lon <= east) & (pts_lat >= south) & (pts_lat <= north)
        mask = np.zeros(self.edges.n, dtype=bool)
        mask[pts_edge[inside]] = True
        return mask
