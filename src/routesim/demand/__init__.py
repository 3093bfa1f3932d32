"""Demand and money: flows of trucks, vehicle classes, dated prices, and the one cost function."""

from routesim.demand.costs import DailyPrices, TripCosts, trip_costs
from routesim.demand.flows import Flow, TruckClass, scenario_flows
from routesim.demand.prices import Prices, Series, scenario_prices

__all__ = [
    "DailyPrices",
    "Flow",
    "Prices",
    "Series",
    "TripCosts",
    "TruckClass",
    "scenario_flows",
    "scenario_prices",
    "trip_costs",
]
