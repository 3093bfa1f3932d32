"""Scenario files: what to study, on which network, over which period.

A scenario is a YAML file validated by :class:`Scenario`. ``extends: base.yaml``
inherits another scenario: mappings merge key by key, anything else (lists,
numbers) in the child replaces the base's value.
"""

from __future__ import annotations

import re
from datetime import date as Date
from datetime import timedelta
from typing import Annotated, Literal

from pydantic import Field, model_validator

from routesim.models.base import StrictModel
from routesim.models.events import Event
from routesim.models.selectors import Where
from routesim.models.vehicles import Vehicle

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


class Period(StrictModel):
    """Study period; ``end`` is exclusive.

    Example::

        period: {start: 2016-01-01, end: 2017-01-01}
    """

    start: Date
    end: Date

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end <= self.start:
            raise ValueError(f"end {self.end} must be after start {self.start}")
        return self


class EventsConfig(StrictModel):
    """Which events apply.

    Example::

        events:
          builtin: true              # the sourced 2011-2026 library
          files: [extra-events.yaml] # relative to the scenario file
          inline:
            - {id: my-cut, date: 2016-05-01, action: close, where: M5:Homs:Hama}
          control: true              # who held the ground (data/control; docs/control.md)
          control_files: [my-control/]   # more control tables or GeoJSON layers, relative to the file
    """

    builtin: bool = True
    files: list[str] = Field(default_factory=list)
    inline: list[Event] = Field(default_factory=list)
    #: Apply who held the ground (front lines, crossings, sieges); ``false``: roads close by events only.
    #: Default: as ``builtin`` (the built-in history comes with its ground).
    control: bool | None = None
    #: Folders or files of control tables (``control.csv``, ``crossings.csv`` …, ``*.geojson``) added to the
    #: built-in ones.
    control_files: list[str] = Field(default_factory=list)


class Closure(StrictModel):
    """Shorthand for a closure event.

    Example::

        closures:
          - where: M5:Hama:Aleppo          # whole period
          - {where: Nasib crossing, date: 2016-06-01, end: 2016-07-01, vehicles: [truck]}
    """

    where: Where
    date: Date | None = None
    end: Date | None = None
    vehicles: list[Vehicle] | None = None


class Demand(StrictModel):
    """A freight flow between two places.

    Example::

        demand:
          - {origin: Damascus, destination: Aleppo, tons_per_day: 5000, commodity: general, both_directions: true}
          - {origin: Nasib crossing, destination: Damascus, trucks_per_day: 120, depart_window: [6, 18]}

    Departures are uniform in ``depart_window`` (hours, default 5-20) or follow
    ``depart_profile``: 24 relative weights of the hours 0-23.
    """

    id: str | None = None
    origin: str
    destination: str
    tons_per_day: Annotated[float, Field(ge=0)] | None = None
    trucks_per_day: Annotated[float, Field(ge=0)] | None = None
    commodity: str = "general"
    vehicle: str = "truck"
    load_factor: Annotated[float, Field(gt=0, le=1)] = 1.0
    depart_window: tuple[Annotated[float, Field(ge=0, le=24)], Annotated[float, Field(ge=0, le=24)]] = (5.0, 20.0)
    depart_profile: list[Annotated[float, Field(ge=0)]] | None = None
    both_directions: bool = False
    return_empty: bool = False

    @model_validator(mode="after")
    def _one_quantity(self) -> Demand:
        if (self.tons_per_day is None) == (self.trucks_per_day is None):
            raise ValueError("give exactly one of tons_per_day or trucks_per_day")
        if self.depart_window[1] <= self.depart_window[0]:
            raise ValueError("depart_window must be [earliest, latest] hours with earliest < latest")
        if self.depart_profile is not None:
            if len(self.depart_profile) != 24 or sum(self.depart_profile) <= 0:
                raise ValueError("depart_profile: give 24 hourly weights (hours 0-23) with a positive sum")
            if "depart_window" in self.model_fields_set:
                raise ValueError("give depart_window or depart_profile, not both")
        return self


class VehicleSpec(StrictModel):
    """A truck class.

    Example::

        vehicles:
          truck: {payload_t: 25, fuel_empty_l_100km: 28, fuel_loaded_l_100km: 38}
    """

    payload_t: Annotated[float, Field(gt=0)] = 25.0
    fuel_empty_l_100km: Annotated[float, Field(gt=0)] = 28.0
    fuel_loaded_l_100km: Annotated[float, Field(gt=0)] = 38.0
    speed_factor: Annotated[float, Field(gt=0, le=1)] = 1.0
    max_kph: Annotated[float, Field(gt=0)] | None = None


class PricePoint(StrictModel):
    date: Date
    value: Annotated[float, Field(gt=0)]


class PriceSpec(StrictModel):
    """A price: constant ``value``, a dated ``series`` or a CSV ``file`` (date,value).

    Example::

        diesel: {currency: SYP, series: [{date: 2015-08-13, value: 130}, {date: 2016-06-01, value: 180}]}
    """

    value: Annotated[float, Field(gt=0)] | None = None
    series: list[PricePoint] | None = None
    file: str | None = None
    currency: Literal["SYP", "USD"] = "SYP"

    @model_validator(mode="after")
    def _one_source(self) -> PriceSpec:
        if sum(x is not None for x in (self.value, self.series, self.file)) != 1:
            raise ValueError("give exactly one of value, series or file")
        return self


