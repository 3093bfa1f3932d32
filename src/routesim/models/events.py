"""Event files: dated changes of road segments (close, open, restrict ...).

The built-in library is ``data/events/index.yaml``; users add files of the same
form. How events combine into a network state is :mod:`routesim.events`.
"""

from __future__ import annotations

import re
from datetime import date as Date
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from routesim.models.base import StrictModel
from routesim.models.selectors import Selector, Where, plain_selector
from routesim.models.vehicles import VEHICLES, Vehicle, vehicle_index

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


class Fee(StrictModel):
    """Fee charged per truck passage.

    Example::

        fee: {amount: 2000000, currency: SYP}
    """

    amount: Annotated[float, Field(ge=0)]
    currency: Literal["USD", "SYP"] = "USD"


class Queue(StrictModel):
    """A checkpoint that serves trucks at a limited rate: trucks queue when they come faster.

    Example::

        queue: {trucks_per_hour: 20, lanes: 2}   # each lane clears a truck every 3 minutes

    ``trucks_per_hour`` is the rate of one lane (the mean service time is its
    inverse); ``lanes`` defaults to ``simulation.checkpoint_servers`` (2).
    """

    trucks_per_hour: Annotated[float, Field(gt=0, le=3600)]
    lanes: Annotated[int, Field(ge=1, le=100)] | None = None


class Restriction(StrictModel):
    """Restriction carried by an event with ``action: restrict``.

    Example::

        restrict:
          speed_factor: 0.6     # 60% of free-flow speed
          delay_min: 30         # every truck loses 30 minutes here (inspection, paperwork, escort)
          queue: {trucks_per_hour: 20, lanes: 2}   # and the post clears at most 40 trucks an hour
          fee: {amount: 150, currency: USD}
          exclude: [truck]      # trucks banned
          night_closed: true    # no traffic 20:00-05:00

    ``delay_min`` is time added to each passage, whatever the traffic: it slows
    every route through the segment and never limits how many pass. ``queue`` is
    a server with a capacity: the freight simulation makes trucks wait in line
    when they arrive faster than the lanes clear them (routes, which have no
    traffic, ignore it). ``night_closed`` is a layer of its own: it stays set until an event sets it
    false or opens the segment to every vehicle, whatever other restrictions
    start and end meanwhile (omitted: unchanged).
    """

    speed_factor: Annotated[float, Field(gt=0, le=1)] | None = None
    capacity_factor: Annotated[float, Field(gt=0, le=1)] | None = None
    delay_min: Annotated[float, Field(ge=0, le=7 * 24 * 60)] | None = None
    queue: Queue | None = None
    fee: Fee | None = None
    exclude: list[Vehicle] = Field(default_factory=list)
    night_closed: bool | None = None


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

    ``action`` names an effect of :mod:`routesim.events.effects`; whether it is a
    registered one is checked when the event is read into an event set.
    """

    id: Annotated[str, Field(min_length=1, max_length=120)]
    date: Date
    end: Date | None = None
    action: Annotated[str, Field(min_length=1, json_schema_extra={"examples": ["close", "open", "restrict"]})]
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
        if not _ID.fullmatch(v):
            raise ValueError("use letters, digits, '-', '_' or '.', starting with a letter or digit")
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

    def selector(self) -> Selector:
        """``where`` as a plain selector for :func:`routesim.network.selection.resolve`."""
        return plain_selector(self.where)

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
