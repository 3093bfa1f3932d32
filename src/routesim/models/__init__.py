"""File models: the pydantic classes behind event and scenario YAML files.

Models only describe and validate what a file may say; they know nothing of a
network. Checks that need one (places exist, selectors resolve) are made by the
layers that hold a network (:mod:`routesim.events`, :mod:`routesim.runner`).
The JSON Schemas exported from these classes (:mod:`routesim.models.schema`)
are the published contract of the files.
"""

from routesim.models.base import StrictModel
from routesim.models.events import Event, EventFile, Fee, Restriction
from routesim.models.scenario import Scenario
from routesim.models.selectors import Area, AreaWhere, BBoxWhere, Selector, Where
from routesim.models.vehicles import VEHICLES, Vehicle, vehicle_index

__all__ = [
    "VEHICLES",
    "Area",
    "AreaWhere",
    "BBoxWhere",
    "Event",
    "EventFile",
    "Fee",
    "Restriction",
    "Scenario",
    "Selector",
    "StrictModel",
    "Vehicle",
    "Where",
    "vehicle_index",
]
