"""Reading event files: YAML to located, validated event records (includes followed)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from routesim._util import yamlio
from routesim._util.datafiles import events_dir
from routesim.errors import InputFileError, Problem
from routesim.events.effects import effect_names
from routesim.models.events import Event, EventFile


@dataclass(frozen=True)
class EventRecord:
    """An event with the file and line it came from.

    ``lines`` gives the line of some of its fields (``where``, ``action``).
    """

    event: Event
    file: str
    line: int | None
    lines: Mapping[str, int | None] = field(default_factory=dict)

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


def builtin_library_path() -> Path:
    """The index file of the built-in event library."""
    return events_dir() / "index.yaml"



def unknown_action(action: str) -> str:
    """The message for an action no effect is registered for."""
    return f"unknown action {action!r}; expected one of {', '.join(effect_names())}"
