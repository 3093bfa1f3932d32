"""Analyses on routes: the route-level impact of a scenario, the comparison of runs, criticality of
links and the value of reopening closures."""

from routesim.analysis.compare import compare
from routesim.analysis.criticality import DemandRoutes, demand_losses, multi_link, sections, single_link
from routesim.analysis.impact import ROUTE_METRICS, RouteImpact, route_impact
from routesim.analysis.reopen import closures_in_force, reopen_day, reopen_period

__all__ = [
    "ROUTE_METRICS", "DemandRoutes", "RouteImpact", "closures_in_force", "compare", "demand_losses", "multi_link",
    "reopen_day", "reopen_period", "route_impact", "sections", "single_link",
]
