"""Per-road speed overrides: where one road is known to drive unlike its class.

The speed table gives a speed per class and condition; some roads are known to
be slower or faster than their OSM class says (a trunk that is one narrow lane
each way, a motorway under repair). An override CSV names them, with its
evidence, and the build gives their lines the stated condition or speeds::

    ref,west,south,east,north,condition,car_kph,truck_kph,source,reason
    42,36.9,35.0,37.9,36.2,fair,,,"desert_route.md","one narrow lane each way, potholes"

* ``ref`` matches a line whose OSM ``ref`` (or one of its ``;``-separated refs) is it.
* ``west,south,east,north`` (optional, all four or none): only lines whose
  midpoint vertex lies in that box.
* ``condition`` (``good``/``fair``/``poor``) takes the speed table's speeds of the
  line's class in that condition; ``car_kph``/``truck_kph`` set speeds outright
  (they win over ``condition``). At least one of the three.
* ``source`` and ``reason`` are required: an override without evidence is a tuned number.

Rows apply in file order (a later row wins where two match). Overrides apply
before the built-up rule (:mod:`routesim.network.builtup`), which then slows
their built-up stretches as any other line's.
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from routesim.errors import NetworkError
from routesim.network.compiled import CompiledRoads
from routesim.network.profiles import CONDITIONS, SpeedTable, default_speed_table

_COLUMNS = ("ref", "west", "south", "east", "north", "condition", "car_kph", "truck_kph", "source", "reason")


@dataclass(frozen=True)
class SpeedOverride:
    """One row of an override file (see the module docstring)."""

    ref: str
    bbox: tuple[float, float, float, float] | None
    condition: str | None
    car_kph: float | None
    truck_kph: float | None
    source: str
    reason: str
    line: int = 0


def read_overrides(path: str | os.PathLike[str]) -> list[SpeedOverride]:
    """Rows of an override CSV.

    Raises
    ------
    NetworkError
        ``file:line: column: problem`` for a missing column, ref, source or
        reason, an unknown condition, a partial or inverted box, or a speed that
        is not a positive finite number.
    """
    p = Path(path)
    rows: list[SpeedOverride] = []
    try:
        with p.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in _COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise NetworkError(f"{p}:1: columns: missing {', '.join(missing)}")
            for line, row in enumerate(reader, start=2):
                rows.append(_row(p, line, {k: (v or "").strip() for k, v in row.items() if k}))
    except OSError as exc:
        raise NetworkError(f"{p}: cannot read speed overrides: {exc.strerror or exc}") from None
    return rows


def _row(p: Path, line: int, row: dict[str, str]) -> SpeedOverride:
    def fail(column: str, problem: str) -> NetworkError:
        return NetworkError(f"{p}:{line}: {column}: {problem}")

    for column in ("ref", "source", "reason"):
        if not row[column]:
            raise fail(column, "required")
    box = [row[c] for c in ("west", "south", "east", "north")]
    bbox: tuple[float, float, float, float] | None = None
    if any(box):
        if not all(box):
            raise fail("west", "give all four of west, south, east, north or none")
        try:
            w, s, e, n = (float(v) for v in box)
        except ValueError:
            raise fail("west", f"box {box} is not four numbers") from None
        if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
            raise fail("west", f"box {box} is not west < east, south < north in degrees")
        bbox = (w, s, e, n)
    condition = row["condition"] or None
    if condition is not None and condition not in CONDITIONS:
        raise fail("condition", f"{condition!r} is not one of {', '.join(CONDITIONS)}")
    speeds: dict[str, float | None] = {}
    for column in ("car_kph", "truck_kph"):
        text = row[column]
        if not text:
            speeds[column] = None
            continue
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value <= 0:
            raise fail(column, f"{text!r} is not a positive speed in km/h")
        speeds[column] = value
    if condition is None and speeds["car_kph"] is None and speeds["truck_kph"] is None:
        raise fail("condition", "give a condition, car_kph or truck_kph")
    return SpeedOverride(row["ref"], bbox, condition, speeds["car_kph"], speeds["truck_kph"], row["source"],
                         row["reason"], line)


def apply_overrides(
    roads: CompiledRoads, overrides: list[SpeedOverride], *, table: SpeedTable | None = None,
) -> list[dict[str, object]]:
    """Apply ``overrides`` to the line speeds of ``roads`` (in place).

    Parameters
    ----------
    table
        The speed table a ``condition`` refers to (default ``data/profiles/road_speeds.csv``).

    Returns
    -------
    list of dict
        Per row: ``ref``, ``source``, ``reason``, ``lines`` and ``km`` matched
        (for ``meta["speed_overrides"]`` and ``network info``).
    """
    table = table or default_speed_table()
    refs = np.array([{r.strip() for r in t.split(";")} for t in roads.texts] + [set()], dtype=object)
    mid = (roads.geom_offset[:-1] + roads.geom_offset[1:]) // 2
    mx, my = roads.geom_x[mid], roads.geom_y[mid]
    report = []
    for o in overrides:
        hit = np.fromiter((o.ref in s for s in refs[roads.line_ref]), dtype=bool, count=roads.n_lines)
        if o.bbox is not None:
            w, s, e, n = o.bbox
            hit &= (mx >= w) & (mx <= e) & (my >= s) & (my <= n)
        lines = np.flatnonzero(hit)
        for i in lines:
            highway = roads.highways[roads.line_highway[i]]
            if o.condition is not None and (highway, o.condition) in table.car:
                roads.line_car_kph[i] = table.car[highway, o.condition]
                roads.line_truck_kph[i] = table.truck[highway, o.condition]
        if o.car_kph is not None:
            roads.line_car_kph[lines] = o.car_kph
        if o.truck_kph is not None:
            roads.line_truck_kph[lines] = o.truck_kph
        report.append({"ref": o.ref, "source": o.source, "reason": o.reason, "lines": len(lines),
                       "km": round(float(roads.line_length_m[lines].sum()) / 1000, 1)})
    return report
