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
from routesim.models.uncertainty import Uncertainty
from routesim.models.vehicles import Vehicle

#: Who travels; the same names as routesim.control.ACTORS (the file models know nothing of control).
Actor = Literal["commercial", "un", "military", "civilian"]

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


class EventMatch(StrictModel):
    """Events of the library or the event files, by ``id`` or by ``tag`` (both given: both must match).

    Example::

        exclude: [{id: m5-hama-aleppo-2012}, {tag: checkpoint}]
    """

    id: Annotated[str, Field(min_length=1)] | None = None
    tag: Annotated[str, Field(min_length=1)] | None = None

    @model_validator(mode="after")
    def _something(self) -> EventMatch:
        if self.id is None and self.tag is None:
            raise ValueError("give id or tag")
        return self

    def matches(self, event: Event) -> bool:
        """Whether ``event`` is one of those meant."""
        return (self.id is None or event.id == self.id) and (self.tag is None or self.tag in event.tags)


class EventShift(EventMatch):
    """Move events in time: their ``date`` and ``end`` by ``shift_days`` (negative: earlier).

    Example::

        shift: [{tag: m5, shift_days: -365}]
    """

    shift_days: int


class Hold(StrictModel):
    """A road held open or closed over a period, whatever the other events and the ground say.

    ``date`` defaults to the start of the study, ``end`` (exclusive) to none:
    held to the end. ``vehicles`` defaults to every class.

    Example::

        holds:
          - {where: M5:Hama:Aleppo, state: open, date: 2019-02-22, end: 2020-02-22}
    """

    id: Annotated[str, Field(min_length=1, max_length=120)] | None = None
    where: Where
    state: Literal["open", "close"]
    date: Date | None = None
    end: Date | None = None
    vehicles: list[Vehicle] | None = None
    source: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Hold:
        if self.date is not None and self.end is not None and self.end <= self.date:
            raise ValueError(f"end: {self.end} must be after date {self.date}")
        return self


class EventsConfig(StrictModel):
    """Which events apply, and how a what-if overrides them.

    Example::

        events:
          builtin: true              # the sourced 2011-2026 library
          files: [extra-events.yaml] # relative to the file this is written in; builtin:m5 for a library file
          inline:
            - {id: my-cut, date: 2016-05-01, action: close, where: M5:Homs:Hama}
          exclude: [{id: m5-saraqib-2020}, {tag: checkpoint}]   # library and file events left out
          shift: [{tag: m5, shift_days: -365}]                   # library and file events moved in time
          holds:
            - {where: M5:Hama:Aleppo, state: open, date: 2019-02-22, end: 2020-02-22}
          control: true              # who held the ground (data/control; docs/control.md)
          control_files: [my-control/]   # more control tables or GeoJSON layers, relative to the file

    Priority, from the weakest: (1) the library and the event files, after
    ``exclude`` and ``shift``, with the scenario's ``inline`` events and
    ``closures``, in date order: a later event overrides an earlier one on the
    same segments and an ``end`` restores what was in force before; on the
    same day the scenario's own events apply after the others' (they win),
    then by action (``open`` < ``restrict`` < ``close``). (2) The ground of
    ``control``: front lines and sieges close their edges whatever the events
    say. (3) ``holds``, over their period, whatever (1) and (2) say: a road
    held open is open and unrestricted, a road held closed is closed; where
    two holds overlap, the later in the list wins. So a what-if "the M5
    reopened a year earlier" is a hold; an inline ``open`` would be undone by
    the next library closure of the same road.
    """

    builtin: bool = True
    files: list[str] = Field(default_factory=list)
    inline: list[Event] = Field(default_factory=list)
    #: Library and file events left out (by id or tag). Each must match some event.
    exclude: list[EventMatch] = Field(default_factory=list)
    #: Library and file events moved by ``shift_days`` (after ``exclude``). Each must match some event.
    shift: list[EventShift] = Field(default_factory=list)
    #: Roads held open or closed over a period whatever other events and the ground say.
    holds: list[Hold] = Field(default_factory=list)
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

    @model_validator(mode="after")
    def _ordered(self) -> Closure:
        if self.date is not None and self.end is not None and self.end <= self.date:
            raise ValueError(f"end: {self.end} must be after date {self.date}")
        return self


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


#: Which price a row of a diesel series is (the ``kind`` column of ``data/prices/diesel_syp.csv``).
PriceKind = Literal["official", "subsidised", "market"]


class PricePoint(StrictModel):
    """One dated value of a series: ``{date: 2016-06-01, value: 180}`` (the value holds from that day on)."""

    date: Date
    value: Annotated[float, Field(gt=0)]


class PriceSpec(StrictModel):
    """A dated price: a constant ``value``, a ``series`` of dated values, or a CSV ``file``
    (columns ``date,value``; relative to the file it is written in, or ``builtin:NAME`` for
    shipped data). Give at most one; none: the sourced series shipped in ``data/prices/``.

    Example::

        exchange_rate: {series: [{date: 2016-01-01, value: 390}, {date: 2016-03-01, value: 440}]}
    """

    value: Annotated[float, Field(gt=0)] | None = None
    series: list[PricePoint] | None = None
    file: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> PriceSpec:
        if sum(x is not None for x in (self.value, self.series, self.file)) > 1:
            raise ValueError("give at most one of value, series or file (none: the sourced series)")
        return self

    @property
    def sourced(self) -> bool:
        """Whether the price is the shipped sourced series (no value, series or file given)."""
        return self.value is None and self.series is None and self.file is None

    @property
    def shipped(self) -> bool:
        """Whether the price comes from data shipped with routesim (the default or a ``builtin:`` file)."""
        return self.sourced or (self.file or "").startswith("builtin:")


