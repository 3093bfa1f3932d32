"""The cost of trips: fuel, fuel cost in SYP and USD on the trip's day, fees and time.

:func:`trip_costs` is the one place where a trip's money is computed. The
route-level estimate (:mod:`routesim.analysis.impact`) calls it for the typical
truck of a flow on each day of an epoch; the freight simulation
(:mod:`routesim.sim.tables`) for every simulated trip.

Rules
-----
- Fuel, litres = km x litres per km (the truck's rate at its load).
- Fuel cost, SYP = litres x diesel price (SYP/L) on the trip's departure day;
  USD = SYP / exchange rate (SYP per USD) on that day.
- Fees are kept in the currency they are charged in; ``total_usd`` converts
  SYP fees at the day's rate.
- Time cost, USD = hours x value of time.
- ``total_usd`` = fuel USD + fees USD + SYP fees in USD + time cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date as Date
from datetime import timedelta

import numpy as np

from routesim.demand.prices import PriceSource


@dataclass(frozen=True)
class DailyPrices:
    """Diesel price (SYP/L) and exchange rate (SYP per USD) for each day from ``start``."""

    start: Date
    diesel_syp_per_l: np.ndarray
    syp_per_usd: np.ndarray

    @classmethod
    def over(cls, prices: PriceSource, start: Date, end: Date) -> DailyPrices:
        """The prices of each day of ``[start, end)``."""
        days = [start + timedelta(days=i) for i in range((end - start).days)]
        return cls(
            start=start,
            diesel_syp_per_l=np.array([float(prices.diesel_syp_per_l(d)) for d in days]),
            syp_per_usd=np.array([float(prices.syp_per_usd(d)) for d in days]),
        )

    @property
    def n_days(self) -> int:
        return len(self.syp_per_usd)


@dataclass(frozen=True)
class TripCosts:
    """Per-trip figures (arrays aligned with the trips given to :func:`trip_costs`)."""

    fuel_l: np.ndarray
    fuel_syp: np.ndarray
    fuel_usd: np.ndarray
    fees_usd: np.ndarray
    fees_syp: np.ndarray
    fees_syp_in_usd: np.ndarray
    time_usd: np.ndarray
    total_usd: np.ndarray


def trip_costs(
    *,
    km: np.ndarray | float,
    litres_per_km: np.ndarray | float,
    hours: np.ndarray | float,
    day: np.ndarray | int,
    prices: DailyPrices,
    fees_usd: np.ndarray | float = 0.0,
    fees_syp: np.ndarray | float = 0.0,
    value_of_time_usd_h: float = 0.0,
) -> TripCosts:
    """Fuel, fuel cost, fees and time cost of trips (see the module docstring).

    Parameters
    ----------
    km, litres_per_km, hours
        Distance, diesel use and duration of each trip.
    day
        Departure day of each trip, as an index into ``prices``.
    prices
        Daily diesel prices and exchange rates.
    fees_usd, fees_syp
        Fees paid on the way, in each currency (default none).
    value_of_time_usd_h
        Cost of a truck hour (default 0: no time cost).

    Arguments broadcast against each other, so one route can be costed over a
    range of days.
    """
    shape = np.broadcast_shapes(*(np.shape(x) for x in (km, litres_per_km, hours, day, fees_usd, fees_syp)))

    def full(x: np.ndarray | float) -> np.ndarray:
        return np.broadcast_to(np.asarray(x, dtype=float), shape)

    day_i = np.broadcast_to(np.asarray(day, dtype=np.int64), shape)
    rate = prices.syp_per_usd[day_i]
    fuel = full(km) * full(litres_per_km)
    fuel_syp = fuel * prices.diesel_syp_per_l[day_i]
    fuel_usd = fuel_syp / rate
    usd, syp = full(fees_usd), full(fees_syp)
    syp_usd = syp / rate
    time = full(hours) * value_of_time_usd_h
    return TripCosts(
        fuel_l=fuel, fuel_syp=fuel_syp, fuel_usd=fuel_usd, fees_usd=usd, fees_syp=syp,
        fees_syp_in_usd=syp_usd, time_usd=time, total_usd=fuel_usd + usd + syp_usd + time,
    )
