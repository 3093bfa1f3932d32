"""Who held the ground: zones of control, front lines, crossings and sieges by date.

The tables (:mod:`routesim.control.tables`, ``data/control/``) say who held
each place when; :class:`ControlMap` turns them into impassable front-line and
siege edges on any network with places, for an actor (:data:`ACTORS`).
"""

from routesim.control.tables import (
    ACTORS,
    DEFAULT_ACTOR,
    ControlTables,
    Crossing,
    Held,
    Relation,
    Siege,
    control_dir,
    read_control,
)
from routesim.control.zones import CROSSING_KM, REACH_KM, ControlMap, GroundState

__all__ = [
    "ACTORS", "CROSSING_KM", "DEFAULT_ACTOR", "REACH_KM", "ControlMap", "ControlTables", "Crossing", "GroundState",
    "Held", "Relation", "Siege", "control_dir", "read_control",
]
