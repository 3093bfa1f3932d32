"""Running studies: check a scenario against its network, run it, write its result folder."""

from routesim.runner.run import run_scenario, scenario_events
from routesim.runner.validate import check, load_scenario, scenario_network

__all__ = ["check", "load_scenario", "run_scenario", "scenario_events", "scenario_network"]
