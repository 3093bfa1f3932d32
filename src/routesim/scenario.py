"""Scenario files: what to study, on which network, over which period.

A scenario is a YAML file validated by :class:`Scenario`. ``extends: base.yaml``
inherits another scenario: mappings merge key by key, anything else (lists,
numbers) in the child replaces the base's value.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date as Date
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, model_validator

from routesim import yamlio
from routesim.errors import InputFileError, Problem, RoutesimError, SelectorError, UnknownPlaceError
from routesim.events import Event, StrictModel, Vehicle, Where
from routesim.prices import Prices, Series

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
    """

    builtin: bool = True
    files: list[str] = Field(default_factory=list)
    inline: list[Event] = Field(default_factory=list)


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
        return self.period.start if self.period else self.date  # type: ignore[return-value]

    @property
    def end(self) -> Date:
        return self.period.end if self.period else self.date + timedelta(days=1)  # type: ignore[operator]


@dataclass
class _Doc:
    """Merged YAML of a scenario and the bases it extends, with origins of each key."""

    data: Any
    origin: dict[tuple, tuple[str, int]] = field(default_factory=dict)

    def line(self, loc: tuple) -> int | None:
        return self._where(loc)[1]

    def _where(self, loc: tuple) -> tuple[str | None, int | None]:
        loc = tuple(loc)
        while True:
            if loc in self.origin:
                return self.origin[loc]
            if not loc:
                return (None, None)
            loc = loc[:-1]

    def problem(self, loc: tuple, message: str) -> Problem:
        file, line = self._where(loc)
        return Problem(file or "<scenario>", line, yamlio.field_name(loc), message)


@dataclass
class LoadedScenario:
    """A validated scenario with where it came from."""

    scenario: Scenario
    path: Path
    sha256: str
    doc: _Doc
    files: list[Path]

    def resolve(self, relative: str) -> Path:
        """A path given in the scenario, relative to the file that gave it."""
        p = Path(relative)
        return p if p.is_absolute() else self.path.parent / p


def _merge(base: _Doc, child: yamlio.Located, loc: tuple = ()) -> None:
    def walk(dst: dict, src: dict, at: tuple) -> None:
        for key, value in src.items():
            here = (*at, key)
            if isinstance(value, dict) and isinstance(dst.get(key), dict):
                base.origin[here] = (str(child.path), child.lines.get(here, 0))
                walk(dst[key], value, here)
            else:
                dst[key] = value
                for k in [k for k in base.origin if k[: len(here)] == here]:
                    del base.origin[k]
                for k, line in child.lines.items():
                    if k[: len(here)] == here:
                        base.origin[k] = (str(child.path), line)

    walk(base.data, child.data, loc)


def _read(path: Path, stack: tuple[Path, ...]) -> tuple[_Doc, list[Path]]:
    located = yamlio.load(path)
    if not isinstance(located.data, dict):
        raise InputFileError([Problem(str(path), 1, "", "a scenario is a mapping (name, period, demand ...)")])
    ext = located.data.get("extends")
    if ext is None:
        doc = _Doc(data={}, origin={(): (str(path), 1)})
        files = [path]
    else:
        target = path.parent / str(ext)
        if target.resolve() in stack:
            raise InputFileError([located.problem(("extends",), "extends cycle")])
        if not target.is_file():
            raise InputFileError([located.problem(("extends",), f"file not found: {target}")])
        doc, files = _read(target, (*stack, target.resolve()))
        doc.data.pop("name", None)  # a child must name itself
        files = [*files, path]
    _merge(doc, located)
    doc.origin[()] = (str(path), 1)
    return doc, files


