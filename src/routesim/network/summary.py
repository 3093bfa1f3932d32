"""Descriptive summaries of a network."""

from __future__ import annotations

from typing import Any

import numpy as np

from routesim.network.components import strong_components
from routesim.network.graph import Network


def network_summary(network: Network) -> dict[str, Any]:
    """Counts, km by road ref and by class (each segment counted once, at its first edge),
    strongly connected components, and what the import dropped and why."""
    e = network.edges
    codes, first = np.unique(e.segment_code, return_index=True)
    seg_km = e.length_m[first] / 1000.0
    refs, ref_inv = np.unique(e.ref_code[first], return_inverse=True)
    ref_km = np.bincount(ref_inv, weights=seg_km, minlength=len(refs))
    ref_n = np.bincount(ref_inv, minlength=len(refs))
    by_road: dict[str, list[float]] = {}
    for code, km, count in zip(refs.tolist(), ref_km.tolist(), ref_n.tolist(), strict=True):
        text = str(e.texts[code]) if code >= 0 else ""
        for ref in text.split(";"):
            entry = by_road.setdefault(ref.strip() or "(no ref)", [0, 0.0])
            entry[0] += count
            entry[1] += km
    hw, hw_inv = np.unique(e.highway_code[first], return_inverse=True)
    hw_km = np.bincount(hw_inv, weights=seg_km, minlength=len(hw))
    hw_n = np.bincount(hw_inv, minlength=len(hw))
    by_class = [
        {"class": str(e.highways[c]) or "(none)", "segments": int(k), "km": round(float(km), 1)}
        for c, k, km in zip(hw.tolist(), hw_n.tolist(), hw_km.tolist(), strict=True)
    ]
    n_components, labels = strong_components(len(network.node_ids), e.u, e.v)
    largest = int(np.bincount(labels).max()) if len(labels) else 0
    return {
        "source": str(network.meta.get("source", "")),
        "attribution": str(network.meta.get("attribution", "")),
        "nodes": len(network.node_ids),
        "edges": e.n,
        "places": len(network.places),
        "segments": len(codes),
        "km_total": round(float(seg_km.sum()), 1),
        "components": n_components,
        "largest_component_nodes": largest,
        "dropped": dict(sorted(network.dropped.items(), key=lambda kv: -kv[1])),
        "patches": [dict(p) for p in network.meta.get("patches", [])],
        "speed_overrides": [dict(o) for o in network.meta.get("speed_overrides", [])],
        "built_up": dict(network.meta.get("built_up", {})),
        "by_road": [
            {"road": r, "segments": int(v[0]), "km": round(v[1], 1)} for r, v in sorted(by_road.items())
        ],
        "by_class": sorted(by_class, key=lambda row: -row["km"]),
    }
