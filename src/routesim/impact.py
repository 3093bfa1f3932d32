"""Route-level impact of a scenario: each OD flow routed epoch by epoch, weighted by days.

For every flow (and direction) the truck route on the open network is the
baseline; the scenario route is recomputed once per epoch of constant network
state. Trips, vehicle-km, hours, fuel and fuel cost follow from the flow's trucks
per day, the vehicle's fuel use and the daily price series.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date as Date
from datetime import timedelta
from typing import Any

import numpy as np

from routesim.events import EventSet
from routesim.network import Network
from routesim.prices import Prices
from routesim.route import Route
from routesim.scenario import Demand, Scenario, VehicleSpec
from routesim.state import vehicle_index


@dataclass(frozen=True)
class FlowLeg:
    """One direction of a demand flow, with trucks per day resolved."""

    id: str
    origin: str
    destination: str
    trucks_per_day: float
    tons_per_day: float
    vehicle: VehicleSpec
    demand: Demand


def flow_legs(scenario: Scenario) -> list[FlowLeg]:
    """Demand rows as directed legs (``both_directions`` gives two)."""
    legs = []
    for i, d in enumerate(scenario.demand):
        veh = scenario.vehicles[d.vehicle]
        per_truck = veh.payload_t * d.load_factor
        trucks = d.trucks_per_day if d.trucks_per_day is not None else d.tons_per_day / per_truck  # type: ignore[operator]
        tons = d.tons_per_day if d.tons_per_day is not None else trucks * per_truck
        base_id = d.id or f"flow-{i + 1}"
        pairs = [(d.origin, d.destination)] + ([(d.destination, d.origin)] if d.both_directions else [])
        for k, (o, t) in enumerate(pairs):
            legs.append(FlowLeg(f"{base_id}{'-back' if k else ''}", o, t, trucks, tons, veh, d))
    return legs


def daily_prices(prices: Prices, start: Date, end: Date) -> tuple[np.ndarray, np.ndarray]:
    """Diesel SYP/L and SYP/USD for each day of ``[start, end)``."""
    days = [start + timedelta(days=i) for i in range((end - start).days)]
    return (
        np.array([prices.diesel_syp_per_l(d) for d in days]),
        np.array([prices.syp_per_usd(d) for d in days]),
    )


def litres_per_100km(leg: FlowLeg) -> float:
    v = leg.vehicle
    return v.fuel_empty_l_100km + (v.fuel_loaded_l_100km - v.fuel_empty_l_100km) * leg.demand.load_factor


def route_impact(
    network: Network, events: EventSet, scenario: Scenario, prices: Prices
) -> tuple[list[dict[str, Any]], dict[str, float], dict[str, np.ndarray]]:
    """OD rows, summary totals, and per-edge truck counts/closed days.

    Returns
    -------
    (od_rows, totals, edge_stats)
        ``edge_stats`` holds per-edge ``trucks`` and ``days_closed_truck`` /
        ``days_closed_car`` arrays over the period.
    """
    start, end = scenario.start, scenario.end
    diesel, rate = daily_prices(prices, start, end)
    vot = scenario.costs.value_of_time_usd_h
    fee_trip = scenario.costs.fee_usd_per_trip
    epochs = events.epochs(start, end)
    states = [events.state_at(ep.start) for ep in epochs]
    n = network.edges.n
    edge_trucks = np.zeros(n)
    closed_days = np.zeros((2, n))
    for ep, st in zip(epochs, states, strict=True):
        closed_days += st.closed * ep.days
    t_idx = vehicle_index("truck")
    totals: Counter[str] = Counter()
    rows = []
    for leg in flow_legs(scenario):
        base = network.route(leg.origin, leg.destination, vehicle="truck")
        lp100 = litres_per_100km(leg)
        acc: Counter[str] = Counter()
        used: Counter[tuple[str, ...]] = Counter()
        for ep, st in zip(epochs, states, strict=True):
            r: Route = network.route(leg.origin, leg.destination, vehicle="truck", state=st)
            i0, i1 = (ep.start - start).days, (ep.end - start).days
            trips = leg.trucks_per_day * ep.days
            acc["trips"] += trips
            if not r.reachable:
                acc["unserved"] += trips
                continue
            used[r.roads] += ep.days
            acc["served_days"] += ep.days
            acc["served"] += trips
            acc["vkm"] += trips * r.distance_km
            acc["base_vkm"] += trips * base.distance_km
            acc["hours"] += trips * r.time_h
            acc["base_hours"] += trips * base.time_h
            litres_day = leg.trucks_per_day * r.distance_km / 100.0 * lp100
            base_litres_day = leg.trucks_per_day * base.distance_km / 100.0 * lp100
            acc["fuel_l"] += litres_day * ep.days
            acc["base_fuel_l"] += base_litres_day * ep.days
            syp = diesel[i0:i1].sum()
            usd = (diesel[i0:i1] / rate[i0:i1]).sum()
            acc["fuel_syp"] += litres_day * syp
            acc["fuel_usd"] += litres_day * usd
            acc["base_fuel_usd"] += base_litres_day * usd
            acc["fees_usd"] += trips * (r.fees_usd + fee_trip) + leg.trucks_per_day * r.fees_syp * (
                1.0 / rate[i0:i1]
            ).sum()
            acc["base_fees_usd"] += trips * fee_trip
            acc["tons"] += leg.tons_per_day * ep.days
            edge_trucks[list(r.edge_index)] += trips
        acc["time_usd"] = acc["hours"] * vot
        acc["base_time_usd"] = acc["base_hours"] * vot
        cost = acc["fuel_usd"] + acc["fees_usd"] + acc["time_usd"]
        base_cost = acc["base_fuel_usd"] + acc["base_fees_usd"] + acc["base_time_usd"]
        served = acc["served"]
        km = acc["vkm"] / served if served else float("nan")
        hours = acc["hours"] / served if served else float("nan")
        rows.append(
            {
                "flow": leg.id,
                "origin": leg.origin,
                "destination": leg.destination,
                "commodity": leg.demand.commodity,
                "trucks_per_day": round(leg.trucks_per_day, 3),
                "tons_per_day": round(leg.tons_per_day, 3),
                "days": (end - start).days,
                "reachable_share": round(acc["served_days"] / max((end - start).days, 1), 4),
                "baseline_distance_km": base.distance_km,
                "baseline_time_h": base.time_h,
                "distance_km": km,
                "time_h": hours,
                "detour_km": km - base.distance_km,
                "extra_time_h": hours - base.time_h,
                "roads": list(used.most_common(1)[0][0]) if used else [],
                "trips": acc["trips"],
                "trips_unserved": acc["unserved"],
                "baseline_cost_per_trip_usd": base_cost / served if served else float("nan"),
                "cost_per_trip_usd": cost / served if served else float("nan"),
            }
        )
        for k, v in acc.items():
            totals[k] += v
        totals["cost_usd"] += cost
        totals["base_cost_usd"] += base_cost
    edge_stats = {"trucks": edge_trucks, "days_closed_car": closed_days[0], "days_closed_truck": closed_days[t_idx]}
    return rows, dict(totals), edge_stats
