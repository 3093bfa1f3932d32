"""Routes over time: one route computation per epoch of constant network state."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date as Date
from pathlib import Path
from typing import Any

from routesim._util.dates import parse_date
from routesim.control import DEFAULT_ACTOR
from routesim.errors import RoutesimError
from routesim.events.eventset import EventSet, as_event_set
from routesim.network.graph import Network
from routesim.network.route import Route

TIMELINE_COLUMNS = (
    "start", "end", "days", "reachable", "distance_km", "time_h", "roads", "via",
    "detour_km", "extra_time_h", "events", "ended", "zones", "crossings", "why",
)


def timeline(
    network: Network,
    origin: str | int,
    destination: str | int,
    *,
    start: Date | str,
    end: Date | str,
    events: EventSet | Iterable[str | Path] | str | None = None,
    vehicle: str = "car",
    weight: str = "time",
    actor: str | None = None,
    as_frame: bool = True,
) -> Any:
    """Route between two places for each epoch of ``[start, end)``.

    Parameters
    ----------
    network
        The network (e.g. ``load_network()``).
    origin, destination
        Place names, node ids or ``"lat,lon"``.
    start, end
        Period; ``end`` is exclusive, like event ends.
    events
        As for :meth:`Network.route`; default the built-in library.
    vehicle, weight, actor
        As for :meth:`Network.route` (``actor``: whose crossings of front lines
        apply; default ``commercial``).
    as_frame
        Return a ``pandas.DataFrame`` (default) or a list of dicts.

    Returns
    -------
    pandas.DataFrame or list of dict
        One row per epoch (columns :data:`TIMELINE_COLUMNS`): ``events`` lists
        ids that took effect at ``start``, ``ended`` those whose end is
        ``start``. Detours are against the open network. Each distinct network
        state is routed once, however many epochs share it.
    """
    s, e = parse_date(start), parse_date(end)
    if e <= s:
        raise RoutesimError(f"end {e} must be after start {s}")
    eset = as_event_set(network, events)
    baseline = network.route(origin, destination, vehicle=vehicle, weight=weight)
    rows: list[dict[str, Any]] = []
    routes: dict[bytes, Route] = {}
    ground: dict[tuple[object, ...], dict[str, Any]] = {}
    ends = (network.resolve(origin).index, network.resolve(destination).index)
    for ep in eset.epochs(s, e):
        state = eset.state_at(ep.start) if actor is None else eset.state_at(ep.start, actor=actor)
        key = state.key()
        if key not in routes:
            routes[key] = network.route(origin, destination, vehicle=vehicle, weight=weight, state=state)
        r = routes[key]
        told: dict[str, Any] = {}
        if eset.control is not None:
            act = actor or DEFAULT_ACTOR
            gkey = (key, eset.control.ground(ep.start, actor=act).key)
            if gkey not in ground:
                ground[gkey] = eset.control.explain(ep.start, r.edge_index, *ends, reachable=r.reachable, actor=act,
                                                    baseline=baseline.edge_index)
            told = ground[gkey]
        rows.append(
            {
                "start": ep.start.isoformat(),
                "end": ep.end.isoformat(),
                "days": ep.days,
                "reachable": r.reachable,
                "distance_km": r.distance_km,
                "time_h": r.time_h,
                "roads": list(r.roads),
                "via": list(r.via),
                "detour_km": r.distance_km - baseline.distance_km,
                "extra_time_h": r.time_h - baseline.time_h,
                "events": list(ep.started),
                "ended": list(ep.ended),
                "zones": list(told.get("zones", [])),
                "crossings": [str(c["name"]) for c in told.get("crossings", [])],
                "why": told.get("why", ""),
            }
        )
    if not as_frame:
        return rows
    import pandas as pd

    return pd.DataFrame(rows, columns=list(TIMELINE_COLUMNS))
