"""Road profiles: which OSM ways a vehicle may drive, in which direction, and how fast.

A :class:`Profile` turns the tags of a :class:`~routesim.network.roadtable.RoadTable`
into per-way decisions, all vectorised over the table's coded tag columns:

* **Drivable classes** (:meth:`Profile.select`). Both profiles drive
  ``motorway`` … ``tertiary``, their ``_link``\\ s, ``unclassified``, ``road``,
  ``residential``, ``service`` and ``track``; ``car`` also drives
  ``living_street``. Tracks are in because in Syria graded desert and farm
  tracks are real through routes (the only link between trunk 4 and the road
  north of Deir ez-Zor is one); living streets are out for trucks because they
  are walking-pace streets, usually signed against heavy goods vehicles.
  :data:`NEVER_DRIVABLE` classes (footway, path, cycleway, steps, pedestrian,
  construction, abandoned …) cannot be made drivable. ``area=yes`` (squares
  drawn as polygons) is dropped.
* **Access** (most specific tag first: ``motorcar`` or ``hgv``, then
  ``motor_vehicle``, ``vehicle``, ``access``): ``no`` and ``private`` exclude
  the way; other values (``destination``, ``delivery``, ``permissive`` …) keep it.
* **Direction** (:meth:`Profile.direction`): ``oneway=yes/true/1`` forward,
  ``-1``/``reverse`` backward, ``no/false/0`` both ways; without an ``oneway`` tag,
  ``highway=motorway`` and ``junction=roundabout/circular`` are oneway (OSM's
  implied oneway). ``reversible`` and ``alternating`` count as two-way.
* **Speeds** (:meth:`Profile.way_speeds`): free-flow km/h per class and
  condition from ``data/profiles/road_speeds.csv`` (a user's CSV with the same
  columns overrides any of its rows). The condition comes from a ``condition``
  tag (``good``/``fair``/``poor``), else ``smoothness``, ``tracktype`` or
  ``surface``, else ``good``. Where a way has ``maxspeed``, the car speed is
  :attr:`Profile.maxspeed_factor` (0.8, as OSRM's car profile) times it,
  capped by the table speed when the condition is fair or poor (the limit says
  how fast one may drive, the surface how fast one can). The truck speed is the
  table's, lowered to 0.8 × ``maxspeed:hgv`` (or ``maxspeed``) where that is lower.
"""

from __future__ import annotations

import csv
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

import numpy as np

from routesim._util.datafiles import data_dir
from routesim.errors import NetworkError
from routesim.network.roadtable import RoadTable

#: Road conditions of the speed table, best first (codes 0, 1, 2).
CONDITIONS: tuple[str, ...] = ("good", "fair", "poor")

#: Classes no motor vehicle profile may drive, whatever a custom profile lists.
NEVER_DRIVABLE = frozenset({
    "footway", "path", "cycleway", "steps", "pedestrian", "construction", "abandoned", "bridleway",
    "proposed", "disused", "razed", "platform", "corridor", "elevator", "via_ferrata",
})

#: Main classes and their links.
MAIN_CLASSES = ("motorway", "trunk", "primary", "secondary", "tertiary")
_LINKS = tuple(f"{c}_link" for c in MAIN_CLASSES)

#: The classes the ``car`` profile drives (documented choice, see the module docstring).
CAR_CLASSES = frozenset({*MAIN_CLASSES, *_LINKS, "unclassified", "road", "residential", "living_street",
                         "service", "track"})
#: The classes the ``truck`` profile drives: the car's without ``living_street``.
TRUCK_CLASSES = CAR_CLASSES - {"living_street"}

_ONEWAY_FORWARD = ("yes", "true", "1")
_ONEWAY_BACKWARD = ("-1", "reverse")
_ONEWAY_NONE = ("no", "false", "0", "reversible", "alternating")

_SMOOTHNESS = {"excellent": 0, "good": 0, "intermediate": 1, "bad": 2, "very_bad": 2, "horrible": 2,
               "very_horrible": 2, "impassable": 2}
