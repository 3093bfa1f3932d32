"""Point-to-point routing (CCH), patched weightings, travel-time tables and state keys.

Every answer is checked against plain :func:`scipy.sparse.csgraph.dijkstra` on a
CSR matrix built here from the edge arrays, independently of the core.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.sparse.csgraph import dijkstra

from routesim.io.networks import build_file
from routesim.network.core import RoutingCore
from routesim.network.pathfinding import CCH, nested_dissection_order
from routesim.network.state import NetworkState

from .conftest import ROOT

MAJOR = ROOT.parent / "shared" / "osm" / "syria-roads-osm-2021-major.gpkg"
FLOOR = 1e-9  # the core's minimum edge weight


class Graph:
    """Edge arrays, the reference weights, and the core with its open weighting."""

    def __init__(self, n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray, x: np.ndarray, y: np.ndarray) -> None:
        self.n, self.u, self.v, self.w, self.x, self.y = n, u, v, w, x, y
        self.core = RoutingCore(n, u, v)
        self.root = self.core.compile(w)


def reference(g: Graph, weights: np.ndarray, usable: np.ndarray) -> sp.csr_matrix:
    """Plain CSR of the cheapest usable edge per node pair."""
    w = np.where(usable & np.isfinite(weights), np.maximum(weights, FLOOR), np.inf)
    keep = np.isfinite(w)
    key = g.u[keep] * g.n + g.v[keep]
    order = np.lexsort((w[keep], key))
    key, wk = key[order], w[keep][order]
    first = np.r_[True, key[1:] != key[:-1]]
    m = sp.csr_matrix((wk[first], (key[first] // g.n, key[first] % g.n)), shape=(g.n, g.n))
    return m


def effective(weights: np.ndarray, usable: np.ndarray) -> np.ndarray:
    return np.where(usable & np.isfinite(weights), np.maximum(weights, FLOOR), np.inf)


def check_paths(g: Graph, compiled, weights: np.ndarray, usable: np.ndarray, sources, targets) -> int:
    """Every (source, target) answer of ``compiled.path`` against Dijkstra; returns the reachable count."""
    dist = dijkstra(reference(g, weights, usable), directed=True, indices=np.asarray(sources))
    w_eff = effective(weights, usable)
    reached = 0
    for row, s in enumerate(sources):
        for t in targets:
            cost, path = compiled.path(s, t)
            expect = dist[row, t]
            if not np.isfinite(expect):
                assert path is None and cost == np.inf
                continue
            assert cost == pytest.approx(expect, rel=1e-9, abs=1e-12)
            if s == t:
                assert path == []
                continue
            reached += 1
            e = np.asarray(path)
            assert g.u[e[0]] == s and g.v[e[-1]] == t
            assert np.array_equal(g.v[e[:-1]], g.u[e[1:]]), "edges are consecutive"
            assert usable[e].all()
            assert np.cumsum(w_eff[e])[-1] == pytest.approx(cost, rel=1e-12)
            # each step is the cheapest usable edge between its nodes
            pair = g.core.edge_pair[e]
            assert np.array_equal(w_eff[e], compiled.pair_w[pair])
    return reached


# --------------------------------------------------------------------------- graphs
def grid_graph(side: int = 40, seed: int = 3) -> Graph:
    """A jittered grid: two-way and one-way streets, missing links, parallel edges, self-loops, an island."""
    rng = np.random.default_rng(seed)
    n = side * side + 3  # three nodes outside the grid: an isolated one and a one-way spur
    nid = np.arange(side * side).reshape(side, side)
    a = np.r_[nid[:, :-1].ravel(), nid[:-1, :].ravel()]
    b = np.r_[nid[:, 1:].ravel(), nid[1:, :].ravel()]
    keep = rng.random(len(a)) > 0.1
    a, b = a[keep], b[keep]
    oneway = rng.random(len(a)) < 0.15
    u = np.r_[a, b[~oneway]]
    v = np.r_[b, a[~oneway]]
    par = rng.choice(len(u), size=len(u) // 20, replace=False)
    loops = rng.choice(side * side, size=10, replace=False)
    spur = np.array([side * side + 1, side * side + 2])
    u = np.r_[u, u[par], loops, nid[0, 0], spur[0]]
    v = np.r_[v, v[par], loops, spur[0], spur[1]]  # reachable from the grid, leading nowhere back
    w = rng.uniform(10.0, 100.0, len(u))
    w[rng.random(len(u)) < 0.01] = 0.0  # zero-length connectors
    gx = np.r_[np.tile(np.arange(side), side) + rng.uniform(-0.3, 0.3, side * side), [-5.0, -1.0, -2.0]]
    gy = np.r_[np.repeat(np.arange(side), side) + rng.uniform(-0.3, 0.3, side * side), [-5.0, -1.0, -2.0]]
    return Graph(n, u.astype(np.int64), v.astype(np.int64), w, gx, gy)


def major_graph() -> Graph:
    """The motorway..tertiary roads of Syria as routesim builds them; weights are free-flow car seconds."""
    if not MAJOR.exists():
        pytest.skip(f"{MAJOR} not found")
    roads = build_file(MAJOR)
    line = roads.edge_line
    seconds = roads.line_length_m[line] / (roads.line_car_kph[line] / 3.6)
    return Graph(roads.n_nodes, roads.edge_u, roads.edge_v, seconds, roads.node_x, roads.node_y)


@pytest.fixture(scope="module")
def grid() -> Graph:
    return grid_graph()


@pytest.fixture(scope="module")
def major() -> Graph:
    return major_graph()


def closures(g: Graph, seed: int, *, faster: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """A fresh closure set (random edges and an area), with some slowed edges and delays
    and, if ``faster``, a few faster edges."""
    rng = np.random.default_rng(seed)
    usable = np.ones(len(g.u), dtype=bool)
    usable[rng.integers(len(g.u), size=50)] = False
    c = rng.integers(g.n)
    r = 0.04 * (np.ptp(g.x) + np.ptp(g.y)) / 2 * rng.uniform(0.2, 1.0)
    inside = np.hypot(g.x - g.x[c], g.y - g.y[c]) < r
    usable[inside[g.u] | inside[g.v]] = False
    w = g.w.copy()
    slow = rng.random(len(w)) < 0.01
    w[slow] = w[slow] / rng.uniform(0.2, 0.9, slow.sum()) + rng.uniform(0, 60, slow.sum())
    if faster:
        fast = rng.random(len(w)) < 0.002  # an "open" event may also lower weights
        w[fast] *= 0.5
    return w, usable


# --------------------------------------------------------------------------- paths
@pytest.mark.parametrize("name", ["grid", "major"])
def test_open_network_paths_match_dijkstra(request, name):
    g = request.getfixturevalue(name)
    rng = np.random.default_rng(1)
    sources = rng.integers(g.n, size=6)
    reached = check_paths(g, g.root, g.w, np.ones(len(g.u), dtype=bool), sources, rng.integers(g.n, size=40))
    assert reached > 100


@pytest.mark.parametrize("name", ["grid", "major"])
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_fresh_closures_match_dijkstra(request, name, seed):
    g = request.getfixturevalue(name)
    w, usable = closures(g, seed)
    patched = g.core.compile(w, usable, base=g.root)
    assert patched.root is (g.root if patched.is_patch else patched)  # a large change compiles in full
    rng = np.random.default_rng(seed)
    sources = rng.integers(g.n, size=3)
    check_paths(g, patched, w, usable, sources, rng.integers(g.n, size=25))
    # the patch answers like a weighting compiled from scratch
    full = g.core.compile(w, usable)
    assert not full.is_patch
    np.testing.assert_array_equal(patched.pair_w, full.pair_w)
    np.testing.assert_array_equal(patched.pair_edge, full.pair_edge)
    for s, t in rng.integers(g.n, size=(10, 2)):
        assert patched.path(s, t)[0] == pytest.approx(full.path(s, t)[0], rel=1e-9)


@pytest.mark.parametrize("name", ["grid", "major"])
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_closures_only_answer_from_the_open_metric_when_they_can(request, name, seed):
    g = request.getfixturevalue(name)
    w, usable = closures(g, seed, faster=False)
    patched = g.core.compile(w, usable, base=g.root)
    rng = np.random.default_rng(seed)
    sources, targets = rng.integers(g.n, size=3), rng.integers(g.n, size=25)
    check_paths(g, patched, w, usable, sources, targets)
    # the patch is customised only once some best path of the open network crosses a change
    crossing = False
    fresh = g.core.compile(w, usable, base=g.root)
    if not fresh.is_patch:
        return
    for s in sources:
        for t in targets:
            _, path = g.root.path(s, t)
            pairs = g.core.edge_pair[path or []]
            crossing |= bool(np.any(patched.pair_w[pairs] != g.root.pair_w[pairs]))
            fresh.path(s, t)
            assert (fresh._overlay is not None) == crossing


def test_patch_of_a_patch_and_of_nothing(grid):
    w, usable = closures(grid, 11)
    first = grid.core.compile(w, usable, base=grid.root)
    w2, usable2 = closures(grid, 12)
    second = grid.core.compile(w2, usable2, base=first)
    assert second.root is grid.root  # patches are always taken against the full weighting
    check_paths(grid, second, w2, usable2, [0, 5, 77], np.arange(0, grid.n, 37))
    assert grid.core.compile(grid.w, base=first) is grid.root


def test_large_change_compiles_in_full(grid):
    usable = np.random.default_rng(2).random(len(grid.u)) > 0.5
    compiled = grid.core.compile(grid.w, usable, base=grid.root)
    assert not compiled.is_patch
    check_paths(grid, compiled, grid.w, usable, [0, 100], np.arange(0, grid.n, 23))


def test_unreachable_and_trivial_pairs(grid):
    isolated, spur_a, spur_b = grid.n - 3, grid.n - 2, grid.n - 1
    assert grid.root.path(0, isolated) == (float("inf"), None)
    assert grid.root.path(isolated, 0) == (float("inf"), None)
    assert grid.root.path(spur_b, 0) == (float("inf"), None)  # one-way spur: no way back
    cost, path = grid.root.path(0, spur_b)
    assert path is not None and np.isfinite(cost)
    assert grid.root.path(isolated, isolated) == (0.0, [])
    # closing the only way in makes the spur unreachable, in a patch
    usable = np.ones(len(grid.u), dtype=bool)
    usable[(grid.v == spur_a)] = False
    assert grid.core.compile(grid.w, usable, base=grid.root).path(0, spur_b) == (float("inf"), None)
    with pytest.raises(IndexError):
        grid.root.path(0, grid.n)


def test_cheapest_parallel_edge_and_tiny_graphs():
    # 0 -> 1 twice (costs 5 and 2), 1 -> 2, a self-loop on 1, and an edgeless node 3
    u, v = np.array([0, 0, 1, 1]), np.array([1, 1, 2, 1])
    core = RoutingCore(4, u, v)
    open_ = core.compile(np.array([5.0, 2.0, 1.0, 0.5]))
    assert open_.path(0, 2) == (3.0, [1, 2])
    usable = np.array([True, False, True, True])
    assert core.compile(open_.edge_weights, usable, base=open_).path(0, 2) == (6.0, [0, 2])
    assert open_.path(0, 3) == (float("inf"), None)
    empty = RoutingCore(3, np.zeros(0, np.int64), np.zeros(0, np.int64)).compile(np.zeros(0))
    assert empty.path(0, 2) == (float("inf"), None)
    assert empty.path(1, 1) == (0.0, [])


def test_order_is_a_permutation_and_reproducible(grid):
    order = nested_dissection_order(grid.n, grid.u, grid.v)
    assert np.array_equal(np.sort(order), np.arange(grid.n))
    assert np.array_equal(order, grid.core.cch_order)
    # a given order is used as it is, and gives the same answers
    core = RoutingCore(grid.n, grid.u, grid.v, order=order[::-1].copy())
    assert np.array_equal(core.cch_order, order[::-1])
    other = core.compile(grid.w)
    for s, t in np.random.default_rng(5).integers(grid.n, size=(30, 2)):
        assert other.path(s, t)[0] == pytest.approx(grid.root.path(s, t)[0], rel=1e-9)


def test_cch_shortcuts_point_upwards(grid):
    cch: CCH = grid.core.cch
    assert np.all(cch.tail < cch.head)
    # each node's upward neighbours are its elimination-tree ancestors
    for z in np.random.default_rng(0).integers(grid.n, size=50):
        anc, p = set(), cch.parent[cch.rank[z]]
        while p != -1:
            anc.add(int(p))
            p = cch.parent[p]
        assert set(cch.head[cch.first[cch.rank[z]] : cch.first[cch.rank[z] + 1]].tolist()) <= anc


# --------------------------------------------------------------------------- tables
def test_distances_by_chunks_equal_one_to_all(grid):
    src = np.array([0, 3, 3, 900, grid.n - 3])
    dst = np.array([1, 2, 500, grid.n - 1, grid.n - 3, 0])
    full = grid.root.distances(src)
    assert full.shape == (len(src), grid.n)
    for chunk in (None, 1, 2):
        np.testing.assert_array_equal(grid.root.distances(src, dst, chunk=chunk), full[:, dst])
    assert grid.root.distances(src, np.zeros(0, np.int64)).shape == (len(src), 0)


def test_travel_times_with_index_arrays_equal_one_to_all(net):
    rng = np.random.default_rng(4)
    n = len(net.node_ids)
    origins = rng.integers(n, size=12)
    origins[3] = origins[0]  # a repeated origin
    destinations = rng.integers(n, size=9)
    for weight, scale in (("time", 3600.0), ("distance", 1000.0)):
        tree = net.compiled(vehicle="truck", weight=weight).solve(origins).dist / scale
        got = net.travel_times(origins, destinations, vehicle="truck", weight=weight)
        np.testing.assert_allclose(got, tree[:, destinations], rtol=1e-12)
    by_id = net.travel_times([net.node_ids[i] for i in origins], [net.node_ids[i] for i in destinations])
    np.testing.assert_allclose(by_id, net.travel_times(origins, destinations), rtol=1e-12)
    named = net.travel_times(["Damascus", "Homs", "Damascus"], ["Aleppo", "Homs"])
    assert named[0, 1] == pytest.approx(named[1, 0], rel=0.3) and named[1, 1] == 0.0
    np.testing.assert_array_equal(named[0], named[2])
    assert net.travel_times(np.zeros(0, np.int64), destinations).shape == (0, len(destinations))
    with pytest.raises(IndexError):
        net.travel_times(np.array([n]), destinations)


def test_route_matches_one_to_all_under_closures(net):
    rng = np.random.default_rng(8)
    n = len(net.node_ids)
    for k in range(6):
        mask = np.zeros(net.edges.n, dtype=bool)
        mask[rng.integers(net.edges.n, size=5 + 10 * k)] = True
        state = net.open_state.with_closed(mask)
        compiled = net.compiled(state, vehicle="car", weight="time")
        a, b = (int(i) for i in rng.integers(n, size=2))
        tree = compiled.solve([a])
        route = net.route(net.node_ids[a], net.node_ids[b], state=state)
        if not np.isfinite(tree.dist[0, b]):
            assert not route.reachable
            continue
        assert route.time_h == pytest.approx(tree.dist[0, b] / 3600.0, rel=1e-9)
        cost, path = compiled.path(a, b)
        assert cost == pytest.approx(tree.dist[0, b], rel=1e-9)
        assert not mask[path].any()


# --------------------------------------------------------------------------- state keys and caches
def _state(n: int) -> NetworkState:
    s = NetworkState.open(n)
    s.closed[0, [1, 5]] = True
    s.speed_factor[[2, 3]] = 0.5
    s.delay_s[7] = 120.0
    return s


def test_equal_states_have_equal_keys():
    a, b = _state(50), _state(50)
    assert a.key() == b.key()
    assert replace(a, date=None, fee_usd=np.ones(50), events=("x",), _key=[]).key() == a.key()
    assert NetworkState.open(50).key() != NetworkState.open(51).key()


@settings(max_examples=60, deadline=None)
@given(field=st.sampled_from(["closed", "speed_factor", "delay_s"]), edge=st.integers(0, 49), row=st.integers(0, 1),
       value=st.floats(0.01, 10.0))
def test_any_change_changes_the_key(field, edge, row, value):
    base = _state(50)
    changed = _state(50)
    if field == "closed":
        changed.closed[row % changed.closed.shape[0], edge] ^= True
    elif field == "speed_factor":
        changed.speed_factor[edge] = value if changed.speed_factor[edge] != value else value + 1
    else:
        changed.delay_s[edge] = value if changed.delay_s[edge] != value else value + 1
    assert changed.key() != base.key()


def test_moving_a_closure_changes_the_key():
    a, b = NetworkState.open(20), NetworkState.open(20)
    a.closed[0, 3] = True
    b.closed[0, 4] = True
    assert a.key() != b.key()
    c = NetworkState.open(20)
    c.delay_s[3] = 1.0
    d = NetworkState.open(20)
    d.speed_factor[3] = 1.0 + 1e-12
    assert len({a.key(), b.key(), c.key(), d.key(), NetworkState.open(20).key()}) == 5


def test_compiled_cache_is_bounded_and_keeps_the_open_network(net):
    open_compiled = net.compiled(vehicle="car", weight="time")
    rng = np.random.default_rng(9)
    for _ in range(70):
        mask = np.zeros(net.edges.n, dtype=bool)
        mask[rng.integers(net.edges.n, size=3)] = True
        net.compiled(net.open_state.with_closed(mask), vehicle="car", weight="time")
    open_key = net.open_state.key()
    others = [k for k in net._compiled if k[2] != open_key]
    assert 0 < len(others) <= 64
    assert sum(net._compiled[k].nbytes for k in others) <= 512 << 20
    assert net.compiled(vehicle="car", weight="time") is open_compiled
