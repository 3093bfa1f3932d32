"""Traffic on edges: capacities, hourly volumes and BPR times, night waits, checkpoint service times."""

from __future__ import annotations

import math

import numpy as np

from routesim.network.graph import Network
from routesim.sim.model import SimConfig
from routesim.sim.world import RING_H, EdgeTraffic, Leg, Sim, SimRoute

#: Lane capacity multiplier by road class (see :mod:`routesim.sim.model`).
CLASS_CAPACITY = {"motorway": 1.0, "trunk": 0.9, "primary": 0.8, "secondary": 0.7}
OTHER_CLASS_CAPACITY = 0.6
DEFAULT_LANES = {"motorway": 4.0, "trunk": 4.0}
NIGHT_START_H, NIGHT_END_H = 20.0, 5.0


def edge_traffic(net: Network, config: SimConfig) -> EdgeTraffic:
    """Per-edge capacity (pcu/h, one direction), the night-unsafe mask (``None`` if no edge is)
    and checkpoint lanes (edge attribute ``checkpoint_servers``, else ``config.checkpoint_servers``).

    Read from the edge table's traffic columns (:data:`routesim.network.edges.TRAFFIC_ATTRIBUTES`).
    """
    E = net.edges
    n = E.n
    hw_names = list(E.highways)
    default_lanes = np.array([DEFAULT_LANES.get(h, 2.0) for h in hw_names] or [2.0])[E.highway_code]
    class_factor = np.array([CLASS_CAPACITY.get(h, OTHER_CLASS_CAPACITY) for h in hw_names] or [1.0])[E.highway_code]
    lanes = E.traffic.get("lanes", np.full(n, np.nan))
    lanes = np.where(np.isfinite(lanes) & (lanes > 0), lanes, default_lanes)
    oneway = E.traffic.get("oneway", np.zeros(n, dtype=bool))
    per_dir = np.where(oneway, lanes, lanes / 2.0)
    cap = np.maximum(per_dir, 1.0) * config.lane_capacity_pcu_h * class_factor
    unsafe = E.traffic.get("night_unsafe", np.zeros(n, dtype=bool)).astype(bool)
    lanes_cp = E.traffic.get("checkpoint_servers", np.full(n, np.nan))
    servers = np.where(np.isfinite(lanes_cp) & (lanes_cp >= 1), np.nan_to_num(lanes_cp), config.checkpoint_servers)
    return EdgeTraffic(cap, unsafe if unsafe.any() else None, servers.astype(np.int64))


def night_waits(start: np.ndarray, t: np.ndarray, unsafe: np.ndarray) -> np.ndarray:
    """Hours each truck (row) is held before entering each edge closed at night (20:00-05:00).

    ``start``: leg start per truck; ``t``: edge times per truck and edge.
    Vectorised over trucks, and over the edges between two night-closed ones:
    the clock is advanced by a sequential cumulative sum (the same additions,
    in the same order, as stepping edge by edge), so a route of thousands of
    edges with a few closed at night costs a few array operations.
    """
    wait = np.zeros_like(t)
    clock = start.astype(float)
    done = 0
    for j in np.flatnonzero(unsafe).tolist():
        if j > done:
            clock = np.cumsum(np.column_stack([clock, t[:, done:j]]), axis=1)[:, -1]
        hod = clock % 24.0
        w = np.where(hod >= NIGHT_START_H, 24.0 - hod + NIGHT_END_H,
                     np.where(hod < NIGHT_END_H, NIGHT_END_H - hod, 0.0))
        wait[:, j] = w
        clock = clock + w + t[:, j]
        done = j + 1
    return wait


def count(sim: Sim, route: SimRoute, a: int, b: int, start: np.ndarray) -> np.ndarray:
    """Add the entries of ``len(start)`` trucks starting leg ``[a, b)``; return their ring rows."""
    t0 = route.t0[a:b]
    off = np.cumsum(t0) - t0
    hour = np.floor(start[:, None] + off[None, :])
    limit = 24.0 * (math.floor(sim.env.now / 24.0) + 3) - 1.0
    rows = (np.minimum(hour, limit) % RING_H).astype(np.int64)
    e = route.edges[a:b]
    if len(start) == 1:
        sim.vol[rows[0], e] += 1.0
        return rows
    # Count entries per (clock hour, edge) over the few hours the batch spans, then add each
    # hour's row at once: a route has distinct edges and the span is under the ring's length,
    # so no (row, edge) pair repeats in the final addition.
    h = np.minimum(hour, limit).astype(np.int64)
    h0 = int(h.min())
    span = int(h.max()) - h0 + 1
    if span > RING_H:  # cannot happen while entries are capped at three days ahead; stay exact anyway
        np.add.at(sim.vol, (rows, np.broadcast_to(e, rows.shape)), 1.0)
        return rows
    m = b - a
    counts = np.bincount(((h - h0) * m + np.arange(m)).ravel(), minlength=span * m).reshape(span, m)
    ring = (np.arange(h0, h0 + span) % RING_H)[:, None]
    sim.vol[ring, e[None, :]] += counts
    return rows

def times(sim: Sim, route: SimRoute, a: int, b: int, start: np.ndarray, rows: np.ndarray, tons: float) -> Leg:
    """Congested schedule of leg ``[a, b)`` for trucks starting at ``start`` (entries already counted)."""
    leg = Leg(route, a, b, start, tons)
    if b == a:
        return leg
    cfg = sim.config
    e = route.edges[a:b]
    x = sim.vol[rows, e] * route.inv_cap[a:b]
    if sim.bg:
        x += sim.bg
    t0 = route.t0[a:b]
    delay = t0 * (cfg.bpr_alpha * x**cfg.bpr_beta)
    t = t0 + delay
    if route.unsafe is not None and route.unsafe[a:b].any():
        wait = night_waits(start, t, route.unsafe[a:b])
        t += wait
        delay += wait
        leg.wait = wait
    leg.ends = start[:, None] + np.cumsum(t, axis=1)
    leg.delay = delay
    leg.finish = leg.ends[:, -1].tolist()
    sim.edge_stats(route, a, b, len(start), tons, delay.sum(axis=0))
    return leg

def plan_leg(sim: Sim, route: SimRoute, a: int, tons: float) -> Leg:
    """Schedule one truck from position ``a`` to the next stop, starting now."""
    b = route.next_stop[a]
    start = np.array([float(sim.env.now)])
    if b == a:
        return Leg(route, a, b, start, tons)
    return times(sim, route, a, b, start, count(sim, route, a, b, start), tons)


def service_time(sim: Sim, mean: float) -> float:
    """One checkpoint service time (hours) of the configured distribution."""
    kind = sim.config.checkpoint_service
    if kind == "fixed":
        return float(mean)
    if kind == "lognormal":
        sigma2 = math.log1p(sim.config.checkpoint_service_cv**2)
        return float(sim.rng_service.lognormal(math.log(mean) - sigma2 / 2.0, math.sqrt(sigma2)))
    return float(sim.rng_service.exponential(mean))
