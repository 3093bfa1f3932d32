"""The value of reopening each closure in force, alone, for a scenario's demand.

A *closure in force* on a day is an event in force that closes edges to
trucks (library events, event files, a scenario's inline events and
``closures``), or a stretch of road the ground closes: front-line and siege
edges (:mod:`routesim.control.zones`), joined into one closure where they touch.
Reopening a closure makes its edges usable again, whatever else closes them
(so reopening the umbrella ``m5-north-of-hama-2012-2020`` reopens the whole M5
north of Hama, while a short event inside it reopens only its few km), and
restrictions stay. The demand is routed on the state of the day and again with
the closure reopened (:class:`routesim.analysis.criticality.DemandRoutes`).

A flow can gain from reopening edges only if its origin reaches one of them and
one of them reaches its destination for less than its route costs now; that
lower bound, from one tree out of each origin and one into each destination,
skips the closures far from every route before any reroute.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date as Date
from typing import Any

import numpy as np
import pandas as pd

from routesim.analysis.criticality import DemandRoutes, by_rank, rank_by
from routesim.demand.costs import DailyPrices
from routesim.demand.flows import Flow
from routesim.demand.prices import Prices
from routesim.events.eventset import EventSet
from routesim.models.selectors import describe
from routesim.models.vehicles import vehicle_index
from routesim.network.graph import Network
from routesim.network.state import NetworkState

#: Columns of the reopen table, in order (see ``docs/criticality.md``).
REOPEN_COLUMNS: tuple[str, ...] = (
    "rank", "closure", "kind", "where", "edges", "km", "days", "flows", "trucks_per_day",
    "saved_vehicle_km", "saved_truck_hours", "saved_fuel_l", "saved_cost_usd", "trips_served",
    "od_reconnected",
)


@dataclass(frozen=True)
class Closure:
    """Edges closed to trucks on a day by one cause.

    Attributes
    ----------
    id
        The event id, or ``ground:<first edge>`` for a stretch of front line or siege ring.
    kind
        ``event`` or ``ground``.
    where
        The event's selector, or the nearest named place and the road.
    edges
        Edge indices it closes to trucks on that day.
    """

    id: str
    kind: str
    where: str
    edges: np.ndarray


def closures_in_force(events: EventSet, state: NetworkState, *, actor: str = "commercial",
                      vehicle: str = "truck") -> list[Closure]:
    """Every closure in force in ``state`` (``events.state_at(day, actor=actor)``): events, then the ground."""
    network = events.network
    closed = state.closed[vehicle_index(vehicle)]
    out = []
    active = set(state.events)
    for rec in events.records:
        ev = rec.event
        if ev.id not in active or ev.action == "open":
            continue
        edges = np.flatnonzero(events.mask(ev.id) & closed)
        if len(edges):
            out.append(Closure(ev.id, "event", describe(ev.selector()), edges))
    if events.control is not None and state.date is not None:
        ground = events.control.ground(state.date, actor=actor)
        out += _ground_closures(network, np.flatnonzero(ground.closed & closed))
    return out


def _ground_closures(network: Network, edges: np.ndarray) -> list[Closure]:
    """Ground-closed edges joined where they share a node: one closure per stretch."""
    if not len(edges):
        return []
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    e = network.edges
    n = network.core.n_nodes
    graph = coo_matrix((np.ones(len(edges)), (e.u[edges], e.v[edges])), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    comp = label[e.u[edges]]
    named = np.flatnonzero(network.nodes.is_named_place_mask)
    out = []
    for c in np.unique(comp):
        part = edges[comp == c]
        x, y = e.node_x[e.u[part[0]]], e.node_y[e.u[part[0]]]
        near = named[np.argmin((e.node_x[named] - x) ** 2 + (e.node_y[named] - y) ** 2)] if len(named) else -1
        refs = sorted({r for r in e.ref[part] if r})
        road = refs[0] if refs else str(e.highway[part[0]])
        place = network.node_label(int(near)) if near >= 0 else f"{y:.3f},{x:.3f}"
        out.append(Closure(f"ground:{int(part.min())}", "ground", f"front line or siege ring, {road} near {place}",
                           part))
    return out


def _trees(demand: DemandRoutes) -> tuple[np.ndarray, np.ndarray]:
    """Costs from each flow's origin to every node and from every node to its destination."""
    from scipy.sparse.csgraph import dijkstra

    matrix = demand.root.matrix
    src = np.array([r.source for r in demand.routes], dtype=np.int64)
    dst = np.array([r.target for r in demand.routes], dtype=np.int64)
    n = matrix.shape[0]
    out_of = np.atleast_2d(dijkstra(matrix, directed=True, indices=src)) if len(src) else np.zeros((0, n))
    into = np.atleast_2d(dijkstra(matrix.T.tocsr(), directed=True, indices=dst)) if len(dst) else np.zeros((0, n))
    return out_of, into