_TRACKTYPE = {"grade1": 0, "grade2": 1, "grade3": 1, "grade4": 2, "grade5": 2}
_SURFACE = {
    **dict.fromkeys(("paved", "asphalt", "concrete", "concrete:plates", "concrete:lanes", "chipseal"), 0),
    **dict.fromkeys(("compacted", "fine_gravel", "gravel", "paving_stones", "sett", "cobblestone",
                     "unhewn_cobblestone", "pebblestone", "metal", "wood"), 1),
    **dict.fromkeys(("unpaved", "dirt", "ground", "earth", "sand", "mud", "grass", "rock", "salt", "clay"), 2),
}

_MAXSPEED = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(km/h|kmh|kph|mph|knots)?\s*$", re.IGNORECASE)
_UNIT = {"mph": 1.609344, "knots": 1.852}


def parse_maxspeed(text: str) -> float:
    """km/h of an OSM ``maxspeed`` value; nan when it gives no number.

    ``"50"``, ``"50 km/h"`` and ``"30 mph"`` are numbers; zone codes
    (``"DE:urban"``), ``"none"``, ``"signals"`` and ``"walk"`` are not. Of a
    ``;``-list (``"50;70"``) the lowest value counts. Values outside 1–250 km/h
    are treated as mistakes (nan).
    """
    best = math.nan
    for part in text.split(";"):
        m = _MAXSPEED.match(part)
        if not m:
            continue
        kph = float(m.group(1).replace(",", ".")) * _UNIT.get((m.group(2) or "").lower(), 1.0)
        if 1.0 <= kph <= 250.0 and not (kph >= best):
            best = kph
    return best


@dataclass(frozen=True, eq=False)
class SpeedTable:
    """Free-flow speeds, km/h, per ``(highway, condition)``.

    Attributes
    ----------
    car, truck
        ``{(highway, condition): km/h}``.
    source
        The files the table was read from, defaults first.
    """

    car: Mapping[tuple[str, str], float]
    truck: Mapping[tuple[str, str], float]
    source: tuple[str, ...] = ()

    def classes(self) -> set[str]:
        """The classes with a speed for every condition."""
        found = {h for h, _ in self.car}
        return {h for h in found if all((h, c) in self.car and (h, c) in self.truck for c in CONDITIONS)}

    def merged(self, other: SpeedTable) -> SpeedTable:
        """This table with the rows of ``other`` replacing or adding to its own."""
        return SpeedTable({**self.car, **other.car}, {**self.truck, **other.truck}, self.source + other.source)


