"""routesim: route and logistics impact simulator for Syria's road network.

The data flows one way: scenario -> network state at a date -> routes ->
simulation -> results. Start with :func:`load_network`.

The names below are the public API. They are imported on first use, so that
``import routesim`` (and the command line's start) stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from routesim._util.lazy import lazy_exports
from routesim._util.version import __version__
from routesim.errors import InputFileError, NetworkError, RoutesimError, SelectorError, UnknownPlaceError

if TYPE_CHECKING:
    from routesim.analysis.compare import compare
    from routesim.analysis.impact import RouteImpact, route_impact
    from routesim.demand.costs import DailyPrices, TripCosts, trip_costs
    from routesim.demand.flows import Flow, TruckClass, scenario_flows
    from routesim.demand.prices import Prices, Series
    from routesim.events.effects import register_effect
    from routesim.events.eventset import Epoch, EventSet, load_events
    from routesim.events.timeline import timeline
    from routesim.io.graphfiles import load_network, save_network
    from routesim.models.events import Event
    from routesim.models.scenario import Scenario
    from routesim.network.graph import Network
    from routesim.network.places import Place, PlaceIndex
    from routesim.network.route import Detour, Route
    from routesim.network.state import NetworkState
    from routesim.runner.run import run_scenario
    from routesim.runner.validate import load_scenario
    from routesim.sim.engine import simulate
    from routesim.sim.model import SimConfig, SimResult

_LAZY = {
    "compare": "routesim.analysis.compare",
    "RouteImpact": "routesim.analysis.impact",
    "route_impact": "routesim.analysis.impact",
    "DailyPrices": "routesim.demand.costs",
    "TripCosts": "routesim.demand.costs",
    "trip_costs": "routesim.demand.costs",
    "Flow": "routesim.demand.flows",
    "TruckClass": "routesim.demand.flows",
    "scenario_flows": "routesim.demand.flows",
    "Prices": "routesim.demand.prices",
    "Series": "routesim.demand.prices",
    "register_effect": "routesim.events.effects",
    "Epoch": "routesim.events.eventset",
    "EventSet": "routesim.events.eventset",
    "load_events": "routesim.events.eventset",
    "timeline": "routesim.events.timeline",
    "load_network": "routesim.io.graphfiles",
    "save_network": "routesim.io.graphfiles",
    "Event": "routesim.models.events",
    "Scenario": "routesim.models.scenario",
    "Network": "routesim.network.graph",
    "Place": "routesim.network.places",
    "PlaceIndex": "routesim.network.places",
    "Detour": "routesim.network.route",
    "Route": "routesim.network.route",
    "NetworkState": "routesim.network.state",
    "run_scenario": "routesim.runner.run",
    "load_scenario": "routesim.runner.validate",
    "simulate": "routesim.sim.engine",
    "SimConfig": "routesim.sim.model",
    "SimResult": "routesim.sim.model",
}

__all__ = [
    "DailyPrices",
    "Detour",
    "Epoch",
    "Event",
    "EventSet",
    "Flow",
    "InputFileError",
    "Network",
    "NetworkError",
    "NetworkState",
    "Place",
    "PlaceIndex",
    "Prices",
    "Route",
    "RouteImpact",
    "RoutesimError",
    "Scenario",
    "SelectorError",
    "Series",
    "SimConfig",
    "SimResult",
    "TripCosts",
    "TruckClass",
    "UnknownPlaceError",
    "__version__",
    "compare",
    "load_events",
    "load_network",
    "load_scenario",
    "register_effect",
    "route_impact",
    "run_scenario",
    "save_network",
    "scenario_flows",
    "simulate",
    "timeline",
    "trip_costs",
]


__getattr__, __dir__ = lazy_exports("routesim", _LAZY, globals(), __all__)