class Costs(StrictModel):
    """Prices and unit costs.

    Example::

        costs:
          diesel: {currency: SYP, value: 180}
          exchange_rate: {series: [{date: 2016-01-01, value: 390}, {date: 2016-03-01, value: 440}]}
          value_of_time_usd_h: 10
    """

    diesel: PriceSpec = Field(default_factory=lambda: PriceSpec(value=0.9, currency="USD"))
    exchange_rate: PriceSpec = Field(default_factory=lambda: PriceSpec(value=15000))
    value_of_time_usd_h: Annotated[float, Field(ge=0)] = 0.0
    fee_usd_per_trip: Annotated[float, Field(ge=0)] = 0.0


class Simulation(StrictModel):
    """Run settings.

    ``freight`` (default true) simulates the demand truck by truck (simpy); false
    keeps only the route-level estimate. ``replications`` runs the simulation with
    independent seeds derived from ``seed`` and reports means with 95 % intervals,
    in ``workers`` processes (default: automatic, one per CPU for large runs; the
    results do not depend on it).
    ``wait_limit_h``: how long a truck with no open route waits before it is
    stranded. ``checkpoint_servers``: inspection lanes per checkpoint and
    direction; ``checkpoint_service``: distribution of service times around the
    checkpoint's mean delay (``exponential``, ``lognormal`` with coefficient of
    variation ``checkpoint_service_cv``, or ``fixed``). ``night_ban``: trucks do
    not enter roads flagged ``night_unsafe`` between 20:00 and 05:00 (roads closed
    at night by events are always avoided then). ``background_pcu_share``: non-freight traffic as a
    share of road capacity, for congestion.

    Example::

        simulation: {seed: 7, replications: 5, wait_limit_h: 24}
    """

    seed: int = 1
    replications: Annotated[int, Field(ge=1, le=200)] = 1
    workers: Annotated[int, Field(ge=1, le=256)] | None = None
    freight: bool = True
    wait_limit_h: Annotated[float, Field(ge=0)] = 48.0
    checkpoint_servers: Annotated[int, Field(ge=1)] = 2
    checkpoint_service: Literal["exponential", "lognormal", "fixed"] = "exponential"
    checkpoint_service_cv: Annotated[float, Field(gt=0, le=5)] = 0.5
    night_ban: bool = False
    background_pcu_share: Annotated[float, Field(ge=0, le=5)] = 0.0


class Outputs(StrictModel):
    """Result files. ``trips_format``: ``csv`` (default) or ``parquet``."""

    trips: bool = True
    trips_format: Literal["csv", "parquet"] = "csv"


class Scenario(StrictModel):
    """A study: network, period, events, demand, vehicles, costs.

    Example::

        name: m5-closed-2016
        description: Desert-road era.
        period: {start: 2016-01-01, end: 2017-01-01}
        demand:
          - {origin: Damascus, destination: Aleppo, tons_per_day: 5000, both_directions: true}
        costs:
          diesel: {value: 180}
          exchange_rate: {value: 440}
    """

    name: Annotated[str, Field(min_length=1, max_length=100)]
    description: str = ""
    extends: str | None = None
    network: str = "syria"
    period: Period | None = None
    date: Date | None = None
    events: EventsConfig = Field(default_factory=EventsConfig)
    closures: list[Closure] = Field(default_factory=list)
    demand: list[Demand] = Field(default_factory=list)
    vehicles: dict[str, VehicleSpec] = Field(default_factory=lambda: {"truck": VehicleSpec()})
    costs: Costs = Field(default_factory=Costs)
    simulation: Simulation = Field(default_factory=Simulation)
    outputs: Outputs = Field(default_factory=Outputs)

    @model_validator(mode="after")
    def _checks(self) -> Scenario:
        if not _NAME.match(self.name):
            raise ValueError("name: use letters, digits, '-', '_' or '.' (it names the results folder)")
        if (self.period is None) == (self.date is None):
            raise ValueError("give exactly one of period or date")
        for i, d in enumerate(self.demand):
            if d.vehicle not in self.vehicles:
                known = sorted(self.vehicles)
                raise ValueError(f"demand[{i}].vehicle: unknown vehicle {d.vehicle!r}; defined: {known}")
        return self

    @property
    def start(self) -> Date:
        """First day studied."""
        if self.period is not None:
            return self.period.start
        assert self.date is not None  # the validator requires period or date
        return self.date

    @property
    def end(self) -> Date:
        """Day after the last one studied (exclusive)."""
        if self.period is not None:
            return self.period.end
        return self.start + timedelta(days=1)


def closure_event(c: Closure, i: int, sc: Scenario) -> Event:
    """The event a closure shorthand stands for."""
    return Event(
        id=f"closure-{i + 1}", date=c.date or sc.start, end=c.end, action="close", where=c.where,
        applies_to=c.vehicles, source="scenario closure", tags=["scenario"],
    )
