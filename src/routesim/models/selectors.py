"""Selectors as they appear in files: which road segments an event or closure covers.

A selector is one of

- a segment id: ``"m5-hama-morek"``;
- ``ROAD:FROM:TO``: every segment of road ``ROAD`` along its path between two of
  its places, both directions: ``"M5:Hama:Aleppo"``;
- a whole road: ``"M4"``;
- a place name, typically a border crossing: every segment touching it:
  ``"Nasib crossing"``;
- a mapping ``{"area": {"place": "Khanasir", "radius_km": 15}}``,
  ``{"area": {"lat": 35.78, "lon": 37.5, "radius_km": 15}}`` or
  ``{"bbox": [west, south, east, north]}``: every segment with a point inside;
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


WhereItem = Annotated[str, Field(min_length=1)] | AreaWhere | BBoxWhere
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
