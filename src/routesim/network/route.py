"""Route results: a path described in the terms of its roads and places."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from routesim.network.edges import EdgeTable
from routesim.network.lookup import NodeLookup
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
        }


def _num(x: float) -> float | None:
    return None if x != x else round(float(x), 3)


def describe_path(
    edges: EdgeTable, nodes: NodeLookup, a: int, b: int, path: Sequence[int] | None, state: NetworkState,
    *, vehicle: str, weight: str, times_s: np.ndarray,
) -> Route:
    """The :class:`Route` of an edge path from node ``a`` to node ``b`` (``None``: unreachable).

    ``times_s`` is the per-edge travel time under ``state`` for ``vehicle``.
    """
    origin, destination = nodes.label(a), nodes.label(b)
    if path is None:
        return Route(origin, destination, vehicle, weight, False, float("nan"), float("nan"))
    e = np.asarray(path, dtype=np.int64)
    roads: list[str] = []
    via: list[str] = []
    segments: list[str] = []
    for i in e:
        refs = [r for r in edges.ref_of(i).split(";") if r]
        if refs and not (roads and roads[-1] in refs):
            roads.append(refs[0])
        via.extend(edges.via(i))
        head = int(edges.v[i])
        if head != b and nodes.is_place(head):
            via.append(nodes.label(head))
        seg = edges.segment_of(i)
        if not segments or segments[-1] != seg:
            segments.append(seg)
    ids = nodes.node_ids
    node_path = (ids[a], *(ids[int(x)] for x in edges.v[e]))
    edge_keys = tuple((ids[int(edges.u[i])], ids[int(edges.v[i])], int(edges.key[i])) for i in e)
    truck = vehicle == "truck"
    return Route(
        origin=origin, destination=destination, vehicle=vehicle, weight=weight,
        reachable=True,
        distance_km=float(edges.length_m[e].sum() / 1000.0),
        time_h=float(times_s[e].sum() / 3600.0),
        roads=tuple(roads), via=tuple(via), nodes=node_path, edges=edge_keys,
        segments=tuple(segments),
        fees_usd=float(state.fee_usd[e].sum()) if truck else 0.0,
        fees_syp=float(state.fee_syp[e].sum()) if truck else 0.0,
        edge_index=tuple(int(i) for i in e),
    )
