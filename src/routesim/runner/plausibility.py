"""A guard on simulated figures: warn when the simulation departs far from the route-level estimate.

The route-level estimate sends each flow's typical truck along its route on each
day; the freight simulation adds what it cannot see — queues, congestion, night
waits, strandings. The two should stay within a small factor of each other. When
they do not, a queue or a closure has usually turned the simulation into
something no analyst meant (a checkpoint modelled as a server that caps a
corridor at a few dozen trucks a day, say), and a figure published from it would
be wrong. :func:`plausibility` says so, naming the segments where trucks waited
longest; ``routesim run`` prints the warnings and keeps them in ``manifest.json``
(``plausibility``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

#: A simulated figure more than this many times the route-level one (or below its inverse) is flagged.
PLAUSIBLE_FACTOR = 3.0
#: Share of dispatched trips stranded above which the run is flagged.
STRANDED_SHARE = 0.05
#: Segments whose mean delay per passage exceeds this (hours) are named in the warnings.
QUEUE_HOURS = 1.0
#: At most this many segments are named.
NAMED_SEGMENTS = 5


def _figures(summary: Sequence[dict[str, Any]], engine: str) -> dict[str, float]:
    out = {}
    for row in summary:
        if row.get("engine") == engine and row.get("value") is not None:
            try:
                out[str(row["metric"])] = float(row["value"])
            except (TypeError, ValueError):
                continue
    return out


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or not (math.isfinite(a) and math.isfinite(b)) or a <= 0 or b <= 0:
        return None
    return a / b


def queued_segments(segments: pd.DataFrame, *, min_hours: float = QUEUE_HOURS, n: int = NAMED_SEGMENTS) -> list[str]:
    """The segments where simulated trucks lost most time, worst first: ``"id (ref): mean delay h, trucks"``."""
    if segments.empty or "mean_delay_h" not in segments or "trucks" not in segments:
        return []
    seg = segments[(segments["mean_delay_h"] > min_hours) & (segments["trucks"] > 0)]
    seg = seg.assign(lost=seg["mean_delay_h"] * seg["trucks"]).sort_values(["lost", "segment"], ascending=[False, True])
    out = []
    for _, r in seg.head(n).iterrows():
        ref = r.get("ref")
        name = f"{r['segment']} ({ref})" if isinstance(ref, str) and ref else str(r["segment"])
        out.append(f"{name}: {r['mean_delay_h']:.1f} h per truck, {r['trucks']:,.0f} trucks")
    return out


def plausibility(
    summary: Sequence[dict[str, Any]], segments: pd.DataFrame, *, factor: float = PLAUSIBLE_FACTOR,
) -> list[str]:
    """Warnings where the simulated figures depart from the route-level ones.

    Parameters
    ----------
    summary
        Summary rows of a run with both engines (``sim`` and ``route`` rows).
    segments
        The run's ``segments.csv`` (simulated ``trucks`` and ``mean_delay_h``).
    factor
        Ratio beyond which a figure is flagged (default :data:`PLAUSIBLE_FACTOR`).

    Returns
    -------
    One message per figure flagged — cost per tonne and mean trip hours against
    the route level's, the share of trips stranded — then one naming the segments
    where trucks waited longest (:func:`queued_segments`). Empty when the run
    looks sound or has no simulation.
    """
    sim, route = _figures(summary, "sim"), _figures(summary, "route")
    if not sim or not route:
        return []
    apart = []  # figures more than `factor` from the route level's
    cost = _ratio(sim.get("cost_per_ton_usd"), route.get("cost_per_ton_usd"))
    if cost is not None and not 1.0 / factor <= cost <= factor:
        apart.append(f"simulated cost per tonne USD {sim['cost_per_ton_usd']:,.2f} is {cost:.1f}x the route-level "
                     f"USD {route['cost_per_ton_usd']:,.2f}")
    sent = route.get("trips", 0.0) - route.get("trips_unserved", 0.0)
    route_hours = route.get("truck_hours", 0.0) / sent if sent > 0 else None
    hours = _ratio(sim.get("mean_trip_hours"), route_hours)
    if hours is not None and route_hours is not None and not 1.0 / factor <= hours <= factor:
        apart.append(f"simulated mean trip {sim['mean_trip_hours']:,.1f} h is {hours:.1f}x the route-level "
                     f"{route_hours:,.1f} h")
    found = [f"implausible: {msg} (more than {factor:g}x apart: check queues and closures)" for msg in apart]
    dispatched = sim.get("trips_dispatched", 0.0)
    if dispatched > 0 and sim.get("stranded", 0.0) / dispatched > STRANDED_SHARE:
        found.append(f"implausible: {sim['stranded']:,.0f} of {dispatched:,.0f} dispatched trips stranded "
                     f"({sim['stranded'] / dispatched:.0%})")
    if not found:
        return []
    where = queued_segments(segments)
    if where:
        found.append("longest waits: " + "; ".join(where))
    return found