def load_scenario(path: str | Path, *, check_network: bool = True) -> LoadedScenario:
    """Read, merge (``extends``) and validate a scenario file.

    Parameters
    ----------
    path
        The scenario YAML.
    check_network
        Also check places, selectors and file references against the network
        (default ``True``).

    Raises
    ------
    InputFileError
        Every problem as ``file:line: field: problem``.
    """
    path = Path(path)
    doc, files = _read(path, (path.resolve(),))
    data = dict(doc.data)
    data.pop("extends", None)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise InputFileError(yamlio.problems_from(exc, doc)) from None
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.read_bytes())
    loaded = LoadedScenario(scenario, path, digest.hexdigest(), doc, files)
    if check_network:
        problems = check(loaded)
        if problems:
            raise InputFileError(problems)
    return loaded


def check(loaded: LoadedScenario) -> list[Problem]:
    """Semantic checks: files exist, places and selectors resolve, dates in the period."""
    from routesim.io import load_network

    sc, doc = loaded.scenario, loaded.doc
    problems: list[Problem] = []
    if sc.network != "syria" and not loaded.resolve(sc.network).is_file():
        return [doc.problem(("network",), f"network file not found: {loaded.resolve(sc.network)}")]
    try:
        net = load_network(sc.network if sc.network == "syria" else loaded.resolve(sc.network))
    except RoutesimError as exc:
        return [doc.problem(("network",), str(exc))]
    for i, f in enumerate(sc.events.files):
        if not loaded.resolve(f).is_file():
            problems.append(doc.problem(("events", "files", i), f"file not found: {loaded.resolve(f)}"))
    for name in ("diesel", "exchange_rate"):
        spec = getattr(sc.costs, name)
        if spec.file and not loaded.resolve(spec.file).is_file():
            problems.append(doc.problem(("costs", name, "file"), f"file not found: {loaded.resolve(spec.file)}"))
    for i, d in enumerate(sc.demand):
        nodes = []
        for key in ("origin", "destination"):
            try:
                nodes.append(net.node_index(getattr(d, key)))
            except UnknownPlaceError as exc:
                problems.append(doc.problem(("demand", i, key), str(exc)))
        if len(nodes) == 2 and nodes[0] == nodes[1]:
            problems.append(doc.problem(("demand", i, "destination"), f"same place as the origin ({d.origin})"))
    seen: set[str] = set()
    for i, d in enumerate(sc.demand):
        names = [] if d.id is None else [d.id, *([f"{d.id}-back"] if d.both_directions else [])]
        clash = [x for x in names if x in seen]
        if clash:
            problems.append(doc.problem(("demand", i, "id"), f"flow id {clash[0]!r} is already used"))
        seen.update(names)
    for i, c in enumerate(sc.closures):
        try:
            net.select(closure_event(c, i, sc).selector())
        except SelectorError as exc:
            problems.append(doc.problem(("closures", i, "where"), str(exc)))
        for key in ("date", "end"):
            day = getattr(c, key)
            if day is not None and not (sc.start <= day <= sc.end):
                problems.append(doc.problem(("closures", i, key), f"{day} is outside the period {sc.start} – {sc.end}"))
        if c.date and c.end and c.end <= c.date:
            problems.append(doc.problem(("closures", i, "end"), "must be after date"))
    for i, ev in enumerate(sc.events.inline):
        try:
            net.select(ev.selector())
        except SelectorError as exc:
            problems.append(doc.problem(("events", "inline", i, "where"), str(exc)))
    return problems


def closure_event(c: Closure, i: int, sc: Scenario) -> Event:
    """The event a closure shorthand stands for."""
    return Event(
        id=f"closure-{i + 1}", date=c.date or sc.start, end=c.end, action="close", where=c.where,
        applies_to=c.vehicles, source="scenario closure", tags=["scenario"],
    )


def prices(loaded: LoadedScenario) -> Prices:
    """The scenario's diesel and exchange-rate series."""
    def series(spec: PriceSpec) -> Series:
        if spec.value is not None:
            return Series.constant(spec.value)
        if spec.series is not None:
            return Series.from_points([(p.date, p.value) for p in spec.series])
        return Series.from_csv(loaded.resolve(spec.file or ""))

    c = loaded.scenario.costs
    return Prices(diesel=series(c.diesel), exchange=series(c.exchange_rate), diesel_currency=c.diesel.currency)
