"""Selectors as they appear in files: which road segments an event or closure covers.

A selector is one of

- a segment id: ``"m5-hama-morek"``;
- ``ROAD:FROM:TO``: every segment of road ``ROAD`` along its path between two of
  its places, both directions: ``"M5:Hama:Aleppo"``;
- a whole road: ``"M4"``;
- a place name, typically a border crossing: every segment touching it:
  ``"Nasib crossing"``;
- a mapping ``{"area": {"place": "Khanasir", "radius_km": 15}}``,
  ``{"area": {"lat": 35.78, "lon": 37.5, "radius_km": 15}}``,
  ``{"bbox": [west, south, east, north]}`` or ``{"polygon": [[lon, lat], ...]}`` (or a
  GeoJSON Polygon/MultiPolygon geometry): every segment with a point inside;
- a list of any of these (their union).

Resolving a selector against a network is :func:`routesim.network.selection.resolve`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator

from routesim.models.base import StrictModel

#: A selector in plain Python form (strings, mappings, lists).
Selector = str | Mapping[str, Any] | Sequence[Any]


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
    """Every segment with a point inside ``[west, south, east, north]``.

    Example::

        where: {bbox: [37.0, 35.5, 37.6, 36.0]}
    """

    bbox: tuple[float, float, float, float]

    @field_validator("bbox")
    @classmethod
    def _ordered(cls, v: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        if not (v[0] < v[2] and v[1] < v[3]):
            raise ValueError("expected [west, south, east, north] with west < east, south < north")
        return v


class PolygonWhere(StrictModel):
    """Every segment with a point inside a polygon: a ring of ``[lon, lat]`` vertices (GeoJSON
    order), or a GeoJSON ``Polygon``/``MultiPolygon`` geometry (holes are respected).

    Example::

        where:
          polygon: [[36.60, 35.30], [37.20, 35.30], [37.20, 35.90], [36.60, 35.90]]
        # or: {polygon: {type: Polygon, coordinates: [[[36.6, 35.3], [37.2, 35.3], [37.2, 35.9], [36.6, 35.3]]]}}
    """

    polygon: list[tuple[float, float]] | dict[str, Any]

    @field_validator("polygon")
    @classmethod
    def _valid(cls, v: list[tuple[float, float]] | dict[str, Any]) -> list[tuple[float, float]] | dict[str, Any]:
        polygon_rings(v)  # raises ValueError with the reason
        return v


def polygon_rings(polygon: Any) -> list[list[tuple[float, float]]]:
    """The closed rings of a ``polygon`` selector value.

    Raises
    ------
    ValueError
        For fewer than three vertices, coordinates outside [-180, 180] x [-90, 90],
        or a geometry that is no GeoJSON Polygon or MultiPolygon.
    """
    if isinstance(polygon, Mapping):
        kind, coords = polygon.get("type"), polygon.get("coordinates")
        if kind == "Polygon" and isinstance(coords, list):
            rings = list(coords)
        elif kind == "MultiPolygon" and isinstance(coords, list):
            rings = [ring for part in coords for ring in part]
        else:
            raise ValueError("expected a GeoJSON Polygon or MultiPolygon geometry, or a list of [lon, lat]")
    else:
        rings = [polygon]
    out = []
    for ring in rings:
        try:
            pts = [(float(p[0]), float(p[1])) for p in ring]
        except (TypeError, ValueError, IndexError):
            raise ValueError("every vertex is [lon, lat]") from None
        if pts and pts[0] == pts[-1]:
            pts = pts[:-1]
        if len(pts) < 3:
            raise ValueError("a polygon ring needs at least three distinct vertices")
        if not all(-180 <= x <= 180 and -90 <= y <= 90 for x, y in pts):
            raise ValueError("vertices are [lon, lat] in degrees (lon first, as in GeoJSON)")
        out.append([*pts, pts[0]])
    return out


WhereItem = Annotated[str, Field(min_length=1)] | AreaWhere | BBoxWhere | PolygonWhere
Where = WhereItem | Annotated[list[WhereItem], Field(min_length=1)]


def plain_selector(where: Any) -> Selector:
    """A ``where`` field as a plain selector (models become mappings)."""
    def plain(item: Any) -> Any:
        return item.model_dump(exclude_none=True) if isinstance(item, StrictModel) else item

    return [plain(w) for w in where] if isinstance(where, list) else plain(where)


def describe(selector: Selector) -> str:
    """Short text form of a selector for messages and tables."""
    if isinstance(selector, str):
        return selector
    if isinstance(selector, Mapping):
        return ", ".join(f"{k}={v}" for k, v in selector.items())
    return "; ".join(describe(s) for s in selector)
