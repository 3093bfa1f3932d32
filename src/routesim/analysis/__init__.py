"""Analyses on routes: the route-level impact of a scenario and the comparison of runs."""

from routesim.analysis.compare import compare
from routesim.analysis.impact import ROUTE_METRICS, RouteImpact, route_impact

__all__ = ["ROUTE_METRICS", "RouteImpact", "compare", "route_impact"]
