"""How much of a network each event selects, and which selections look wrong.

:func:`check_events` gives one row per event: its id, its ``where``, the number of
directed edges and the km they sum to (both directions of a two-way road count,
so a road closed both ways counts twice its length), and a flag, empty when the
selection is plausible. Rules, for each part of a ``where``:

- ``nothing``: the part selects no edge, or does not resolve on the network
  (the error is in the flag);
- ``too much``: a ``ROAD:FROM:TO`` selecting more than
  ``TOO_MUCH_FACTOR`` (4) x the great-circle distance FROM-TO + ``SLACK_KM`` (20 km):
  each direction more than twice the straight line, links included;
- ``too little``: a ``ROAD:FROM:TO`` selecting less than ``TOO_LITTLE_FACTOR``
  (0.8) x that distance: not even one direction of the road between them.

A whole road, a corridor, a place, an area or a box is not judged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from routesim._util.geo import haversine_km
from routesim.errors import RoutesimError
from routesim.events.eventset import EventSet
from routesim.events.files import EventRecord
from routesim.models.selectors import Selector, describe
from routesim.network.graph import Network

TOO_MUCH_FACTOR = 4.0
TOO_LITTLE_FACTOR = 0.8
SLACK_KM = 20.0


@dataclass(frozen=True)
class CheckRow:
    """One event's selection on a network."""

    id: str
    where: str
    edges: int
    km: float
    flag: str


def _judge(network: Network, part: Selector) -> tuple[np.ndarray | None, str]:
    try:
        mask = network.select(part)
    except RoutesimError as exc:
        return None, f"nothing: {exc}"
    if not mask.any():
        return mask, "nothing"
    if isinstance(part, str) and part.count(":") == 2:
        _, a, b = (p.strip() for p in part.split(":"))
        pa, pb = network.places.find(a), network.places.find(b)
        if pa is not None and pb is not None:
            gc = haversine_km(pa.lat, pa.lon, pb.lat, pb.lon)
            km = float(network.edges.length_m[mask].sum()) / 1000.0
            if km > TOO_MUCH_FACTOR * gc + SLACK_KM:
                return mask, f"too much: {part} selects {km:,.1f} km for {gc:,.1f} km FROM-TO"
            if km < TOO_LITTLE_FACTOR * gc:
                return mask, f"too little: {part} selects {km:,.1f} km for {gc:,.1f} km FROM-TO"
    return mask, ""


def check_events(network: Network, events: EventSet | Iterable[EventRecord]) -> list[CheckRow]:
    """Rows (id, where, edges, km, flag) of every event (records or an :class:`EventSet`)."""
    records = events.records if isinstance(events, EventSet) else list(events)
    rows = []
    for rec in records:
        sel = rec.event.selector()
        parts = sel if isinstance(sel, list) else [sel]
        total = np.zeros(network.edges.n, dtype=bool)
        flags = []
        for part in parts:
            mask, flag = _judge(network, part)
            if mask is not None:
                total |= mask
            if flag:
                flags.append(flag)
        rows.append(CheckRow(
            id=rec.event.id, where=describe(sel), edges=int(total.sum()),
            km=round(float(network.edges.length_m[total].sum()) / 1000.0, 1), flag="; ".join(flags),
        ))
    return rows