def reopen_day(
    network: Network, events: EventSet, flows: Sequence[Flow], *, day: Date, prices: DailyPrices, day_index: int = 0,
    value_of_time_usd_h: float = 0.0, actor: str = "commercial",
) -> pd.DataFrame:
    """Per-day value of reopening each closure in force on ``day`` alone (:data:`REOPEN_COLUMNS`).

    Parameters
    ----------
    prices
        Daily prices covering ``day`` (index ``day_index`` in them).
    value_of_time_usd_h
        Cost of a truck hour (default 0).
    actor
        Whose crossings of front lines are open (default ``commercial``).

    Returns
    -------
    pandas.DataFrame
        One row per closure: vehicle-km, truck-hours, fuel and USD saved per day
        on the trips that run either way, trips per day that get a route again
        (``trips_served``), ranked by USD saved, then trips served (rank 0: no value).
    """
    state = events.state_at(day, actor=actor)
    demand = DemandRoutes(network, state, flows, prices=prices, value_of_time_usd_h=value_of_time_usd_h,
                          day=day_index)
    closures = closures_in_force(events, state, actor=actor)
    out_of, into = _trees(demand)
    now = np.array([np.inf if r.edges is None else float(demand.time_s[r.edges].sum()) for r in demand.routes])
    w = demand.time_s
    e = network.edges
    rows = []
    for c in closures:
        tails, heads = e.u[c.edges], e.v[c.edges]
        bound = out_of[:, tails].min(axis=1) + into[:, heads].min(axis=1) + float(w[c.edges].min())
        hopeful = [i for i in range(len(demand.routes)) if bound[i] < now[i] * (1 - 1e-12)]
        ch: dict[str, Any] = (demand.change(c.edges, usable=True, flows=hopeful) if hopeful
                              else {"flows": [], "trucks_per_day": 0.0, "delta_vehicle_km": 0.0,
                                    "delta_truck_hours": 0.0, "delta_fuel_l": 0.0, "delta_cost_usd": 0.0,
                                    "gained_trips": 0.0, "gained_od": []})
        seg = np.unique(e.segment_code[c.edges], return_index=True)[1]
        rows.append({
            "closure": c.id, "kind": c.kind, "where": c.where, "edges": len(c.edges),
            "km": float(e.length_m[c.edges[seg]].sum() / 1000.0), "days": 1, "flows": ";".join(ch["flows"]),
            "trucks_per_day": ch["trucks_per_day"], "saved_vehicle_km": -ch["delta_vehicle_km"],
            "saved_truck_hours": -ch["delta_truck_hours"], "saved_fuel_l": -ch["delta_fuel_l"],
            "saved_cost_usd": -ch["delta_cost_usd"], "trips_served": ch["gained_trips"],
            "od_reconnected": len(ch["gained_od"]),
        })
    return _ranked(pd.DataFrame(rows, columns=[c for c in REOPEN_COLUMNS if c != "rank"]))


def reopen_period(
    network: Network, events: EventSet, flows: Sequence[Flow], *, start: Date, end: Date, prices: Prices,
    value_of_time_usd_h: float = 0.0, actor: str = "commercial",
) -> pd.DataFrame:
    """:func:`reopen_day` over ``[start, end)``: one day per epoch of constant state, weighted by its days.

    Figures are totals over the period (``days``: days the closure is in force);
    a closure is the same across epochs when its id is (an event), or its edges
    are (a stretch of ground).
    """
    daily = DailyPrices.over(prices, start, end)
    parts = []
    for ep in events.epochs(start, end):
        frame = reopen_day(network, events, flows, day=ep.start, prices=daily, day_index=(ep.start - start).days,
                           value_of_time_usd_h=value_of_time_usd_h, actor=actor)
        if frame.empty:
            continue
        frame = frame.drop(columns="rank")
        per_day = ["trucks_per_day", "saved_vehicle_km", "saved_truck_hours", "saved_fuel_l", "saved_cost_usd",
                   "trips_served"]
        for col in per_day[1:]:
            frame[col] = frame[col] * ep.days
        frame["days"] = ep.days
        parts.append(frame)
    if not parts:
        return _ranked(pd.DataFrame(columns=[c for c in REOPEN_COLUMNS if c != "rank"]))
    allp = pd.concat(parts, ignore_index=True)
    agg = allp.groupby(["closure", "kind", "where"], sort=False).agg(
        edges=("edges", "max"), km=("km", "max"), days=("days", "sum"),
        flows=("flows", lambda s: ";".join(dict.fromkeys(f for x in s for f in str(x).split(";") if f))),
        trucks_per_day=("trucks_per_day", "max"), saved_vehicle_km=("saved_vehicle_km", "sum"),
        saved_truck_hours=("saved_truck_hours", "sum"), saved_fuel_l=("saved_fuel_l", "sum"),
        saved_cost_usd=("saved_cost_usd", "sum"), trips_served=("trips_served", "sum"),
        od_reconnected=("od_reconnected", "max"),
    ).reset_index()
    return _ranked(agg)


def _ranked(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    if frame.empty:
        frame.insert(0, "rank", pd.Series(dtype=np.int64))
        return frame[list(REOPEN_COLUMNS)]
    rank = rank_by(frame["saved_cost_usd"].to_numpy(dtype=float), frame["trips_served"].to_numpy(dtype=float))
    frame.insert(0, "rank", rank)
    return by_rank(frame)[list(REOPEN_COLUMNS)]

