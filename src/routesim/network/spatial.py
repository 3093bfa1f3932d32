"""Where edges are: the edges within a distance of a point, or with a point in a box.

Each geometry line is a chain of straight legs between its vertices. A leg is
near a point when its closest point is, measured in a local equirectangular
projection around the query point (at road scale, within a fraction of a
percent of the great-circle distance), so an area touching the middle of a long
leg catches it. Both directions of a road share one geometry line, so each
line is tested once and its verdict given to all its edges. The legs' boxes are
built on first use and every query first keeps only the legs whose box meets
the query's.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from routesim._util.geo import EARTH_RADIUS_KM
from routesim.network.edges import EdgeTable

_KM_PER_DEG = np.pi * EARTH_RADIUS_KM / 180.0


class EdgePoints:
    """Spatial queries over an edge table's geometry (see the module docstring)."""

    def __init__(self, edges: EdgeTable) -> None:
        self.edges = edges

    @cached_property
    def _legs(self) -> tuple[np.ndarray, ...]:
        e = self.edges
        x, y, off = e.geom_x, e.geom_y, e.geom_offset
        owner = np.repeat(np.arange(len(off) - 1), np.diff(off))
        # A leg joins consecutive vertices of one line; a line of one vertex is a leg of length 0.
        leg = np.flatnonzero(owner[1:] == owner[:-1])
        single = np.flatnonzero(np.diff(off) == 1)
        a = np.r_[leg, off[single]]
        b = np.r_[leg + 1, off[single]]
        x0, y0, x1, y1 = x[a], y[a], x[b], y[b]
        return (x0, y0, x1, y1, np.minimum(x0, x1), np.maximum(x0, x1), np.minimum(y0, y1), np.maximum(y0, y1),
                np.r_[owner[leg], owner[off[single]]])

    def _edges_of(self, lines: np.ndarray) -> np.ndarray:
        hit = np.zeros(len(self.edges.geom_offset) - 1, dtype=bool)
        hit[lines] = True
        return hit[self.edges.geom_line]

    def within_radius(self, lat: float, lon: float, radius_km: float) -> np.ndarray:
        """Edges with a point within ``radius_km`` of (lat, lon)."""
        x0, y0, x1, y1, xmin, xmax, ymin, ymax, line = self._legs
        kx = _KM_PER_DEG * np.cos(np.radians(lat))
        dlat = radius_km / _KM_PER_DEG
        dlon = radius_km / max(kx, 1e-9)
        near = np.flatnonzero((xmax >= lon - dlon) & (xmin <= lon + dlon) & (ymax >= lat - dlat) & (ymin <= lat + dlat))
        ax, ay = (x0[near] - lon) * kx, (y0[near] - lat) * _KM_PER_DEG
        bx, by = (x1[near] - lon) * kx, (y1[near] - lat) * _KM_PER_DEG
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy
        t = np.clip(-(ax * dx + ay * dy) / np.where(length2 > 0, length2, 1.0), 0.0, 1.0)
        px, py = ax + t * dx, ay + t * dy
        return self._edges_of(line[near[px * px + py * py <= radius_km * radius_km]])

    def within_bbox(self, west: float, south: float, east: float, north: float) -> np.ndarray:
        """Edges with a point inside the box (a leg crossing the box counts)."""
        x0, y0, x1, y1, xmin, xmax, ymin, ymax, line = self._legs
        near = np.flatnonzero((xmax >= west) & (xmin <= east) & (ymax >= south) & (ymin <= north))
        ax, ay, bx, by = x0[near], y0[near], x1[near], y1[near]
        inside = (ax >= west) & (ax <= east) & (ay >= south) & (ay <= north)
        inside |= (bx >= west) & (bx <= east) & (by >= south) & (by <= north)
        # A leg with both ends outside still crosses the box if it cuts one of its sides.
        for side in ((west, south, west, north), (east, south, east, north),
                     (west, south, east, south), (west, north, east, north)):
            inside |= _cross(ax, ay, bx, by, *side)
        return self._edges_of(line[near[inside]])

    def within_polygon(self, rings: list[np.ndarray]) -> np.ndarray:
        """Edges with a point inside any of ``rings`` (closed (lon, lat) vertex arrays; even-odd rule,
        so a ring inside another is a hole): a leg end inside, or a leg crossing a side."""
        x0, y0, x1, y1, xmin, xmax, ymin, ymax, line = self._legs
        allv = np.vstack(rings)
        west, east = allv[:, 0].min(), allv[:, 0].max()
        south, north = allv[:, 1].min(), allv[:, 1].max()
        near = np.flatnonzero((xmax >= west) & (xmin <= east) & (ymax >= south) & (ymin <= north))
        ax, ay, bx, by = x0[near], y0[near], x1[near], y1[near]
        a_in = np.zeros(len(near), dtype=bool)
        b_in = np.zeros(len(near), dtype=bool)
        hit = np.zeros(len(near), dtype=bool)
        for ring in rings:
            a_in ^= _inside(ax, ay, ring)
            b_in ^= _inside(bx, by, ring)
            for i in range(len(ring) - 1):
                hit |= _cross(ax, ay, bx, by, ring[i, 0], ring[i, 1], ring[i + 1, 0], ring[i + 1, 1])
        return self._edges_of(line[near[a_in | b_in | hit]])


def points_in_rings(px: np.ndarray, py: np.ndarray, rings: list[np.ndarray]) -> np.ndarray:
    """Points inside closed (lon, lat) rings by the even-odd rule (a ring inside another is a hole)."""
    inside = np.zeros(len(px), dtype=bool)
    for ring in rings:
        inside ^= _inside(px, py, ring)
    return inside


def _inside(px: np.ndarray, py: np.ndarray, ring: np.ndarray) -> np.ndarray:
    """Even-odd test of points against a closed ring of (lon, lat) vertices."""
    inside = np.zeros(len(px), dtype=bool)
    x, y = ring[:, 0], ring[:, 1]
    for i in range(len(ring) - 1):
        x0, y0, x1, y1 = x[i], y[i], x[i + 1], y[i + 1]
        crosses = (y0 > py) != (y1 > py)
        with np.errstate(divide="ignore", invalid="ignore"):
            at = x0 + (py - y0) * (x1 - x0) / (y1 - y0)
        inside ^= crosses & (px < at)
    return inside


def _cross(ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray,
           cx: float, cy: float, dx: float, dy: float) -> np.ndarray:
    """Whether segments a-b cross the segment c-d (proper or touching)."""
    def orient(px: np.ndarray | float, py: np.ndarray | float, qx: np.ndarray | float, qy: np.ndarray | float,
               rx: np.ndarray | float, ry: np.ndarray | float) -> np.ndarray:
        return np.sign((qx - px) * (ry - py) - (qy - py) * (rx - px))

    o1, o2 = orient(ax, ay, bx, by, cx, cy), orient(ax, ay, bx, by, dx, dy)
    o3, o4 = orient(cx, cy, dx, dy, ax, ay), orient(cx, cy, dx, dy, bx, by)
    return np.asarray((o1 != o2) & (o3 != o4))
