"""Choices shared by the commands (vehicle, actor, weight, table format).

Kept apart from the commands so that every command module takes the same
choices, and ``routesim --help`` imports no numpy.
"""

from __future__ import annotations

from enum import StrEnum


class Vehicle(StrEnum):
    car = "car"
    truck = "truck"


class Actor(StrEnum):
    """Who travels (routesim.control.ACTORS; mirrored here so that --help imports no numpy)."""

    commercial = "commercial"
    un = "un"
    military = "military"
    civilian = "civilian"


class Weight(StrEnum):
    time = "time"
    distance = "distance"


class TableFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
