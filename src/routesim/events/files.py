"""Reading event files: YAML to located, validated event records (includes followed);
leaving events out and moving them in time (a scenario's ``exclude`` and ``shift``)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

from pydantic import ValidationError

from routesim._util import yamlio
from routesim._util.datafiles import events_dir
from routesim.errors import InputFileError, Problem
from routesim.events.effects import effect_names
from routesim.models.events import Event, EventFile
from routesim.models.scenario import EventMatch, EventShift

#: Priority tiers of events (:class:`routesim.models.scenario.EventsConfig`): the library and event
#: files, a scenario's own inline events and closures (they win ties on the same day), and holds
#: (applied last, over the ground too).
TIER_LIBRARY, TIER_SCENARIO, TIER_HOLD = 0, 1, 2


@dataclass(frozen=True)
class EventRecord:
    """An event with the file and line it came from.

    ``lines`` gives the line of some of its fields (``where``, ``action``);
    ``tier`` its priority (``TIER_LIBRARY`` by default, ``TIER_SCENARIO``, ``TIER_HOLD``).
    """

    event: Event
    file: str
    line: int | None
    lines: Mapping[str, int | None] = field(default_factory=dict)
    tier: int = TIER_LIBRARY

    def line_of(self, name: str) -> int | None:
        """Line of field ``name``, else of the event."""
        found = self.lines.get(name)
        return found if found is not None else self.line


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
            action = item.get("action") if isinstance(item, dict) else None
            bad_action = isinstance(action, str) and bool(action) and action not in effect_names()
            if bad_action:
                problems.append(doc.problem(("events", i, "action"), unknown_action(str(action))))
            try:
                ev = Event.model_validate(item)
            except ValidationError as exc:
                problems.extend(yamlio.problems_from(exc, doc, loc=("events", i)))
                continue
            if bad_action:
                continue
            rec = EventRecord(ev, str(path), doc.line(("events", i)),
                              {k: doc.line(("events", i, k)) for k in ("where", "action")})
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


def edit_records(
    records: Sequence[EventRecord], *, exclude: Sequence[EventMatch] = (), shift: Sequence[EventShift] = ()
) -> tuple[list[EventRecord], list[tuple[tuple[str | int, ...], str]]]:
    """Leave out the records ``exclude`` matches, then move those ``shift`` matches by its ``shift_days``.

    Returns
    -------
    (records, unmatched)
        The edited records, and ``(loc, message)`` for every ``exclude`` or
        ``shift`` entry that matches no record (``loc`` as in a scenario file,
        ``("events", "exclude", i)``), naming close ids or tags.
    """
    unmatched: list[tuple[tuple[str | int, ...], str]] = []
    ids = sorted({r.event.id for r in records})
    tags = sorted({t for r in records for t in r.event.tags})

    def miss(m: EventMatch) -> str:
        given = m.model_dump(exclude_none=True, exclude={"shift_days"})
        if m.id is not None and m.id not in ids:
            what, name, known = "id", m.id, ids
        elif m.tag is not None and m.tag not in tags:
            what, name, known = "tag", m.tag, tags
        else:
            return f"no library or file event matches {given} (event {m.id!r} has no tag {m.tag!r})"
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
        hint = f"; did you mean: {', '.join(close)}?" if close else ""
        return f"no library or file event matches {given} (unknown {what} {name!r}{hint})"

    for i, m in enumerate(exclude):
        if not any(m.matches(r.event) for r in records):
            unmatched.append((("events", "exclude", i), miss(m)))
    kept = [r for r in records if not any(m.matches(r.event) for m in exclude)]
    for i, s in enumerate(shift):
        if not any(s.matches(r.event) for r in kept):
            unmatched.append((("events", "shift", i), miss(s)))
    out = []
    for rec in kept:
        days = sum(s.shift_days for s in shift if s.matches(rec.event))
        if days:
            ev = rec.event
            moved = {"date": ev.date + timedelta(days=days), "end": ev.end and ev.end + timedelta(days=days)}
            rec = replace(rec, event=ev.model_copy(update=moved))
        out.append(rec)
    return out, unmatched


def builtin_library_path() -> Path:
    """The index file of the built-in event library."""
    return events_dir() / "index.yaml"



def unknown_action(action: str) -> str:
    """The message for an action no effect is registered for."""
    return f"unknown action {action!r}; expected one of {', '.join(effect_names())}"
