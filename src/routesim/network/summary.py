"""Descriptive summaries of a network."""

from __future__ import annotations

from typing import Any

import numpy as np

from routesim.network.graph import Network


def network_summary(network: Network) -> dict[str, Any]:
    """Counts and km by road ref and by class (each segment counted once)."""
    e = network.edges
    first = np.unique(e.segment, return_index=True)[1]
    seg_km = e.length_m[first] / 1000.0
    by_road: dict[str, list[float]] = {}
    for i, km in zip(first, seg_km, strict=True):
        for ref in str(e.ref[i]).split(";") or [""]:
            by_road.setdefault(ref or "(no ref)", []).append(km)
    by_class: dict[str, list[float]] = {}
    for i, km in zip(first, seg_km, strict=True):
        by_class.setdefault(str(e.highway[i]) or "(none)", []).append(km)
    return {
        "nodes": len(network.node_ids),
        "places": len(network.places),
        "segments": len(first),
        "km_total": round(float(seg_km.sum()), 1),
        "by_road": [
            {"road": r, "segments": len(v), "km": round(sum(v), 1)} for r, v in sorted(by_road.items())
        ],
        "by_class": [
            {"class": c, "segments": len(v), "km": round(sum(v), 1)}
            for c, v in sorted(by_class.items(), key=lambda kv: -sum(kv[1]))
        ],
    }
