"""Synthetic road-like graphs for benchmarks (not part of the package)."""

from __future__ import annotations

import networkx as nx
import numpy as np


def road_grid(n_nodes: int = 100_000, *, seed: int = 7) -> nx.MultiDiGraph:
    """A jittered grid of ~``n_nodes`` nodes with local roads, faster arterials every
    10th row/column, 8% of links missing and two-way edges, in an osmnx-style
    ``MultiDiGraph`` (``x``, ``y``, ``length`` m, ``speed_kph``, ``travel_time`` s)."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n_nodes)))
    spacing_deg = 0.01  # ~1 km
    G = nx.MultiDiGraph(crs="EPSG:4326")
    xs = 36.0 + (np.arange(side)[None, :] + rng.uniform(-0.3, 0.3, (side, side))) * spacing_deg
    ys = 33.0 + (np.arange(side)[:, None] + rng.uniform(-0.3, 0.3, (side, side))) * spacing_deg
    nid = np.arange(side * side).reshape(side, side)
    G.add_nodes_from(
        (int(nid[r, c]), {"x": float(xs[r, c]), "y": float(ys[r, c])})
        for r in range(side) for c in range(side)
    )
    edges = []
    for dr, dc in ((0, 1), (1, 0)):
        r0, c0 = np.meshgrid(np.arange(side - dr), np.arange(side - dc), indexing="ij")
        r0, c0 = r0.ravel(), c0.ravel()
        r1, c1 = r0 + dr, c0 + dc
        keep = rng.random(len(r0)) > 0.08
        arterial = (r0 % 10 == 0) if dr == 0 else (c0 % 10 == 0)
        for a_r, a_c, b_r, b_c, art in zip(r0[keep], c0[keep], r1[keep], c1[keep], arterial[keep], strict=True):
            dx = (xs[a_r, a_c] - xs[b_r, b_c]) * 92_000.0
            dy = (ys[a_r, a_c] - ys[b_r, b_c]) * 111_000.0
            length = float(np.hypot(dx, dy)) * 1.1
            speed = 90.0 if art else 40.0
            attrs = {
                "length": length, "speed_kph": speed, "travel_time": length / 1000 / speed * 3600,
                "highway": "primary" if art else "residential",
            }
            a, b = int(nid[a_r, a_c]), int(nid[b_r, b_c])
            edges.append((a, b, attrs))
            edges.append((b, a, attrs))
    G.add_edges_from(edges)
    return G
