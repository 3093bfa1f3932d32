"""The control tables: who held each place, who was allied, crossings, sieges.

Four CSV files (``data/control/``; a user's files with the same columns add to
them), read into plain records with located errors (``file:line: column:
problem``):

``control.csv``
    ``place,lat,lon,date,controller,source,note``: from ``date`` the place is
    held by ``controller`` (until the place's next row). ``lat,lon`` are optional
    (blank: the place's own coordinates).
``relations.csv``
    ``a,b,date,end,relation,source,note``: ``relation`` is ``allied`` (no front
    line between ``a`` and ``b`` on ``date <= day < end``) or ``hostile``.
    Controllers not listed together are hostile.
``crossings.csv``
    ``id,name,lat,lon,date,end,sides,actors,fee_usd,delay_min,
    capacity_trucks_per_day,source,note``: a point where a front line may be
    crossed, between ``sides`` (``|``-separated controllers), by ``actors``
    (``commercial|un|military|civilian``), open ``date <= day < end``.
``sieges.csv``
    ``id,name,lat,lon,radius_km,besieged,date,end,corridors,source,note``: a
    circle no road enters or leaves, except through the crossing ids in
    ``corridors``.

``*.geojson``
    Control layers: a FeatureCollection of Polygon or MultiPolygon features
    with properties ``controller``, ``date``, optional ``end`` and ``source``:
    on ``date <= day < end`` every node inside is held by ``controller``,
    whatever the nearest place says (a later ``date`` wins where layers overlap).

``date`` may be ``YYYY-MM-DD`` or ``YYYY-MM`` (the first of the month).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date as Date
from pathlib import Path

from routesim._util.datafiles import data_dir
from routesim.errors import InputFileError, Problem

#: Who may travel: a route or a flow is for one actor.
ACTORS = ("commercial", "un", "military", "civilian")
#: Default actor of routes and flows.
DEFAULT_ACTOR = "commercial"
#: Names of the four tables.
TABLES = ("control.csv", "relations.csv", "crossings.csv", "sieges.csv")

_COLUMNS = {
    "control.csv": ("place", "lat", "lon", "date", "controller", "source"),
    "relations.csv": ("a", "b", "date", "end", "relation", "source"),
    "crossings.csv": ("id", "name", "lat", "lon", "date", "end", "sides", "actors", "fee_usd", "delay_min",
                      "capacity_trucks_per_day", "source"),
    "sieges.csv": ("id", "name", "lat", "lon", "radius_km", "besieged", "date", "end", "corridors", "source"),
}


class _Period:
    """A record in force on ``date <= day < end`` (``end`` ``None``: still in force)."""

    date: Date
    end: Date | None

    def active_on(self, day: Date) -> bool:
        return self.date <= day and (self.end is None or day < self.end)


@dataclass(frozen=True)
class Held:
    """A row of ``control.csv``."""

    place: str
    lat: float | None
    lon: float | None
    date: Date
    controller: str
    source: str
    file: str = ""
    line: int = 0


@dataclass(frozen=True)
class Relation(_Period):
    """A row of ``relations.csv``."""

    a: str
    b: str
    date: Date
    end: Date | None
    allied: bool
    source: str


@dataclass(frozen=True)
class Crossing(_Period):
    """A row of ``crossings.csv`` (fee, delay and capacity ``None`` where the sources give none)."""

    id: str
    name: str
    lat: float
    lon: float
    date: Date
    end: Date | None
    sides: tuple[str, ...]
    actors: tuple[str, ...]
    fee_usd: float | None
    delay_min: float | None
    capacity_trucks_per_day: float | None
    source: str


@dataclass(frozen=True)
class Siege(_Period):
    """A row of ``sieges.csv``."""

    id: str
    name: str
    lat: float
    lon: float
    radius_km: float
    besieged: str
    date: Date
    end: Date | None
    corridors: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class Zone(_Period):
    """A feature of a control layer (``*.geojson``): rings of (lon, lat) vertices, even-odd rule."""

    controller: str
    date: Date
    end: Date | None
    rings: tuple[tuple[tuple[float, float], ...], ...]
    source: str
    file: str = ""


@dataclass
class ControlTables:
    """Everything read from a set of control files."""

    held: list[Held] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    crossings: list[Crossing] = field(default_factory=list)
    sieges: list[Siege] = field(default_factory=list)
    zones: list[Zone] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    @property
    def controllers(self) -> list[str]:
        """Every controller named, sorted."""
        return sorted({h.controller for h in self.held} | {z.controller for z in self.zones})


def control_dir() -> Path:
    """``data/control``: the built-in control tables."""
    return data_dir() / "control"


def read_control(folders: Sequence[str | Path] = (), *, builtin: bool = True) -> ControlTables:
    """Read the built-in tables (unless ``builtin=False``) and those of ``folders``.

    A folder may hold any of the four files (:data:`TABLES`); a path to one
    file is read as that table.

    Raises
    ------
    InputFileError
        Every located problem of every file at once.
    """
    paths: list[Path] = []
    for item in [*([control_dir()] if builtin else []), *map(Path, folders)]:
        if item.is_dir():
            paths += [item / n for n in TABLES if (item / n).is_file()]
            paths += sorted(item.glob("*.geojson"))
        else:
            paths.append(item)
    out = ControlTables()
    problems: list[Problem] = []
    for p in paths:
        if p.suffix.lower() in (".geojson", ".json"):
            out.files.append(str(p))
            _read_layer(p, out, problems)
            continue
        if p.name not in _COLUMNS:
            problems.append(Problem(str(p), None, "file", f"not a control table (names: {', '.join(TABLES)})"))
            continue
        out.files.append(str(p))
        _read_table(p, out, problems)
    if problems:
        raise InputFileError(problems)
    known = {c.id for c in out.crossings}
    for s in out.sieges:
        for c in s.corridors:
            if c not in known:
                problems.append(Problem("sieges.csv", None, "corridors", f"siege {s.id!r}: no crossing {c!r}"))
    if problems:
        raise InputFileError(problems)
    return out


class _Row:
    """Typed access to one CSV row that records located problems instead of raising."""

    def __init__(self, path: Path, line: int, row: dict[str, str], problems: list[Problem]) -> None:
        self.path, self.line, self.row, self.problems = path, line, row, problems
        self.ok = True

    def fail(self, column: str, message: str) -> None:
        self.ok = False
        self.problems.append(Problem(str(self.path), self.line, column, message))

    def text(self, column: str, *, required: bool = True) -> str:
        value = (self.row.get(column) or "").strip()
        if required and not value:
            self.fail(column, "required")
        return value

    def number(
        self, column: str, *, required: bool = True, lo: float = -math.inf, hi: float = math.inf,
    ) -> float | None:
        text = self.text(column, required=required)
        if not text:
            return None
        try:
            value = float(text)
        except ValueError:
            self.fail(column, f"{text!r} is not a number")
            return None
        if not math.isfinite(value) or not lo <= value <= hi:
            self.fail(column, f"{text} is outside {lo:g}..{hi:g}")
            return None
        return value

    def day(self, column: str, *, required: bool = True) -> Date | None:
        text = self.text(column, required=required)
        if not text:
            return None
        try:
            return Date.fromisoformat(text + "-01" if len(text) == 7 else text)
        except ValueError:
            self.fail(column, f"{text!r} is not a date (YYYY-MM-DD or YYYY-MM)")
            return None

    def names(self, column: str, *, allowed: Sequence[str] | None = None, required: bool = True) -> tuple[str, ...]:
        items = tuple(s.strip() for s in self.text(column, required=required).split("|") if s.strip())
        if allowed is not None:
            for s in items:
                if s not in allowed:
                    self.fail(column, f"{s!r} is not one of {', '.join(allowed)}")
        return items


def _read_table(p: Path, out: ControlTables, problems: list[Problem]) -> None:
    parse: dict[str, Callable[[_Row], None]] = {
        "control.csv": lambda r: _held(r, out),
        "relations.csv": lambda r: _relation(r, out),
        "crossings.csv": lambda r: _crossing(r, out),
        "sieges.csv": lambda r: _siege(r, out),
    }
    try:
        with p.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in _COLUMNS[p.name] if c not in (reader.fieldnames or [])]
            if missing:
                problems.append(Problem(str(p), 1, "columns", f"missing {', '.join(missing)}"))
                return
            for line, row in enumerate(reader, start=2):
                parse[p.name](_Row(p, line, row, problems))
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(str(p), None, "file", f"cannot read: {exc}"))


def _held(r: _Row, out: ControlTables) -> None:
    place, lat, lon = r.text("place"), r.number("lat", required=False, lo=-90, hi=90), r.number(
        "lon", required=False, lo=-180, hi=180)
    if (lat is None) != (lon is None):
        r.fail("lat", "give both lat and lon or neither")
    day, controller, source = r.day("date"), r.text("controller"), r.text("source")
    if r.ok and day is not None:
        out.held.append(Held(place, lat, lon, day, controller, source, str(r.path), r.line))


def _period(r: _Row) -> tuple[Date | None, Date | None]:
    start, end = r.day("date"), r.day("end", required=False)
    if start is not None and end is not None and end <= start:
        r.fail("end", f"{end} is not after date {start}")
    return start, end


def _relation(r: _Row, out: ControlTables) -> None:
    a, b = r.text("a"), r.text("b")
    start, end = _period(r)
    relation = r.text("relation")
    if relation not in ("allied", "hostile"):
        r.fail("relation", f"{relation!r} is not allied or hostile")
    source = r.text("source")
    if r.ok and start is not None:
        out.relations.append(Relation(a, b, start, end, relation == "allied", source))


def _crossing(r: _Row, out: ControlTables) -> None:
    cid, name = r.text("id"), r.text("name", required=False)
    lat, lon = r.number("lat", lo=-90, hi=90), r.number("lon", lo=-180, hi=180)
    start, end = _period(r)
    sides = r.names("sides")
    actors = r.names("actors", allowed=ACTORS)
    fee = r.number("fee_usd", required=False, lo=0)
    delay = r.number("delay_min", required=False, lo=0, hi=7 * 24 * 60)
    capacity = r.number("capacity_trucks_per_day", required=False, lo=0)
    source = r.text("source")
    if any(c.id == cid for c in out.crossings):
        r.fail("id", f"duplicate crossing id {cid!r}")
    if r.ok and start is not None and lat is not None and lon is not None:
        out.crossings.append(Crossing(cid, name or cid, lat, lon, start, end, sides, actors, fee, delay, capacity,
                                      source))


def _siege(r: _Row, out: ControlTables) -> None:
    sid, name = r.text("id"), r.text("name", required=False)
    lat, lon = r.number("lat", lo=-90, hi=90), r.number("lon", lo=-180, hi=180)
    radius = r.number("radius_km", lo=0.1, hi=100)
    besieged = r.text("besieged", required=False)
    start, end = _period(r)
    corridors = r.names("corridors", required=False)
    source = r.text("source")
    if r.ok and start is not None and lat is not None and lon is not None and radius is not None:
        out.sieges.append(Siege(sid, name or sid, lat, lon, radius, besieged, start, end, corridors, source))


def _read_layer(p: Path, out: ControlTables, problems: list[Problem]) -> None:
    """Features of a control layer; a problem names the feature (GeoJSON has no useful line numbers)."""
    from routesim.models.selectors import polygon_rings

    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        problems.append(Problem(str(p), getattr(exc, "lineno", None), "file", f"cannot read GeoJSON: {exc}"))
        return
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list):
        problems.append(Problem(str(p), None, "features", "expected a GeoJSON FeatureCollection"))
        return
    for k, feature in enumerate(features):
        where = f"features[{k}]"
        props = feature.get("properties") if isinstance(feature, dict) else None
        props = props if isinstance(props, dict) else {}
        row = _Row(p, 0, {key: "" if v is None else str(v) for key, v in props.items()}, [])
        controller = row.text("controller")
        start, end = _period(row)
        source = row.text("source", required=False)
        for prob in row.problems:
            problems.append(Problem(str(p), None, f"{where}.properties.{prob.field}", prob.message))
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        try:
            if not isinstance(geometry, dict):
                raise ValueError("expected a GeoJSON Polygon or MultiPolygon geometry")
            rings = polygon_rings(geometry)
        except ValueError as exc:
            problems.append(Problem(str(p), None, f"{where}.geometry", str(exc)))
            continue
        if row.ok and start is not None:
            closed = tuple((*ring, ring[0]) for ring in rings)
            out.zones.append(Zone(controller, start, end, closed, source, str(p)))