def read_speed_table(path: str | os.PathLike[str]) -> SpeedTable:
    """Read a speed CSV with columns ``highway, condition, car_kph, truck_kph`` (others ignored).

    Raises
    ------
    NetworkError
        ``file: problem`` for a missing file or column, an unknown condition or
        a speed that is not a positive number.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise NetworkError(f"{path}: cannot read speed table: {exc.strerror or exc}") from None
    rows = csv.DictReader(text.splitlines())
    missing = [c for c in ("highway", "condition", "car_kph", "truck_kph") if c not in (rows.fieldnames or [])]
    if missing:
        raise NetworkError(f"{path}: speed table lacks column(s) {', '.join(missing)}; "
                           f"found: {', '.join(rows.fieldnames or []) or 'none'}")
    car: dict[tuple[str, str], float] = {}
    truck: dict[tuple[str, str], float] = {}
    for line, row in enumerate(rows, start=2):
        highway, condition = (row["highway"] or "").strip(), (row["condition"] or "").strip().lower()
        if not highway:
            raise NetworkError(f"{path}:{line}: empty highway")
        if condition not in CONDITIONS:
            raise NetworkError(f"{path}:{line}: condition {condition!r} is not one of {', '.join(CONDITIONS)}")
        for column, target in (("car_kph", car), ("truck_kph", truck)):
            try:
                kph = float(row[column])
            except (TypeError, ValueError):
                kph = math.nan
            if not (math.isfinite(kph) and kph > 0):
                raise NetworkError(f"{path}:{line}: {column} must be a positive number, got {row[column]!r}")
            target[(highway, condition)] = kph
    return SpeedTable(car, truck, (str(path),))


@cache
def default_speed_table() -> SpeedTable:
    """The shipped table, ``data/profiles/road_speeds.csv``."""
    return read_speed_table(data_dir() / "profiles" / "road_speeds.csv")


def _denied(
    table: RoadTable, keys: tuple[str, ...], denied: frozenset[str], among: np.ndarray
) -> tuple[np.ndarray, dict[str, int]]:
    """Ways of ``among`` whose most specific access tag denies them, and counts per ``tag=value``."""
    undecided = among.copy()
    deny = np.zeros(table.n_ways, dtype=bool)
    reasons: dict[str, int] = {}
    for key in keys:
        column = table.tag(key)
        has = column.present() & undecided
        if not has.any():
            continue
        no = has & column.isin(denied)
        deny |= no
        # A more specific tag decides, whatever the general ones say (access=no + motor_vehicle=yes drives).
        undecided &= ~has
        if no.any():
            for value, count in zip(*np.unique(column.decode()[no].astype(str), return_counts=True), strict=True):
                reasons[f"{key}={value}"] = int(count)
    return deny, reasons


def _coder(mapping: Mapping[str, int]) -> Callable[[str], int]:
    return lambda value: mapping.get(value.strip().lower(), -1)


@dataclass(frozen=True, eq=False)
class Profile:
    """What one vehicle may drive and how fast; see the module docstring for the defaults.

    Attributes
    ----------
    name
        ``"car"`` or ``"truck"`` for the shipped profiles.
    drivable
        ``highway`` values this profile drives. Must not meet :data:`NEVER_DRIVABLE`.
    access_keys
        Access tags, most specific first; the first one a way has decides.
    denied_access
        Access values that exclude a way (default ``no``, ``private``).
    implied_oneway
        Classes that are oneway without an ``oneway`` tag (default ``motorway``;
        roundabouts are always implied).
    maxspeed_factor
        Share of ``maxspeed`` taken as the free-flow speed (default 0.8).
    speeds
        Speeds per class and condition for both vehicles (the lines of a
        network carry car and truck speeds whichever profile selected them).
    """

    name: str
    drivable: frozenset[str]
    access_keys: tuple[str, ...]
    denied_access: frozenset[str] = frozenset({"no", "private"})
    implied_oneway: frozenset[str] = frozenset({"motorway"})
    maxspeed_factor: float = 0.8
    speeds: SpeedTable = field(default_factory=default_speed_table)

    def __post_init__(self) -> None:
        never = self.drivable & NEVER_DRIVABLE
        if never:
            raise ValueError(f"profile {self.name!r}: {', '.join(sorted(never))} can never be drivable")
        lacking = self.drivable - self.speeds.classes()
        if lacking:
            where = ", ".join(self.speeds.source) or "the speed table"
            raise NetworkError(f"{where}: no speed for every condition of {', '.join(sorted(lacking))} "
                               f"(profile {self.name!r})")

    def with_speeds(self, path: str | os.PathLike[str]) -> Profile:
        """This profile with the rows of the CSV at ``path`` overriding its speeds."""
        return replace(self, speeds=self.speeds.merged(read_speed_table(path)))

    def select(self, table: RoadTable) -> tuple[np.ndarray, dict[str, int]]:
        """Which ways this profile drives.

        Returns
        -------
        keep
            ``(n_ways,)`` bool.
        dropped
            Reason -> number of ways: ``highway=<value>`` for classes not driven,
            ``area=yes``, ``<access tag>=<value>`` for denied access.
        """
        highway = table.tag("highway")
        drivable = highway.lookup(lambda v: v in self.drivable, False, dtype=bool)
        dropped: dict[str, int] = {}
        other = ~drivable
        if other.any():
            values = highway.decode()[other]
            values = np.where(values == None, "(none)", values).astype(str)  # noqa: E711 (object array)
            for value, count in zip(*np.unique(values, return_counts=True), strict=True):
                dropped[f"highway={value}"] = int(count)
        area = drivable & table.tag("area").isin(("yes",))
        if area.any():
            dropped["area=yes"] = int(area.sum())
        denied, reasons = _denied(table, self.access_keys, self.denied_access, drivable & ~area)
        dropped.update(reasons)
        return drivable & ~area & ~denied, dropped

    def direction(self, table: RoadTable) -> np.ndarray:
        """``(n_ways,)`` int8: ``1`` drivable along the digitised direction only, ``-1`` against it only, ``0`` both."""
        oneway = table.tag("oneway")
        out = np.zeros(table.n_ways, dtype=np.int8)
        out[oneway.isin(_ONEWAY_FORWARD)] = 1
        out[oneway.isin(_ONEWAY_BACKWARD)] = -1
        untagged = ~oneway.present() | ~oneway.isin(_ONEWAY_FORWARD + _ONEWAY_BACKWARD + _ONEWAY_NONE)
        roundabout = table.tag("junction").isin(("roundabout", "circular"))
        implied = table.tag("highway").isin(self.implied_oneway) | roundabout
        out[untagged & implied] = 1
        return out

    def conditions(self, table: RoadTable) -> np.ndarray:
        """``(n_ways,)`` int8 index into :data:`CONDITIONS` (see the module docstring)."""
        out = np.full(table.n_ways, -1, dtype=np.int8)
        sources = (
            ("condition", {c: i for i, c in enumerate(CONDITIONS)}),
            ("smoothness", _SMOOTHNESS), ("tracktype", _TRACKTYPE), ("surface", _SURFACE),
        )
        for key, mapping in sources:
            code = table.tag(key).lookup(_coder(mapping), -1, dtype=np.int8)
            out = np.where(out < 0, code, out)
        return np.maximum(out, 0).astype(np.int8)

    def maxspeeds(self, table: RoadTable, key: str = "maxspeed") -> np.ndarray:
        """``(n_ways,)`` float64 km/h of the ``maxspeed`` tag (or ``key``), nan where it gives none."""
        return table.tag(key).lookup(parse_maxspeed, math.nan, dtype=np.float64)

    def way_speeds(self, table: RoadTable) -> tuple[np.ndarray, np.ndarray]:
        """Car and truck free-flow km/h of every way (nan for classes without a speed row)."""
        highway = table.tag("highway")
        cond = self.conditions(table)
        car_t = np.full((len(highway.values) + 1, len(CONDITIONS)), math.nan)
        truck_t = car_t.copy()
        for i, h in enumerate(highway.values):
            for j, c in enumerate(CONDITIONS):
                car_t[i, j] = self.speeds.car.get((h, c), math.nan)
                truck_t[i, j] = self.speeds.truck.get((h, c), math.nan)
        # Code -1 (no highway) reads the last row, all nan.
        car = car_t[highway.codes, cond]
        truck = truck_t[highway.codes, cond]
        limit = self.maxspeeds(table) * self.maxspeed_factor
        posted = np.isfinite(limit)
        car = np.where(posted, np.where(cond > 0, np.fmin(limit, car), limit), car)
        hgv = self.maxspeeds(table, "maxspeed:hgv") * self.maxspeed_factor
        truck_limit = np.where(np.isfinite(hgv), hgv, limit)
        truck = np.fmin(truck, np.where(np.isfinite(truck_limit), truck_limit, truck))
        return car, truck


def _shipped(name: str) -> Profile:
    if name == "car":
        return Profile("car", CAR_CLASSES, ("motorcar", "motor_vehicle", "vehicle", "access"))
    if name == "truck":
        return Profile("truck", TRUCK_CLASSES, ("hgv", "motor_vehicle", "vehicle", "access"))
    raise NetworkError(f"unknown road profile {name!r}; use one of {', '.join(PROFILE_NAMES)}")


#: Names of the shipped profiles.
PROFILE_NAMES = ("car", "truck")


def get_profile(profile: str | Profile = "car", *, speeds: str | os.PathLike[str] | None = None) -> Profile:
    """A shipped profile by name (``"car"``, ``"truck"``) or ``profile`` itself.

    Parameters
    ----------
    profile
        Name or :class:`Profile`. Default ``"car"``.
    speeds
        A CSV like ``data/profiles/road_speeds.csv`` whose rows override the
        profile's speeds (default: none; the shipped table stays as it is).
    """
    chosen = profile if isinstance(profile, Profile) else _shipped(profile)
    return chosen.with_speeds(speeds) if speeds is not None else chosen
