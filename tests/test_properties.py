"""Invariants of routing under closures (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routesim import load_network

NET = load_network("syria-sketch")
PLACES = sorted(p.name for p in NET.places if p.node is not None)
SEGMENTS = sorted(NET.edges.segment_ids)
ROADS = sorted(NET.edges.road_edges)

closures = st.lists(st.one_of(st.sampled_from(SEGMENTS), st.sampled_from(ROADS)), max_size=6)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    o=st.sampled_from(PLACES), d=st.sampled_from(PLACES), first=closures, more=closures,
    vehicle=st.sampled_from(["car", "truck"]), weight=st.sampled_from(["time", "distance"]),
)
def test_closing_roads_never_shortens_a_route(o, d, first, more, vehicle, weight):
    base = NET.route(o, d, vehicle=vehicle, weight=weight)
    some = NET.route(o, d, closures=first, vehicle=vehicle, weight=weight)
    most = NET.route(o, d, closures=first + more, vehicle=vehicle, weight=weight)
    cost = (lambda r: r.time_h) if weight == "time" else (lambda r: r.distance_km)
    for a, b in ((base, some), (some, most)):
        if not b.reachable:
            continue
        assert a.reachable
        assert cost(b) >= cost(a) - 1e-9
    if not some.reachable:
        assert not most.reachable


@settings(max_examples=40, deadline=None)
@given(o=st.sampled_from(PLACES), d=st.sampled_from(PLACES), first=closures)
def test_reopening_everything_restores_the_baseline(o, d, first):
    base = NET.route(o, d)
    closed_state = NET.state(closures=first)
    reopened = closed_state.with_closed(np.zeros(NET.edges.n, dtype=bool))
    from dataclasses import replace

    reopened = replace(reopened, closed=np.zeros_like(closed_state.closed), _key=[])
    again = NET.route(o, d, state=reopened)
    assert again.segments == base.segments
    assert again.time_h == base.time_h


@settings(max_examples=40, deadline=None)
@given(o=st.sampled_from(PLACES), d=st.sampled_from(PLACES), first=closures)
def test_route_avoids_closed_edges_and_is_consistent(o, d, first):
    state = NET.state(closures=first)
    r = NET.route(o, d, state=state)
    if r.reachable:
        assert not state.closed[0][list(r.edge_index)].any()
        t = NET.travel_times([o], [d], state=state)[0, 0]
        assert np.isclose(t, r.time_h)
    else:
        assert np.isinf(NET.travel_times([o], [d], state=state)[0, 0])
