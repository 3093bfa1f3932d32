"""Dated events that close, open or restrict road segments.

Events live in YAML files (see :class:`routesim.models.EventFile`); the built-in library is
``data/events/index.yaml``. The state of the network on a day is every event in
force that day (``date <= day < end``) applied in date order, so a later event
overrides an earlier one on the same segments and an ``end`` restores whatever
was in force before. Events starting on the same day are applied by tier (a
scenario's own events after the library's), then by action precedence
(``open`` < ``restrict`` < ``close``: the most restrictive wins), then by id;
when such events touch the same segments with different actions a warning is
recorded. The ground of :mod:`routesim.control` applies on top of the events,
and a scenario's holds (tier ``TIER_HOLD``) on top of everything
(:class:`routesim.models.scenario.EventsConfig` states the rule).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date as Date
from pathlib import Path

import numpy as np

from routesim.control import DEFAULT_ACTOR, ControlMap, ControlTables, read_control
from routesim.errors import InputFileError, Problem, SelectorError
from routesim.events.effects import effect_names, get_effect
from routesim.events.files import (
    TIER_HOLD,
    EventRecord,
    builtin_library_path,
    edit_records,
    read_event_files,
    unknown_action,
)
from routesim.events.maskcache import MaskResolver
from routesim.models.events import Event
from routesim.models.scenario import EventMatch, EventShift
from routesim.network.graph import Network
from routesim.network.state import NetworkState

#: Same-day conflicts listed one by one; beyond, a count.
MAX_CONFLICT_WARNINGS = 20
#: States kept by :meth:`EventSet.state_at`, the oldest dropped first.
STATE_CACHE = 16


@dataclass
class EventSet:
    """Events bound to a network: resolved selectors, states by date, epochs."""

    network: Network
    records: list[EventRecord]
    warnings: list[str] = field(default_factory=list)
    #: Who held the ground (:mod:`routesim.control`); applied on top of the events. ``None``: ignored.
    control: ControlMap | None = None
    _masks: list[np.ndarray] = field(default_factory=list, repr=False)
    _states: dict[tuple[object, ...], NetworkState] = field(default_factory=dict, repr=False)

    problems: list[Problem] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        problems = list(self.problems)
        # Masks come from the network's cache when it has one (see routesim.events.maskcache).
        resolver = MaskResolver(self.network)
        for rec in self.records:
            if rec.event.action not in effect_names():
                problems.append(Problem(rec.file, rec.line_of("action"), "action", unknown_action(rec.event.action)))
            try:
                self._masks.append(resolver.mask(rec.event.selector()))
            except SelectorError as exc:
                problems.append(Problem(rec.file, rec.line_of("where"), "where", str(exc)))
        resolver.flush()
        if problems:
            raise InputFileError(problems)
        order = sorted(range(len(self.records)), key=self._sort_key)
        self.records = [self.records[i] for i in order]
        self._masks = [self._masks[i] for i in order]
        self.warnings = self._same_day_conflicts()

    def _sort_key(self, i: int) -> tuple[Date, int, int, str]:
        rec = self.records[i]
        return (rec.event.date, rec.tier, get_effect(rec.event.action).precedence, rec.event.id)

    def _same_day_conflicts(self) -> list[str]:
        """Warnings for events of different actions starting on the same day on shared edges.

        Pairs are found through the edges they share (each event's selected edges, not
        every pair of masks), so thousands of events on one day cost one sort; at most
        :data:`MAX_CONFLICT_WARNINGS` pairs are listed, then a count of the rest.
        """
        out: list[str] = []
        more = 0
        by_day: dict[Date, list[int]] = {}
        for i, rec in enumerate(self.records):
            by_day.setdefault(rec.event.date, []).append(i)
        for day, group in by_day.items():
            if len(group) < 2 or len({self.records[i].event.action for i in group}) < 2:
                continue
            edges = [np.flatnonzero(self._masks[i]) for i in group]
            edge = np.concatenate(edges)
            who = np.repeat(np.arange(len(group)), [len(e) for e in edges])
            order = np.lexsort((who, edge))
            edge, who = edge[order], who[order]
            starts = np.flatnonzero(np.r_[True, edge[1:] != edge[:-1]])
            pairs: set[tuple[int, int]] = set()
            cap = 10 * MAX_CONFLICT_WARNINGS  # enough to warn; the count of the rest is then a lower bound
            for lo, hi in zip(starts.tolist(), [*starts[1:].tolist(), len(edge)], strict=True):
                on = who[lo:hi].tolist()
                for x in range(len(on) - 1):
                    for y in range(x + 1, len(on)):
                        a, b = group[on[x]], group[on[y]]
                        if self.records[a].event.action != self.records[b].event.action:
                            pairs.add((a, b))
                    if len(pairs) > cap:
                        break
                if len(pairs) > cap:
                    break
            for a, b in sorted(pairs):
                if len(out) >= MAX_CONFLICT_WARNINGS:
                    more += 1
                    continue
                ea, eb = self.records[a].event, self.records[b].event
                out.append(f"events {ea.id!r} ({ea.action}) and {eb.id!r} ({eb.action}) start on {day} on the "
                           f"same segments; {eb.id!r} is applied last and wins")
        if more:
            out.append(f"and at least {more} more pairs of events with different actions start on the same day "
                       "on the same segments (the later in the documented order wins)")
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

    def state_at(self, day: Date, *, actor: str = DEFAULT_ACTOR) -> NetworkState:
        """Network state on ``day`` for ``actor`` (cached per set of active events and ground).

        The events in force apply in date order; then the ground
        (:attr:`control`): front-line and siege edges close to every vehicle,
        whatever the events say, and the crossings the actor may use add their
        delay and fee; then the holds in force (records of tier ``TIER_HOLD``),
        whatever the events and the ground say.
        """
        active = [i for i, r in enumerate(self.records) if r.event.active_on(day)]
        ids = tuple(self.records[i].event.id for i in active)
        ground = self.control.ground(day, actor=actor) if self.control is not None else None
        key: tuple[object, ...] = (ids, ground.key if ground is not None else None)
        state = self._states.get(key)
        if state is None:
            state = self.network.base_state()
            for i in active:
                ev = self.records[i].event
                if self.records[i].tier != TIER_HOLD:
                    get_effect(ev.action).apply(state, self._masks[i], ev.vehicles, ev)
            if ground is not None and ground.closed.any():
                state.closed[:, ground.closed] = True
                state.delay_s[:] += ground.delay_s
                state.fee_usd[:] += ground.fee_usd
                at = ground.queue_tph > 0
                state.queue_tph[at] = ground.queue_tph[at]
                state.queue_lanes[at] = 1
            for i in active:
                if self.records[i].tier == TIER_HOLD:
                    ev = self.records[i].event
                    get_effect(ev.action).apply(state, self._masks[i], ev.vehicles, ev)
            state = replace(state, events=ids, _key=[])
            # A state of the default network is ~6 MB: keep the last few (callers walk epochs in order).
            while len(self._states) >= STATE_CACHE:
                self._states.pop(next(iter(self._states)))
            self._states[key] = state
        return replace(state, date=day)

    def boundaries(self, start: Date, end: Date) -> list[Date]:
        """Days in ``(start, end)`` on which some event starts or ends."""
        days = {start}
        for r in self.records:
            for d in (r.event.date, r.event.end):
                if d is not None and start < d < end:
                    days.add(d)
        if self.control is not None:
            days.update(self.control.boundaries(start, end))
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
    control: ControlTables | bool | None = None,
    exclude: Sequence[EventMatch] = (),
    shift: Sequence[EventShift] = (),
    locate: Callable[[tuple[str | int, ...], str], Problem] | None = None,
) -> EventSet:
    """Event set for ``network``: the built-in library (unless ``builtin=False``),
    plus ``files``, plus ``extra`` records (e.g. a scenario's inline events,
    closures and holds, with their tiers).

    Parameters
    ----------
    control
        Who held the ground: tables from :func:`routesim.control.read_control`,
        ``True`` for the built-in tables, ``False`` for none. Default: the
        built-in tables when the built-in library is used, else none.
    exclude, shift
        Library and file events left out, and moved in time
        (:func:`routesim.events.files.edit_records`); ``extra`` is never edited.
    locate
        Where an ``exclude`` or ``shift`` entry that matches no event is
        reported: a function of the entry's location (``("events", "exclude", 0)``)
        and the message, such as a scenario document's ``problem``. Default: an
        unlocated problem.
    """
    records, problems = (
        read_event_files([builtin_library_path()], require_source=True) if builtin else ([], [])
    )
    known = {r.event.id: r for r in records}
    user_records, user_problems = read_event_files(files)
    problems += user_problems
    _append_unique(records, user_records, known, problems)
    if exclude or shift:
        records, unmatched = edit_records(records, exclude=exclude, shift=shift)
        place = locate or (lambda loc, msg: Problem("<scenario>", None, ".".join(map(str, loc)), msg))
        problems += [place(loc, msg) for loc, msg in unmatched]
    # an excluded library event leaves its id free for the scenario's own version of it
    _append_unique(records, extra, {r.event.id: r for r in records if r.event.id in known}, problems)
    if control is None:
        control = builtin
    tables = read_control() if control is True else (control or None)
    ground = ControlMap(network, tables) if tables is not None else None
    return EventSet(network, records, problems=problems, control=ground)


def _append_unique(records: list[EventRecord], new: Iterable[EventRecord], known: dict[str, EventRecord],
                   problems: list[Problem]) -> None:
    """Append ``new`` to ``records``; an id already in ``known`` is a located problem."""
    for rec in new:
        first = known.get(rec.event.id)
        if first is not None:
            problems.append(
                Problem(rec.file, rec.line, "id", f"duplicate id {rec.event.id!r} (first at {first.file}:{first.line})")
            )
        records.append(rec)


def as_event_set(network: Network, events: EventSet | Iterable[str | Path] | str | Path | None) -> EventSet:
    """Interpret an ``events`` argument given by a user.

    ``None`` -> the network's default events (the built-in library, loaded once
    per network); ``"none"`` -> no events; a path or list of paths -> the
    built-in library plus those files (add ``"none"`` to the list to leave the
    library out); an :class:`EventSet` is used as is.
    """
    if isinstance(events, EventSet):
        return events
    if events is None:
        default = network.default_events
        if not isinstance(default, EventSet):
            default = load_events(network)
            network.set_default_events(default)
        return default
    items = [events] if isinstance(events, str | Path) else list(events)
    builtin = not any(str(i).lower() == "none" for i in items)
    files = [i for i in items if str(i).lower() not in ("none", "builtin")]
    if builtin and not files:
        return as_event_set(network, None)
    return load_events(network, files, builtin=builtin)
