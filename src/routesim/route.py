"""Route results."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


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
