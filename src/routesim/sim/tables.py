"""The result tables of a freight simulation: trips, days, segments, flows and totals."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from routesim.demand.costs import DailyPrices, trip_costs
from routesim.sim.world import DELIVERED, IN_TRANSIT, STRANDED, Sim

STATUS_NAMES = ("in_transit", "delivered", "stranded")
LEG_NAMES = ("loaded", "empty_return")

TRIP_COLUMNS = (
    "trip_id", "flow", "vehicle", "leg", "depart", "arrive", "status", "km", "hours", "queue_hours",
    "fuel_l", "fuel_cost_usd", "fuel_cost_syp", "fees_usd", "fees_syp", "tons", "reroutes", "roads",
)
DAILY_COLUMNS = (
    "date", "unserved", "dispatched", "delivered", "stranded", "in_transit", "tons_delivered", "vehicle_km",
    "fuel_l", "fuel_cost_usd", "fees_usd",
)
SEGMENT_COLUMNS = ("segment", "ref", "trucks", "tons", "vehicle_km", "mean_delay_h")
FLOW_COLUMNS = (
    "flow", "unserved", "dispatched", "delivered", "stranded", "in_transit", "tons_delivered", "mean_km",
    "mean_hours", "mean_queue_hours", "reroutes", "vehicle_km", "fuel_l", "total_cost_usd", "cost_per_ton_usd",
)


def _stamps(start: date, hours: np.ndarray) -> np.ndarray:
    """Clock hours as ``datetime64[s]`` (NaT for nan)."""
    base = np.datetime64(datetime(start.year, start.month, start.day), "s")
    out = np.full(len(hours), np.datetime64("NaT"), dtype="datetime64[s]")
    ok = np.isfinite(hours)
    out[ok] = base + np.round(hours[ok] * 3600.0).astype("timedelta64[s]")
    return out


def _labels(names: Sequence[str], codes: np.ndarray) -> pd.Categorical[str]:
    """Categorical of ``names[codes]`` without building a string per row (names may repeat)."""
    unique = list(dict.fromkeys(names))
    remap = np.array([unique.index(x) for x in names] or [0], dtype=np.int32)
    picked = remap[codes] if len(names) else np.asarray(codes, dtype=np.int32)
    return pd.Categorical.from_codes(picked, categories=pd.Index(unique or [""]))


def tables(sim: Sim) -> dict[str, Any]:
    """The fields of :class:`~routesim.sim.SimResult` for a finished run.

    Money comes from :func:`routesim.demand.trip_costs` on each trip's departure day.
    """
    cfg, n = sim.config, sim.n_trips
    flows = sim.flows
    depart, end_h = sim.t_depart[:n], sim.t_end[:n]
    status, km, tons = sim.t_status[:n], sim.t_km[:n], sim.t_tons[:n]
    day = np.minimum((depart // 24.0).astype(np.int64), sim.n_days - 1)
    # Days of the daily table: the period, and the days a drain ran on after it.
    nd = max(sim.n_days, math.ceil(sim.end_h / 24.0))
    days = [cfg.start + timedelta(days=int(d)) for d in range(nd)]
    fee_usd, fee_syp = sim.t_fee_usd[:n], sim.t_fee_syp[:n]
    hours = np.where(np.isnan(end_h), sim.end_h, end_h) - depart
    money = trip_costs(km=km, litres_per_km=sim.t_rate[:n], hours=hours, day=day,
                       prices=DailyPrices.over(sim.prices, cfg.start, cfg.end), fees_usd=fee_usd, fees_syp=fee_syp,
                       value_of_time_usd_h=cfg.value_of_time_usd_h)
    fuel, fuel_syp, fuel_usd = money.fuel_l, money.fuel_syp, money.fuel_usd
    flow_i = sim.t_flow[:n]
    trips = pd.DataFrame({
        "trip_id": np.arange(n, dtype=np.int64),
        "flow": _labels([f.id for f in flows], flow_i),
        "vehicle": _labels([f.truck.name for f in flows], flow_i),
        "leg": _labels(LEG_NAMES, sim.t_leg[:n]),
        "depart": _stamps(cfg.start, depart),
        "arrive": _stamps(cfg.start, np.where(status == DELIVERED, end_h, np.nan)),
        "status": _labels(STATUS_NAMES, status),
        "km": km,
        "hours": hours,
        "queue_hours": sim.t_queue[:n],
        "fuel_l": fuel,
        "fuel_cost_usd": fuel_usd,
        "fuel_cost_syp": fuel_syp,
        "fees_usd": fee_usd,
        "fees_syp": fee_syp,
        "tons": tons,
        "reroutes": sim.t_reroutes[:n].astype(np.int64),
        "roads": pd.Categorical.from_codes(sim.t_road[:n], categories=pd.Index(sim.road_names)),
    }, columns=list(TRIP_COLUMNS))

    # Daily table.
    delivered = status == DELIVERED
    stranded = status == STRANDED
    end_day = np.minimum((np.nan_to_num(end_h, nan=0.0) // 24.0).astype(np.int64), nd - 1)

    def per_day(mask: np.ndarray, by: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(by[mask], weights=None if w is None else w[mask], minlength=nd)[:nd]

    everyone = np.ones(n, dtype=bool)
    disp_d = per_day(everyone, day)
    deliv_d = per_day(delivered, end_day)
    strand_d = per_day(stranded, end_day)
    in_transit_d = np.cumsum(disp_d) - np.cumsum(deliv_d) - np.cumsum(strand_d)
    daily = pd.DataFrame({
        "date": [d.isoformat() for d in days],
        "unserved": np.pad(sim.unserved.sum(axis=1), (0, nd - sim.n_days)),
        "dispatched": disp_d.astype(np.int64),
        "delivered": deliv_d.astype(np.int64),
        "stranded": strand_d.astype(np.int64),
        "in_transit": in_transit_d.astype(np.int64),
        "tons_delivered": per_day(delivered, end_day, tons),
        "vehicle_km": per_day(everyone, day, km),
        "fuel_l": per_day(everyone, day, fuel),
        "fuel_cost_usd": per_day(everyone, day, fuel_usd),
        "fees_usd": per_day(everyone, day, fee_usd),
    }, columns=list(DAILY_COLUMNS))

    # Segment table (edges grouped by segment id, sorted).
    E = sim.net.edges
    ns = len(E.segment_names)

    def per_seg(x: np.ndarray) -> np.ndarray:
        return np.bincount(E.segment_code, weights=x, minlength=ns)

    trucks_s, tons_s, km_s, delay_s = (per_seg(x) for x in (sim.e_trucks, sim.e_tons, sim.e_km, sim.e_delay))
    used = np.flatnonzero((np.round(trucks_s, 9) > 0) | (np.round(km_s, 9) > 0))
    names = np.array([str(E.segment_names[int(c)]) for c in used], dtype=str).astype(object)
    order = np.argsort(names.astype(str), kind="stable")
    used, names = used[order], names[order]
    first_edge = np.full(ns, -1, dtype=np.int64)
    first_edge[E.segment_code[::-1]] = np.arange(E.n - 1, -1, -1)  # the first edge of each segment
    segments = pd.DataFrame({
        "segment": names,
        "ref": np.array([E.ref_of(int(first_edge[c])) for c in used], dtype=object),
        "trucks": np.round(trucks_s[used]).astype(np.int64),
        "tons": np.maximum(tons_s[used], 0.0),
        "vehicle_km": np.maximum(km_s[used], 0.0),
        "mean_delay_h": np.divide(delay_s[used], trucks_s[used], out=np.zeros(len(used)),
                                  where=trucks_s[used] > 0.5),
    }, columns=list(SEGMENT_COLUMNS)).reset_index(drop=True)

    # Summary.
    time_cost = money.time_usd
    cost = money.total_usd
    tons_delivered = float(tons[delivered].sum())
    total = float(cost.sum())
    tons_per_truck = np.array([f.tons_per_truck for f in flows])
    summary: dict[str, float] = {
        "trips_unserved": float(sim.unserved.sum()),
        "tons_unserved": float((sim.unserved.sum(axis=0) * tons_per_truck).sum()) if flows else 0.0,
        "trips_dispatched": float(n),
        "delivered": float(delivered.sum()),
        "stranded": float(stranded.sum()),
        "in_transit": float((status == IN_TRANSIT).sum()),
        "tons_delivered": tons_delivered,
        "vehicle_km": float(km.sum()),
        "truck_hours": float(hours.sum()),
        "queue_hours": float(sim.t_queue[:n].sum()),
        "fuel_l": float(fuel.sum()),
        "fuel_cost_usd": float(fuel_usd.sum()),
        "fuel_cost_syp": float(fuel_syp.sum()),
        "fees_usd": float(fee_usd.sum()),
        "fees_syp": float(fee_syp.sum()),
        "time_cost_usd": float(time_cost.sum()),
        "total_cost_usd": total,
        "reroutes": float(sim.t_reroutes[:n].sum()),
        "cost_per_ton_usd": total / tons_delivered if tons_delivered > 0 else math.nan,
        "fuel_l_per_ton": float(fuel.sum()) / tons_delivered if tons_delivered > 0 else math.nan,
        "vehicle_km_per_ton": float(km.sum()) / tons_delivered if tons_delivered > 0 else math.nan,
    }
    done = delivered & (sim.t_leg[:n] == 0)
    summary["mean_trip_km"] = float(km[done].mean()) if done.any() else math.nan
    summary["mean_trip_hours"] = float(hours[done].mean()) if done.any() else math.nan
    flow_table = _flow_table(sim, flow_i, sim.t_leg[:n] == 0, status, km, hours, tons, fuel, cost)
    return {"trips": trips, "daily": daily, "segments": segments, "summary": summary, "flows": flow_table}


def _flow_table(
    sim: Sim, flow_i: np.ndarray, loaded: np.ndarray, status: np.ndarray, km: np.ndarray, hours: np.ndarray,
    tons: np.ndarray, fuel: np.ndarray, cost: np.ndarray,
) -> pd.DataFrame:
    """Per-flow figures (see :class:`SimResult`)."""
    nf = len(sim.flows)

    def total(mask: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
        return np.bincount(flow_i[mask], weights=None if w is None else w[mask], minlength=nf)[:nf]

    everything = np.ones(len(flow_i), dtype=bool)
    done = loaded & (status == DELIVERED)
    delivered = total(done)
    tons_d = total(done, tons)
    cost_f = total(everything, cost)

    def mean(w: np.ndarray) -> np.ndarray:
        return np.divide(total(done, w), delivered, out=np.full(nf, np.nan), where=delivered > 0)

    return pd.DataFrame({
        "flow": [f.id for f in sim.flows],
        "unserved": sim.unserved.sum(axis=0),
        "dispatched": total(loaded).astype(np.int64),
        "delivered": delivered.astype(np.int64),
        "stranded": total(loaded & (status == STRANDED)).astype(np.int64),
        "in_transit": total(loaded & (status == IN_TRANSIT)).astype(np.int64),
        "tons_delivered": tons_d,
        "mean_km": mean(km),
        "mean_hours": mean(hours),
        "mean_queue_hours": mean(sim.t_queue[: len(flow_i)]),
        "reroutes": total(everything, sim.t_reroutes[: len(flow_i)].astype(float)).astype(np.int64),
        "vehicle_km": total(everything, km),
        "fuel_l": total(everything, fuel),
        "total_cost_usd": cost_f,
        "cost_per_ton_usd": np.divide(cost_f, tons_d, out=np.full(nf, np.nan), where=tons_d > 0),
    }, columns=list(FLOW_COLUMNS))
