"""Route results: a path described in the terms of its roads and places."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from routesim.models.vehicles import vehicle_index
from routesim.network.edges import EdgeTable
from routesim.network.lookup import NodeLookup, Resolved
from routesim.network.state import NetworkState


@dataclass(frozen=True)
class Route:
    """A best path between two places, or the fact that there is none.

    Attributes
    ----------
    origin, destination
        Names as resolved (display names for places, else node ids).
    vehicle, weight
        ``car``/``truck`` and ``time``/``distance``: what was minimised.
    reachable
        ``False`` when no usable path exists; the figures are then ``nan``.
    distance_km, time_h
        Length and free-flow travel time (including restriction delays).
    roads
        Ordered road refs, consecutive repeats merged.
    via
        Ordered named places passed, origin and destination excluded.
    nodes
        Graph node ids along the path.
    edges
        ``(u, v, key)`` of each edge.
    segments
        Segment ids in order.
    fees_usd, fees_syp
        Fees met on the way (truck fees from restrictions).
    origin_snap_km, destination_snap_km
        How far the given point or place lay from the node the route starts or
        ends at (0 for a place that is a node).
    """

    origin: str
    destination: str
    vehicle: str
    weight: str
    reachable: bool
    distance_km: float
    time_h: float
    roads: tuple[str, ...] = ()
    via: tuple[str, ...] = ()
    nodes: tuple[Any, ...] = ()
    edges: tuple[tuple[Any, Any, int], ...] = ()
    segments: tuple[str, ...] = ()
    fees_usd: float = 0.0
    fees_syp: float = 0.0
    edge_index: tuple[int, ...] = field(default=(), repr=False, compare=False)
    origin_snap_km: float = 0.0
    destination_snap_km: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly summary (no node/edge lists)."""
        d = asdict(self)
        for k in ("nodes", "edges", "edge_index"):
            d.pop(k)
        d["roads"], d["via"], d["segments"] = list(self.roads), list(self.via), list(self.segments)
        return d


@dataclass(frozen=True)
class Detour:
    """A route under closures next to the same query on the open network."""

    route: Route
    baseline: Route

    @property
    def detour_km(self) -> float:
        return self.route.distance_km - self.baseline.distance_km

    @property
    def extra_time_h(self) -> float:
        return self.route.time_h - self.baseline.time_h

    def to_dict(self) -> dict[str, Any]:
        r, b = self.route, self.baseline
        return {
            "origin": r.origin,
            "destination": r.destination,
            "vehicle": r.vehicle,
            "weight": r.weight,
            "reachable": r.reachable,
            "distance_km": _num(r.distance_km),
            "time_h": _num(r.time_h),
            "roads": list(r.roads),
            "via": list(r.via),
            "baseline_distance_km": _num(b.distance_km),
            "baseline_time_h": _num(b.time_h),
            "detour_km": _num(self.detour_km),
            "extra_time_h": _num(self.extra_time_h),
            "origin_snap_km": _num(r.origin_snap_km),
            "destination_snap_km": _num(r.destination_snap_km),
        }


def _num(x: float) -> float | None:
    return None if x != x else round(float(x), 3)


def describe_path(
    edges: EdgeTable, nodes: NodeLookup, origin: Resolved, destination: Resolved, path: Sequence[int] | None,
    state: NetworkState, *, vehicle: str, weight: str,
) -> Route:
    """The :class:`Route` of an edge path between two resolved nodes (``path=None``: unreachable).

    Works on the path's edges only (codes compared in arrays), so describing a
    route of thousands of edges costs about what finding it does.
    """
    a, b = origin.index, destination.index
    if path is None:
        return Route(origin.label, destination.label, vehicle, weight, False, float("nan"), float("nan"),
                     origin_snap_km=origin.snap_km, destination_snap_km=destination.snap_km)
    e = np.asarray(path, dtype=np.int64)
    roads: list[str] = []
    ref_codes = edges.ref_code[e]
    for code in ref_codes[np.r_[True, ref_codes[1:] != ref_codes[:-1]]] if len(e) else []:
        refs = [r for r in str(edges.texts[code]).split(";") if r] if code >= 0 else []
        if refs and not (roads and roads[-1] in refs):
            roads.append(refs[0])
    heads = edges.v[e]
    stopped: list[tuple[int, str]] = []
    stops = nodes.is_named_place_mask[heads] & (heads != b)
    if edges.via_of:
        stops |= np.fromiter((int(i) in edges.via_of for i in e), dtype=bool, count=len(e))
    for k in np.flatnonzero(stops).tolist():
        stopped.extend((k + 1, name) for name in edges.via(int(e[k])))
        if nodes.is_named_place_mask[heads[k]] and heads[k] != b:
            stopped.append((k + 1, nodes.label(int(heads[k]))))
    # Towns and junctions the road runs past, though their own node may lie off it (a town centre).
    stopped += nodes.passed(np.r_[a, heads])
    ends = {origin.label, destination.label}
    via: list[str] = []
    for _, name in sorted(stopped, key=lambda kv: kv[0]):
        if name not in ends and name not in via:
            via.append(name)
    seg_codes = edges.segment_code[e]
    first = e[np.r_[True, seg_codes[1:] != seg_codes[:-1]]] if len(e) else e
    ids = nodes.node_ids
    node_path = (ids[a], *(ids[int(x)] for x in heads))
    edge_keys = tuple((ids[int(edges.u[i])], ids[int(edges.v[i])], int(edges.key[i])) for i in e)
    times = edges.base_time_s[vehicle_index(vehicle), e] / state.speed_factor[e] + state.delay_s[e]
    truck = vehicle == "truck"
    return Route(
        origin=origin.label, destination=destination.label, vehicle=vehicle, weight=weight,
        reachable=True,
        distance_km=float(edges.length_m[e].sum() / 1000.0),
        time_h=float(times.sum() / 3600.0),
        roads=tuple(roads), via=tuple(via), nodes=node_path, edges=edge_keys,
        segments=tuple(edges.segment_of(int(i)) for i in first),
        fees_usd=float(state.fee_usd[e].sum()) if truck else 0.0,
        fees_syp=float(state.fee_syp[e].sum()) if truck else 0.0,
        edge_index=tuple(e.tolist()),
        origin_snap_km=origin.snap_km, destination_snap_km=destination.snap_km,
    )
