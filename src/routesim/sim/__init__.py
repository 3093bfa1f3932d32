"""The freight simulation (simpy): trucks dispatched, driven, queued, rerouted, stranded.

Modules, from the bottom up: :mod:`~routesim.sim.model` (settings, results and
the model's description), :mod:`~routesim.sim.world` (the state processes
share), :mod:`~routesim.sim.traffic` (capacities, congestion, night waits,
checkpoint service), :mod:`~routesim.sim.movement` (truck processes, reroutes),
:mod:`~routesim.sim.dispatch` (departures and the day controller),
:mod:`~routesim.sim.tables` (result tables), :mod:`~routesim.sim.engine`
(:func:`simulate`), :mod:`~routesim.sim.draws` (uncertain inputs per replication),
:mod:`~routesim.sim.tripfile` (trips written as replications finish) and
:mod:`~routesim.sim.replications`.
"""

from routesim.sim.engine import simulate
from routesim.sim.model import SimConfig, SimResult
from routesim.sim.replications import ScenarioSimulation, interval, replication_seeds, run_replications

__all__ = ["ScenarioSimulation", "SimConfig", "SimResult", "interval", "replication_seeds", "run_replications",
           "simulate"]