class DieselPrice(PriceSpec):
    """The diesel price per litre.

    ``currency`` (``SYP`` or ``USD``) is required with a ``value``, a ``series``
    or a file of your own: a bare number is never guessed. The shipped series
    (no source given, or ``file: builtin:diesel_syp``) is in SYP. ``kind``
    chooses the rows of a series file that has a ``kind`` column: ``official``
    (the state price of 2011-2015), ``subsidised`` (the state's subsidised
    allocation price from 2016; before that the official price, which was the
    subsidised one) or ``market`` (informal, black and free-market prices,
    sourced from 2021-02; before the first market row, the subsidised series).
    Default kind: ``market``, the price a truck pays for fuel beyond an
    allocation. See ``data/prices/README.md``.

    Example::

        diesel: {kind: subsidised}              # the sourced subsidised series, SYP per litre

    A constant: ``diesel: {value: 0.55, currency: USD}``.
    """

    currency: Literal["SYP", "USD"] | None = None
    kind: PriceKind | None = None

    @model_validator(mode="after")
    def _currency_and_kind(self) -> DieselPrice:
        if self.shipped:
            if self.currency == "USD":
                raise ValueError("the shipped diesel series is in SYP per litre: leave currency out or give SYP")
            self.currency = "SYP"
        elif self.currency is None:
            given = "value" if self.value is not None else "series" if self.series is not None else "file"
            raise ValueError(f"currency: required with a diesel {given} (SYP or USD per litre)")
        if self.kind is not None and (self.value is not None or self.series is not None):
            raise ValueError("kind chooses the rows of a series file; it does not apply to a value or series")
        return self

    @property
    def series_kind(self) -> PriceKind:
        """The kind of diesel price used from a series file (default ``market``)."""
        return self.kind or "market"


class ExchangeRate(PriceSpec):
    """Syrian pounds per US dollar (no currency: it is SYP per USD). Default: the sourced series.

    Example::

        exchange_rate: {value: 440}
    """


class Costs(StrictModel):
    """Prices and unit costs.

    ``diesel`` defaults to the sourced market series in SYP per litre and
    ``exchange_rate`` to the sourced series of SYP per USD
    (``data/prices/``, both dated step functions): a study of 2016 is priced
    at the 2016 values. A price more than :data:`routesim.demand.prices.PLAUSIBLE_FACTOR`
    times above or below the sourced values around its date is warned about.

    Example::

        costs:
          diesel: {currency: SYP, value: 180}
          exchange_rate: {series: [{date: 2016-01-01, value: 390}, {date: 2016-03-01, value: 440}]}
          value_of_time_usd_h: 10
    """

    diesel: DieselPrice = Field(default_factory=DieselPrice)
    exchange_rate: ExchangeRate = Field(default_factory=ExchangeRate)
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
    stranded. ``checkpoint_servers``: lanes per direction of a checkpoint queue
    (``restrict: {queue: ...}``) that gives none; ``checkpoint_service``: distribution of
    a queue's service times around its mean, ``1 / trucks_per_hour`` (``exponential``,
    ``lognormal`` with coefficient of variation ``checkpoint_service_cv``, or ``fixed``).
    A checkpoint's ``delay_min`` is no queue: it is time added to every truck. ``night_ban``: trucks do
    not enter roads flagged ``night_unsafe`` between 20:00 and 05:00 (roads closed
    at night by events are always avoided then). ``background_pcu_share``: non-freight traffic as a
    share of road capacity, for congestion. ``drain``: after the period, follow the
    trucks already dispatched to their arrival (or stranding), with no new
    departures, for at most ``drain_limit_days`` days (default 60); a short study
    (a one-day convoy) then has no trip left ``in_transit``.

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
    drain: bool = False
    drain_limit_days: Annotated[int, Field(ge=1, le=366)] = 60


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
          diesel: {value: 180, currency: SYP}
          exchange_rate: {value: 440}
    """

    name: Annotated[str, Field(min_length=1, max_length=100)]
    description: str = ""
    extends: str | None = None
    network: str = "syria"
    #: Who travels (``commercial``, ``un``, ``military``, ``civilian``): which crossings of front
    #: lines the study's trucks may use (docs/control.md).
    actor: Actor = "commercial"
    period: Period | None = None
    date: Date | None = None
    events: EventsConfig = Field(default_factory=EventsConfig)
    closures: list[Closure] = Field(default_factory=list)
    demand: list[Demand] = Field(default_factory=list)
    vehicles: dict[str, VehicleSpec] = Field(default_factory=lambda: {"truck": VehicleSpec()})
    costs: Costs = Field(default_factory=Costs)
    simulation: Simulation = Field(default_factory=Simulation)
    outputs: Outputs = Field(default_factory=Outputs)
    uncertainty: Uncertainty | None = None

    @model_validator(mode="after")
    def _checks(self) -> Scenario:
        if not _NAME.fullmatch(self.name):
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


def hold_event(h: Hold, i: int, sc: Scenario) -> Event:
    """The event a hold stands for (an ``open`` or a ``close``; applied above every other, see
    :class:`EventsConfig`)."""
    return Event(
        id=h.id or f"hold-{i + 1}", date=h.date or sc.start, end=h.end, action=h.state, where=h.where,
        applies_to=h.vehicles, source=h.source or "scenario hold", tags=["scenario", "hold"],
    )


def closure_event(c: Closure, i: int, sc: Scenario) -> Event:
    """The event a closure shorthand stands for."""
    return Event(
        id=f"closure-{i + 1}", date=c.date or sc.start, end=c.end, action="close", where=c.where,
        applies_to=c.vehicles, source="scenario closure", tags=["scenario"],
    )
