"""Route-level impact of a scenario: each flow routed epoch by epoch, weighted by days.

For every flow the truck route on the open network is the baseline; the
scenario route is recomputed once per epoch of constant network state. Trips,
vehicle-km, hours, fuel and money follow from the flow's trucks per day and
:func:`routesim.demand.trip_costs` on each day of the epoch.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date as Date
from typing import Any

import numpy as np
import pandas as pd

from routesim.demand.costs import DailyPrices, trip_costs
from routesim.demand.flows import Flow
from routesim.events.eventset import EventSet
from routesim.models.vehicles import vehicle_index
from routesim.network.graph import Network
from routesim.network.route import Route

#: Route-level summary metrics, in table order: (metric, unit).
ROUTE_METRICS: tuple[tuple[str, str], ...] = (
    ("trips", "trips"),
    ("trips_unserved", "trips"),
    ("tons_delivered", "t"),
    ("vehicle_km", "km"),
    ("baseline_vehicle_km", "km"),
    ("extra_vehicle_km", "km"),
    ("truck_hours", "h"),
    ("extra_truck_hours", "h"),
    ("fuel_l", "L"),
    ("extra_fuel_l", "L"),
    ("fuel_cost_syp", "SYP"),
    ("fuel_cost_usd", "USD"),
    ("extra_fuel_cost_usd", "USD"),
    ("fees_usd", "USD"),
    ("fees_syp", "SYP"),
    ("time_cost_usd", "USD"),
    ("total_cost_usd", "USD"),
    ("extra_cost_usd", "USD"),
    ("cost_per_ton_usd", "USD/t"),
    ("extra_cost_per_ton_usd", "USD/t"),
)


@dataclass
class RouteImpact:
    """The route-level estimate of a scenario.

    Attributes
    ----------
    od
        One row per flow (``od.csv``).
    totals
        Sums over flows: ``trips``, ``unserved``, ``vkm``, ``base_vkm``, ``hours``,
        ``fuel_l``, ``fuel_usd``, ``cost_usd``, their ``base_*`` twins ...
    edge_trucks
        Trucks passing each edge over the period.
    days_closed
        ``(len(VEHICLES), n_edges)`` days each edge is closed to each class.
    """

    od: list[dict[str, Any]]
    totals: dict[str, float]
    edge_trucks: np.ndarray
    days_closed: np.ndarray

    def summary(self) -> list[dict[str, Any]]:
        """Summary rows (``engine`` = ``route``)."""
        t = self.totals.get

        def x(name: str) -> float:
            return float(t(name, 0.0))

        tons = x("tons")

        def per_ton(v: float) -> float:
            return v / tons if tons else float("nan")

        values = {
            "trips": x("trips"),
            "trips_unserved": x("unserved"),
            "tons_delivered": tons,
            "vehicle_km": x("vkm"),
            "baseline_vehicle_km": x("base_vkm"),
            "extra_vehicle_km": x("vkm") - x("base_vkm"),
            "truck_hours": x("hours"),
            "extra_truck_hours": x("hours") - x("base_hours"),
            "fuel_l": x("fuel_l"),
            "extra_fuel_l": x("fuel_l") - x("base_fuel_l"),
            "fuel_cost_syp": x("fuel_syp"),
            "fuel_cost_usd": x("fuel_usd"),
            "extra_fuel_cost_usd": x("fuel_usd") - x("base_fuel_usd"),
            "fees_usd": x("fees_usd"),
            "fees_syp": x("fees_syp"),
            "time_cost_usd": x("time_usd"),
            "total_cost_usd": x("cost_usd"),
            "extra_cost_usd": x("cost_usd") - x("base_cost_usd"),
            "cost_per_ton_usd": per_ton(x("cost_usd")),
            "extra_cost_per_ton_usd": per_ton(x("cost_usd") - x("base_cost_usd")),
        }
        return [{"engine": "route", "metric": m, "value": values[m], "unit": u, "low": None, "high": None}
                for m, u in ROUTE_METRICS]

    def od_frame(self) -> pd.DataFrame:
        """``od.csv`` (roads joined with ``" > "``)."""
        od = pd.DataFrame(self.od)
        if not od.empty:
            od["roads"] = od["roads"].map(" > ".join)
        return od

    def segments(self, network: Network) -> pd.DataFrame:
        """``segments.csv``: per segment, days closed to cars and trucks, trucks and vehicle-km."""
        e = network.edges
        frame = pd.DataFrame(
            {
                "segment": e.segment.astype(str),
                "ref": e.ref.astype(str),
                "km": e.length_m / 1000.0,
                "days_closed_car": self.days_closed[vehicle_index("car")],
                "days_closed_truck": self.days_closed[vehicle_index("truck")],
                "trucks": self.edge_trucks,
            }
        )
        frame["vehicle_km"] = frame["trucks"] * frame["km"]
        return (
            frame.groupby("segment", sort=True)
            .agg(ref=("ref", "first"), km=("km", "first"), days_closed_car=("days_closed_car", "max"),
                 days_closed_truck=("days_closed_truck", "max"), trucks=("trucks", "sum"),
                 vehicle_km=("vehicle_km", "sum"))
            .reset_index()
        )


def route_impact(
    network: Network, events: EventSet, flows: Sequence[Flow], *, start: Date, end: Date, prices: DailyPrices,
    value_of_time_usd_h: float = 0.0, actor: str = "commercial",
) -> RouteImpact:
    """The route-level estimate of ``flows`` over ``[start, end)`` under ``events``.

    Parameters
    ----------
    prices
        Daily prices of the period (:meth:`routesim.demand.DailyPrices.over`).
    value_of_time_usd_h
        Cost of a truck hour (default 0).
    actor
        Who travels: decides which crossings of front lines are open (default
        ``commercial``; :data:`routesim.control.ACTORS`).
    """
    epochs = events.epochs(start, end)
    n = network.edges.n
    edge_trucks = np.zeros(n)
    days_closed = np.zeros((2, n))
    totals: defaultdict[str, float] = defaultdict(float)
    period = (end - start).days
    bases = [network.route(f.origin, f.destination, vehicle="truck") for f in flows]
    rates = [f.truck.litres_per_km(f.load_factor) for f in flows]
    accs: list[defaultdict[str, float]] = [defaultdict(float) for _ in flows]
    useds: list[Counter[tuple[str, ...]]] = [Counter() for _ in flows]

    def cost(r: Route, days: np.ndarray, flow: Flow, rate: float) -> dict[str, float]:
        c = trip_costs(km=r.distance_km, litres_per_km=rate, hours=r.time_h, day=days, prices=prices,
                       fees_usd=r.fees_usd + flow.fee_usd_per_trip, fees_syp=r.fees_syp,
                       value_of_time_usd_h=value_of_time_usd_h)
        k = flow.trucks_per_day
        return {"fuel_l": k * float(c.fuel_l.sum()), "fuel_syp": k * float(c.fuel_syp.sum()),
                "fuel_usd": k * float(c.fuel_usd.sum()), "fees_usd": k * float(c.fees_usd.sum()),
                "fees_syp": k * float(c.fees_syp.sum()), "time_usd": k * float(c.time_usd.sum()),
                "cost_usd": k * float(c.total_usd.sum())}

    # Epoch by epoch, every flow under that epoch's state: one state alive at a time, not one per
    # epoch (a state of the default network is ~6 MB; a year of the war has about a hundred epochs).
    for ep in epochs:
        st = events.state_at(ep.start, actor=actor)
        days_closed += st.closed * ep.days
        days = np.arange((ep.start - start).days, (ep.end - start).days)
        for flow, base, rate, acc, used in zip(flows, bases, rates, accs, useds, strict=True):
            r = network.route(flow.origin, flow.destination, vehicle="truck", state=st)
            trips = flow.trucks_per_day * ep.days
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
            acc["tons"] += flow.tons * ep.days
            for k, v in cost(r, days, flow, rate).items():
                acc[k] += v
            for k, v in cost(base, days, flow, rate).items():
                acc[f"base_{k}"] += v
            edge_trucks[list(r.edge_index)] += trips
    rows = []
    for flow, base, acc, used in zip(flows, bases, accs, useds, strict=True):
        served = acc["served"]
        km = acc["vkm"] / served if served else float("nan")
        hours = acc["hours"] / served if served else float("nan")
        rows.append(
            {
                "flow": flow.id,
                "origin": flow.origin,
                "destination": flow.destination,
                "commodity": flow.commodity,
                "trucks_per_day": round(flow.trucks_per_day, 3),
                "tons_per_day": round(flow.tons, 3),
                "days": period,
                "reachable_share": round(acc["served_days"] / max(period, 1), 4),
                "baseline_distance_km": base.distance_km,
                "baseline_time_h": base.time_h,
                "distance_km": km,
                "time_h": hours,
                "detour_km": km - base.distance_km,
                "extra_time_h": hours - base.time_h,
                "roads": list(used.most_common(1)[0][0]) if used else [],
                "trips": acc["trips"],
                "trips_unserved": acc["unserved"],
                "baseline_cost_per_trip_usd": acc["base_cost_usd"] / served if served else float("nan"),
                "cost_per_trip_usd": acc["cost_usd"] / served if served else float("nan"),
            }
        )
        for k, v in acc.items():
            totals[k] += v
    return RouteImpact(od=rows, totals=dict(totals), edge_trucks=edge_trucks, days_closed=days_closed)
