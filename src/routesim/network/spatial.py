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
    """Points densified along every geometry line, built on first use (area selectors only).

    Both directions of a road share one geometry line, so points are sampled
    once per line and a line's verdict is given to all its edges.
    """

    def __init__(self, edges: EdgeTable) -> None:
        self.edges = edges

    @cached_property
    def _points(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        e = self.edges
        x, y, off = e.geom_x, e.geom_y, e.geom_offset
        n_lines = len(off) - 1
        if len(x) == 0:
            empty = np.zeros(0)
            return empty, empty, np.zeros(0, dtype=np.int64)
        owner = np.repeat(np.arange(n_lines), np.diff(off))
        # Legs join consecutive vertices of the same line.
        leg = np.flatnonzero(owner[1:] == owner[:-1])
        t = np.linspace(0.0, 1.0, POINTS_PER_LEG, endpoint=False)[None, :]
        lon = (x[leg, None] + (x[leg + 1, None] - x[leg, None]) * t).ravel()
        lat = (y[leg, None] + (y[leg + 1, None] - y[leg, None]) * t).ravel()
        lines = np.repeat(owner[leg], POINTS_PER_LEG)
        # Every vertex too, so lines of a single point and line ends count.
        return np.r_[lat, y], np.r_[lon, x], np.r_[lines, owner]

    def _edges_of(self, lines: np.ndarray) -> np.ndarray:
        hit = np.zeros(len(self.edges.geom_offset) - 1, dtype=bool)
        hit[lines] = True
        return hit[self.edges.geom_line]

    def within_radius(self, lat: float, lon: float, radius_km: float) -> np.ndarray:
        """Edges with a point within ``radius_km`` of (lat, lon)."""
        pts_lat, pts_lon, pts_line = self._points
        d = haversine_km_array(lat, lon, pts_lat, pts_lon)
        return self._edges_of(pts_line[d <= radius_km])

    def within_bbox(self, west: float, south: float, east: float, north: float) -> np.ndarray:
        """Edges with a point inside the box."""
        pts_lat, pts_lon, pts_line = self._points
        inside = (pts_lon >= west) & (pts_lon <= east) & (pts_lat >= south) & (pts_lat <= north)
        return self._edges_of(pts_line[inside])
