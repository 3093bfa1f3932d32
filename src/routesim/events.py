"""Dated events that close, open or restrict road segments.

Events live in YAML files (see :class:`EventFile`); the built-in library is
``data/events/index.yaml``. The state of the network on a day is every event in
force that day (``date <= day < end``) applied in date order, so a later event
overrides an earlier one on the same segments and an ``end`` restores whatever
was in force before. Events starting on the same day are applied by action
precedence (``open`` < ``restrict`` < ``close``: the most restrictive wins), then
by id; when such events touch the same segments with different actions a warning
is recorded.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date as Date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from routesim import yamlio
from routesim.datafiles import events_dir
from routesim.effects import effect_names, get_effect
from routesim.errors import InputFileError, Problem, SelectorError
from routesim.state import VEHICLES, NetworkState, vehicle_index

if TYPE_CHECKING:
    from routesim.network import Network

Vehicle = Literal["car", "truck"]
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


class StrictModel(BaseModel):
    """Base of every file model: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


class Fee(StrictModel):
    """Fee charged per truck passage.

    Example::

        fee: {amount: 2000000, currency: SYP}
    """

    amount: Annotated[float, Field(ge=0)]
    currency: Literal["USD", "SYP"] = "USD"


class Restriction(StrictModel):
    """Restriction carried by an event with ``action: restrict``.

    Example::

        restrict:
          speed_factor: 0.6     # 60% of free-flow speed
          delay_min: 30         # checkpoint
          fee: {amount: 150, currency: USD}
          exclude: [truck]      # trucks banned
          night_closed: true    # no traffic 20:00-05:00

    ``night_closed`` is a layer of its own: it stays set until an event sets it
    false or opens the segment to every vehicle, whatever other restrictions
    start and end meanwhile (omitted: unchanged).
    """

    speed_factor: Annotated[float, Field(gt=0, le=1)] | None = None
    capacity_factor: Annotated[float, Field(gt=0, le=1)] | None = None
    delay_min: Annotated[float, Field(ge=0)] | None = None
    fee: Fee | None = None
    exclude: list[Vehicle] = Field(default_factory=list)
    night_closed: bool | None = None


class Area(StrictModel):
    """A circle around a place or a point.

    Example::

        area: {place: Khanasir, radius_km: 15}
    """

    place: str | None = None
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180)] | None = None
    radius_km: Annotated[float, Field(gt=0)]

    @model_validator(mode="after")
    def _center(self) -> Area:
        if (self.place is None) == (self.lat is None or self.lon is None):
            raise ValueError("give either place, or both lat and lon")
        return self


class AreaWhere(StrictModel):
    """Every segment with a point inside a circle: ``{area: {...}}``."""

    area: Area


