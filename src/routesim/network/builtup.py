"""Built-up areas from street density, and the slower driving through them.

A road through a town is not driven at its open-road speed: junctions, speed
bumps, crossing people and animals and the urban limit (60 km/h in Syria) slow
it. OpenStreetMap has no dependable built-up polygons for Syria in the 2021
extract, but it maps the streets: where residential streets are dense, the
ground is built up. :class:`BuiltUpGrid` finds those cells, and
:func:`apply_built_up` gives each line of a compiled network the metres it runs
inside them and an effective speed over the whole line.

The rule, with its defaults (``data/profiles/built_up.csv`` holds the values
and their sources):

* **Grid.** Cells of ``cell_deg`` degrees (0.005°: about 460 m × 555 m at 34° N).
* **Density.** Each cell's km of ``residential`` and ``living_street`` per km²
  over the ``window`` × ``window`` block of cells around it (3: about 1.5 km
  square), so one street does not make a town and a town's ring road still counts.
* **Built up** where that density is at least ``min_density`` km/km² (4).
* **Speed.** Inside, the built-up limit works as a tagged ``maxspeed`` does in
  the profiles: a car drives at most ``maxspeed_factor`` × ``limit_kph``
  (0.8 × 60 = 48 km/h), a truck at most the same and never faster than its
  table speed. A line's speed becomes the one that gives the time of its open
  and built-up parts driven at their own speeds (harmonic mean by length), so
  an edge's time is exact without splitting lines at the edge of a town.
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from routesim._util.datafiles import data_dir
from routesim.errors import NetworkError
from routesim.network.compiled import CompiledRoads

#: Pieces of a road geometry are looked up cell by cell at most this long (m).
_STEP_M = 100.0
_KM_PER_DEG_LAT = 110.574
_KM_PER_DEG_LON_EQ = 111.320


@dataclass(frozen=True)
class BuiltUpRule:
    """Parameters of the built-up rule (see the module docstring for each default)."""

    cell_deg: float = 0.005
    window: int = 3
    min_density: float = 4.0
    limit_kph: float = 60.0
    maxspeed_factor: float = 0.8

    @classmethod
    def from_csv(cls, path: str | os.PathLike[str] | None = None) -> BuiltUpRule:
        """The rule of a ``parameter,value,unit,source`` CSV (default ``data/profiles/built_up.csv``).

        Raises
        ------
        NetworkError
            ``file:line: parameter: problem`` for an unknown parameter or a value
            that is not a positive finite number.
        """
        p = Path(path) if path is not None else data_dir() / "profiles" / "built_up.csv"
        known = {f.name: f.type for f in fields(cls)}
        values: dict[str, float | int] = {}
        try:
            with p.open(newline="", encoding="utf-8-sig") as fh:
                for line, row in enumerate(csv.DictReader(fh), start=2):
                    name = (row.get("parameter") or "").strip()
                    if name not in known:
                        raise NetworkError(f"{p}:{line}: parameter: unknown {name!r} (known: {', '.join(known)})")
                    try:
                        value = float(row.get("value") or "")
                    except ValueError:
                        value = math.nan
                    if not math.isfinite(value) or value <= 0:
                        raise NetworkError(f"{p}:{line}: {name}: {row.get('value')!r} is not a positive number")
                    if name == "window" and (value != int(value) or int(value) % 2 == 0):
                        raise NetworkError(f"{p}:{line}: window: {row.get('value')!r} is not an odd number of cells")
                    values[name] = int(value) if name == "window" else value
        except OSError as exc:
            raise NetworkError(f"{p}: cannot read the built-up rule: {exc.strerror or exc}") from None
        return cls(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class BuiltUpGrid:
    """Built-up cells of a lon/lat grid.

    Attributes
    ----------
    x0, y0
        Longitude and latitude of the grid's south-west corner.
    cell_deg
        Cell size in degrees (both axes).
    built
        ``(nx, ny)`` bool: cell ``(i, j)`` spans ``x0 + i·cell`` … and ``y0 + j·cell`` ….
    density
        ``(nx, ny)`` float: street km per km² over the window.
    """

    x0: float
    y0: float
    cell_deg: float
    built: np.ndarray
    density: np.ndarray

    @classmethod
    def from_streets(
        cls, x: np.ndarray, y: np.ndarray, offsets: np.ndarray, *, rule: BuiltUpRule | None = None,
    ) -> BuiltUpGrid:
        """Grid from street geometries: vertices ``x, y`` of lines ``offsets[i]:offsets[i + 1]``.

        Parameters
        ----------
        x, y
            Longitudes and latitudes (degrees) of every street vertex, lines concatenated.
        offsets
            ``(n_lines + 1,)`` start of each line in ``x, y``.
        rule
            Default :class:`BuiltUpRule()`.
        """
        rule = rule or BuiltUpRule()
        mx, my, km = _pieces(x, y, offsets)
        if not len(km):
            return cls(0.0, 0.0, rule.cell_deg, np.zeros((1, 1), bool), np.zeros((1, 1)))
        pad = rule.window
        x0 = float(np.floor(mx.min() / rule.cell_deg) - pad) * rule.cell_deg
        y0 = float(np.floor(my.min() / rule.cell_deg) - pad) * rule.cell_deg
        ix = ((mx - x0) / rule.cell_deg).astype(np.int64)
        iy = ((my - y0) / rule.cell_deg).astype(np.int64)
        shape = (int(ix.max()) + pad + 1, int(iy.max()) + pad + 1)
        grid = np.bincount(ix * shape[1] + iy, weights=km, minlength=shape[0] * shape[1]).reshape(shape)
        block = _box_sum(grid, rule.window)
        lat = y0 + (np.arange(shape[1]) + 0.5) * rule.cell_deg
        cell_km2 = (rule.cell_deg * _KM_PER_DEG_LAT) * (rule.cell_deg * _KM_PER_DEG_LON_EQ * np.cos(np.radians(lat)))
        density = block / (cell_km2[None, :] * rule.window**2)
        return cls(x0, y0, rule.cell_deg, density >= rule.min_density, density)

    def inside_m(self, x: np.ndarray, y: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """Metres of each line (vertices ``x, y``, ``offsets`` as above) that lie in built-up cells."""
        return self._inside_km(x, y, offsets)[0] * 1000.0

    def inside_share(self, x: np.ndarray, y: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """Share (0..1) of each line's length that lies in built-up cells (1 exactly for a line wholly inside)."""
        inside, total = self._inside_km(x, y, offsets)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, inside / np.where(total > 0, total, 1.0), 0.0)

    def _inside_km(self, x: np.ndarray, y: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n_lines = len(offsets) - 1
        mx, my, km, line = _pieces(x, y, offsets, with_line=True)
        ix = np.floor((mx - self.x0) / self.cell_deg).astype(np.int64)
        iy = np.floor((my - self.y0) / self.cell_deg).astype(np.int64)
        ok = (ix >= 0) & (iy >= 0) & (ix < self.built.shape[0]) & (iy < self.built.shape[1])
        built = np.zeros(len(km), dtype=bool)
        built[ok] = self.built[ix[ok], iy[ok]]
        inside = np.bincount(line[built], weights=km[built], minlength=n_lines)
        return inside, np.bincount(line, weights=km, minlength=n_lines)

    @property
    def area_km2(self) -> float:
        """Area of the built-up cells."""
        lat = self.y0 + (np.arange(self.built.shape[1]) + 0.5) * self.cell_deg
        cell_km2 = (self.cell_deg * _KM_PER_DEG_LAT) * (self.cell_deg * _KM_PER_DEG_LON_EQ * np.cos(np.radians(lat)))
        return float((self.built * cell_km2[None, :]).sum())


def apply_built_up(roads: CompiledRoads, grid: BuiltUpGrid, *, rule: BuiltUpRule | None = None) -> CompiledRoads:
    """Record each line's built-up metres and slow its speeds accordingly (in place; returned).

    Sets ``line_built_up_m`` and replaces ``line_car_kph`` and ``line_truck_kph``
    by the effective speeds over the whole line (module docstring); adds
    ``meta["built_up"]`` with the rule, the built-up area and the km of line inside.
    """
    rule = rule or BuiltUpRule()
    # The share, not the planar metres: the line's length is the geodesic one.
    inside = grid.inside_share(roads.geom_x, roads.geom_y, roads.geom_offset) * roads.line_length_m
    cap = rule.maxspeed_factor * rule.limit_kph
    roads.line_car_kph = effective_speed(roads.line_length_m, inside, roads.line_car_kph, cap)
    roads.line_truck_kph = effective_speed(roads.line_length_m, inside, roads.line_truck_kph, cap)
    roads.line_built_up_m = inside
    roads.meta["built_up"] = {
        "cell_deg": rule.cell_deg, "window": rule.window, "min_density_km_per_km2": rule.min_density,
        "limit_kph": rule.limit_kph, "maxspeed_factor": rule.maxspeed_factor,
        "area_km2": round(grid.area_km2, 1), "line_km_inside": round(float(inside.sum()) / 1000, 1),
    }
    return roads


def effective_speed(length_m: np.ndarray, inside_m: np.ndarray, speed_kph: np.ndarray, cap_kph: float) -> np.ndarray:
    """Speed over a line whose ``inside_m`` metres are driven at ``min(speed, cap)`` and the rest at ``speed``."""
    slow = np.minimum(speed_kph, cap_kph)
    hours = (length_m - inside_m) / speed_kph + inside_m / slow
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(hours > 0, length_m / hours, speed_kph)
    return np.asarray(out, dtype=np.float64)


def _box_sum(grid: np.ndarray, window: int) -> np.ndarray:
    """Sum over the ``window`` × ``window`` block centred on each cell (zeros outside)."""
    r = window // 2
    c = np.pad(grid, r).cumsum(0).cumsum(1)
    c = np.pad(c, ((1, 0), (1, 0)))
    n0, n1 = grid.shape
    w = window
    return c[w:w + n0, w:w + n1] - c[:n0, w:w + n1] - c[w:w + n0, :n1] + c[:n0, :n1]


def _pieces(
    x: np.ndarray, y: np.ndarray, offsets: np.ndarray, *, with_line: bool = False,
) -> tuple[np.ndarray, ...]:
    """Midpoints (lon, lat), lengths (km) and optionally line index of ≤ 100 m pieces of every segment."""
    n = len(x)
    starts = np.zeros(n, dtype=bool)
    starts[offsets[:-1][offsets[:-1] < n]] = True
    seg = np.flatnonzero(~starts[1:]) if n > 1 else np.zeros(0, dtype=np.int64)  # segment i: vertex i -> i + 1
    x0, y0, x1, y1 = x[seg], y[seg], x[seg + 1], y[seg + 1]
    lat = np.radians((y0 + y1) * 0.5)
    km = np.hypot((x1 - x0) * _KM_PER_DEG_LON_EQ * np.cos(lat), (y1 - y0) * _KM_PER_DEG_LAT)
    parts = np.maximum(1, np.ceil(km * 1000.0 / _STEP_M)).astype(np.int64)
    which = np.repeat(np.arange(len(seg)), parts)
    first = np.cumsum(parts) - parts
    t = (np.arange(len(which)) - first[which] + 0.5) / parts[which]
    mx = x0[which] + (x1 - x0)[which] * t
    my = y0[which] + (y1 - y0)[which] * t
    piece_km = (km / parts)[which]
    if not with_line:
        return mx, my, piece_km
    line = np.searchsorted(offsets, seg, side="right") - 1
    return mx, my, piece_km, line[which]