class BBoxWhere(StrictModel):
    """Every segment with a point inside ``[west, south, east, north]``."""

    bbox: tuple[float, float, float, float]

    @field_validator("bbox")
    @classmethod
    def _ordered(cls, v: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        if not (v[0] < v[2] and v[1] < v[3]):
            raise ValueError("expected [west, south, east, north] with west < east, south < north")
        return v


WhereItem = Annotated[str, Field(min_length=1)] | AreaWhere | BBoxWhere
Where = WhereItem | Annotated[list[WhereItem], Field(min_length=1)]


class Event(StrictModel):
    """A dated change of some road segments.

    Example::

        - id: m5-saraqib-2020
          date: 2020-02-27
          end: 2020-03-02          # exclusive; absent = until overridden
          action: close            # close | open | restrict | a registered effect
          where: M5:Maarat al-Numan:Aleppo
          applies_to: [car, truck] # default: every vehicle class
          source: "southfront.press 2020-02-27"
          note: "Saraqib retaken by the opposition; retaken by the army 2 March."
          tags: [m5]
    """

    id: Annotated[str, Field(min_length=1, max_length=120)]
    date: Date
    end: Date | None = None
    action: Annotated[str, Field(json_schema_extra={"examples": ["close", "open", "restrict"]})]
    where: Where
    applies_to: list[Vehicle] | None = None
    restrict: Restriction | None = None
    params: dict[str, Any] | None = None
    source: str | None = None
    note: str | None = None
    tags: list[str] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _id_chars(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError("use letters, digits, '-', '_' or '.', starting with a letter or digit")
        return v

    @field_validator("action")
    @classmethod
    def _known_action(cls, v: str) -> str:
        if v not in effect_names():
            raise ValueError(f"unknown action {v!r}; expected one of {', '.join(effect_names())}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Event:
        if self.end is not None and self.end <= self.date:
            raise ValueError(f"end {self.end} must be after date {self.date}")
        if self.restrict is not None and self.action != "restrict":
            raise ValueError("'restrict' is only allowed with action: restrict")
        if self.action == "restrict" and self.restrict is None:
            raise ValueError("action: restrict needs a 'restrict' block")
        return self

    @property
    def vehicles(self) -> list[int]:
        """Vehicle rows this event applies to."""
        return [vehicle_index(v) for v in (self.applies_to or VEHICLES)]

    def selector(self) -> Any:
        """``where`` as a plain selector for :func:`routesim.selectors.resolve`."""
        def plain(item: Any) -> Any:
            return item.model_dump(exclude_none=True) if isinstance(item, BaseModel) else item

        return [plain(w) for w in self.where] if isinstance(self.where, list) else plain(self.where)

    def active_on(self, day: Date) -> bool:
        return self.date <= day and (self.end is None or day < self.end)


class EventFile(StrictModel):
    """A YAML file of events; ``include`` pulls in other files (relative paths).

    Example::

        include: [borders.yaml]
        events:
          - id: m5-hama-aleppo-closed
            date: 2012-10-11
            action: close
            where: M5:Hama:Aleppo
            source: "brecorder.com 2012-10-11"
    """

    include: list[str] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)


@dataclass(frozen=True)
class EventRecord:
    """An event with the file and line it came from."""

    event: Event
    file: str
    line: int | None
    where_line: int | None


def read_event_files(
    paths: Iterable[str | Path], *, require_source: bool = False
) -> tuple[list[EventRecord], list[Problem]]:
    """Read event files and their includes, in order.

    Returns
    -------
    (records, problems)
        The valid events, and every problem found (``file:line: field: problem``).
    """
    records: list[EventRecord] = []
    problems: list[Problem] = []
    seen_files: set[Path] = set()
    seen_ids: dict[str, EventRecord] = {}

    def visit(path: Path, stack: tuple[Path, ...]) -> None:
        real = path.resolve()
        if real in stack:
            problems.append(Problem(str(path), None, "include", "include cycle"))
            return
        if real in seen_files:
            return
        seen_files.add(real)
        try:
            doc = yamlio.load(path)
        except InputFileError as exc:
            problems.extend(exc.problems)
            return
        if not isinstance(doc.data, dict):
            problems.append(Problem(str(path), 1, "", "expected a mapping with 'events' (and optional 'include')"))
            return
        data = dict(doc.data)
        items = data.get("events") or []
        try:
            parsed = EventFile.model_validate({**data, "events": []})
        except ValidationError as exc:
            problems.extend(yamlio.problems_from(exc, doc))
            return
        if not isinstance(items, list):
            problems.append(doc.problem(("events",), "expected a list of events"))
            items = []
        for i, inc in enumerate(parsed.include):
            target = (path.parent / inc)
            if not target.is_file():
                problems.append(doc.problem(("include", i), f"included file not found: {target}"))
                continue
            visit(target, (*stack, real))
        for i, item in enumerate(items):
            try:
                ev = Event.model_validate(item)
            except ValidationError as exc:
                problems.extend(yamlio.problems_from(exc, doc, loc=("events", i)))
                continue
            rec = EventRecord(ev, str(path), doc.line(("events", i)), doc.line(("events", i, "where")))
            if require_source and not (ev.source or "").strip():
                problems.append(doc.problem(("events", i, "source"), "required in the built-in library"))
            if ev.id in seen_ids:
                first = seen_ids[ev.id]
                problems.append(
                    doc.problem(("events", i, "id"), f"duplicate id {ev.id!r} (first at {first.file}:{first.line})")
                )
                continue
            seen_ids[ev.id] = rec
            records.append(rec)

    for p in paths:
        visit(Path(p), ())
    return records, problems


def builtin_library_path() -> Path:
    return events_dir() / "index.yaml"


@dataclass
class EventSet:
    """Events bound to a network: resolved selectors, states by date, epochs."""

    network: Network
    records: list[EventRecord]
    warnings: list[str] = field(default_factory=list)
    _masks: list[np.ndarray] = field(default_factory=list, repr=False)
    _states: dict[tuple[str, ...], NetworkState] = field(default_factory=dict, repr=False)

    problems: list[Problem] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        problems = list(self.problems)
        for rec in self.records:
            try:
                self._masks.append(self.network.select(rec.event.selector()))
            except SelectorError as exc:
                problems.append(Problem(rec.file, rec.where_line, "where", str(exc)))
        if problems:
            raise InputFileError(problems)
        order = sorted(range(len(self.records)), key=self._sort_key)
        self.records = [self.records[i] for i in order]
        self._masks = [self._masks[i] for i in order]
        self.warnings = self._same_day_conflicts()

    def _sort_key(self, i: int) -> tuple[Date, int, str]:
        ev = self.records[i].event
        return (ev.date, get_effect(ev.action).precedence, ev.id)

    def _same_day_conflicts(self) -> list[str]:
        out = []
        for i, a in enumerate(self.records):
            for j in range(i + 1, len(self.records)):
                b = self.records[j]
                if b.event.date != a.event.date:
                    break
                if a.event.action != b.event.action and (self._masks[i] & self._masks[j]).any():
                    out.append(
                        f"events {a.event.id!r} ({a.event.action}) and {b.event.id!r} "
                        f"({b.event.action}) start on {a.event.date} on the same segments; "
                        f"{b.event.id!r} is applied last and wins"
                    )
        return out

    @property
    def events(self) -> list[Event]:
        return [r.event for r in self.records]

    def __len__(self) -> int:
        return len(self.records)

    def mask(self, event_id: str) -> np.ndarray:
        for rec, m in zip(self.records, self._masks, strict=True):
            if rec.event.id == event_id:
                return m
        raise KeyError(event_id)

    def state_at(self, day: Date) -> NetworkState:
        """Network state on ``day`` (cached per set of active events)."""
        active = [i for i, r in enumerate(self.records) if r.event.active_on(day)]
        key = tuple(self.records[i].event.id for i in active)
        state = self._states.get(key)
        if state is None:
            state = self.network.base_state()
            for i in active:
                ev = self.records[i].event
                get_effect(ev.action).apply(state, self._masks[i], ev.vehicles, ev)
            state = replace(state, events=key, _key=[])
            self._states[key] = state
        return replace(state, date=day)

    def boundaries(self, start: Date, end: Date) -> list[Date]:
        """Days in ``(start, end)`` on which some event starts or ends."""
        days = {start}
        for r in self.records:
            for d in (r.event.date, r.event.end):
                if d is not None and start < d < end:
                    days.add(d)
        return sorted(days)

    def epochs(self, start: Date, end: Date) -> list[Epoch]:
        """Periods ``[start, end)`` over which the state is constant."""
        if end <= start:
            raise ValueError(f"end {end} must be after start {start}")
        cuts = [*self.boundaries(start, end), end]
        out = []
        for a, b in itertools.pairwise(cuts):
            out.append(
                Epoch(
                    start=a, end=b,
                    started=tuple(r.event.id for r in self.records if r.event.date == a),
                    ended=tuple(r.event.id for r in self.records if r.event.end == a),
                )
            )
        return out


@dataclass(frozen=True)
class Epoch:
    """A period ``[start, end)`` of constant network state."""

    start: Date
    end: Date
    started: tuple[str, ...] = ()
    ended: tuple[str, ...] = ()

    @property
    def days(self) -> int:
        return (self.end - self.start).days


def load_events(
    network: Network,
    files: Sequence[str | Path] = (),
    *,
    builtin: bool = True,
    extra: Sequence[EventRecord] = (),
) -> EventSet:
    """Event set for ``network``: the built-in library (unless ``builtin=False``),
    plus ``files``, plus ``extra`` records (e.g. a scenario's inline events)."""
    records, problems = (
        read_event_files([builtin_library_path()], require_source=True) if builtin else ([], [])
    )
    known = {r.event.id: r for r in records}
    user_records, user_problems = read_event_files(files)
    problems += user_problems
    for rec in [*user_records, *extra]:
        if rec.event.id in known:
            first = known[rec.event.id]
            problems.append(
                Problem(rec.file, rec.line, "id", f"duplicate id {rec.event.id!r} (first at {first.file}:{first.line})")
            )
        records.append(rec)
    return EventSet(network, records, problems=problems)


def as_event_set(network: Network, events: EventSet | Iterable[str | Path] | str | Path | None) -> EventSet:
    """Interpret the ``events`` argument of the API.

    ``None`` -> the built-in library; ``"none"`` -> no events; a path or list of
    paths -> the built-in library plus those files (add ``"none"`` to the list to
    leave the library out); an :class:`EventSet` is used as is.
    """
    if isinstance(events, EventSet):
        return events
    if events is None:
        if network._events is None:
            network.bind_events(load_events(network))
        assert network._events is not None
        return network._events
    items = [events] if isinstance(events, str | Path) else list(events)
    builtin = not any(str(i).lower() == "none" for i in items)
    files = [i for i in items if str(i).lower() not in ("none", "builtin")]
    if builtin and not files:
        return as_event_set(network, None)
    return load_events(network, files, builtin=builtin)
