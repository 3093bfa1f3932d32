"""One route with a fresh set of closures on the national all-roads graph; travel-time tables.

Part 1, point to point, on Syria's OSM 2021 roads (every class; a quick graph:
one node per distinct line end vertex, one edge per direction a line may be
driven, geodesic length, time at a speed per class). Each method answers the
same random pairs of the largest strongly connected component:

* ``fresh``: with a new closure set per query (50 random edges and every edge
  within ~5 km of a random point), paying whatever the closure set costs it
  (CSR rebuild, pair-weight patch, re-customisation);
* ``fixed``: with one closure set, prepared beforehand.

Baseline: what ``Network.route`` did before (full compile to a CSR matrix, then
a one-to-all ``scipy`` Dijkstra with predecessors). Candidates: ``scipy``
Dijkstra with ``limit`` set to the true distance (an oracle: the best any
bound could do), a bidirectional Dijkstra and a bidirectional ALT (A* with 16
landmarks) compiled with numba, RoutingKit's CCH (``routingkit-cch``, integer
weights: not exact, for reference), and routesim's float64 CCH
(``CompiledWeights.path``).

Then the public ``Network.route`` on the same graph (``Network.from_compiled``)
with a fresh state per call: everything a caller pays (state key, weights,
patch, path, route description).

Part 2, ``Network.travel_times`` for 1000 x 1000 on the synthetic 100k-node
grid (:mod:`synthetic`): public call with index arrays and with node ids vs
the core (``CompiledWeights.distances`` by chunks) vs the former unchunked
table, with peak memory (tracemalloc).

    python benchmarks/bench_p2p.py [--queries 200] [--baseline-queries 30] [--table 1000] [--no-network]
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numba import njit
from scipy.sparse.csgraph import connected_components, dijkstra

sys.path.insert(0, str(Path(__file__).resolve().parent))
from routesim.network.core import CompiledWeights, RoutingCore

ROOT = Path(__file__).resolve().parents[1]
NATIONAL = ROOT.parent / "shared" / "osm" / "syria-roads-osm-2021.gpkg"


# --------------------------------------------------------------------------- graph
def national_graph(path: Path) -> dict:
    """The national network as routesim builds it (``routesim.io.networks.build_file``): directed
    edges with metres and free-flow car seconds, node coordinates, and the compiled roads."""
    from routesim.io.networks import build_file

    roads = build_file(path)
    line = roads.edge_line
    metres = roads.line_length_m[line]
    return {"n": roads.n_nodes, "u": roads.edge_u, "v": roads.edge_v, "m": metres,
            "s": metres / (roads.line_car_kph[line] / 3.6), "x": roads.node_x, "y": roads.node_y, "roads": roads}


def national_network(g: dict):
    """The same graph as a :class:`routesim.Network`."""
    from routesim import Network

    return Network.from_compiled(g["roads"])


def closure_sets(g: dict, count: int, seed: int) -> list[np.ndarray]:
    """``count`` masks of usable edges: 50 random edges and the edges within ~5 km of a random node closed."""
    rng = np.random.default_rng(seed)
    u, v, x, y = g["u"], g["v"], g["x"], g["y"]
    out = []
    for _ in range(count):
        usable = np.ones(len(u), dtype=bool)
        usable[rng.integers(len(u), size=50)] = False
        c = rng.integers(g["n"])
        near = np.hypot((x - x[c]) * 0.83, y - y[c]) < 0.045  # ~5 km at 34 N
        usable[near[u] | near[v]] = False
        out.append(usable)
    return out


# --------------------------------------------------------------------------- candidate searches
@njit(cache=False)
def _push(hk, hn, size, key, node):  # pragma: no cover - compiled
    i = size
    while i > 0:
        p = (i - 1) >> 1
        if hk[p] <= key:
            break
        hk[i] = hk[p]
        hn[i] = hn[p]
        i = p
    hk[i] = key
    hn[i] = node
    return size + 1


@njit(cache=False)
def _pop(hk, hn, size):  # pragma: no cover - compiled
    size -= 1
    key = hk[size]
    node = hn[size]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= size:
            break
        if c + 1 < size and hk[c + 1] < hk[c]:
            c += 1
        if hk[c] >= key:
            break
        hk[i] = hk[c]
        hn[i] = hn[c]
        i = c
    hk[i] = key
    hn[i] = node
    return size


@njit(cache=False)
def _potential(lf, lb, s, t, x):  # pragma: no cover - compiled
    """ALT lower bound of d(x, t) from the landmark distances (lf: from landmark, lb: to landmark)."""
    best = 0.0
    for k in range(lf.shape[0]):
        a = lf[k, t] - lf[k, x]
        if a > best:
            best = a
        b = lb[k, x] - lb[k, t]
        if b > best:
            best = b
    return best


@njit(cache=False)
def _bidir(indptr, indices, w, rindptr, rindices, rpair, s, t, df, db, touched, lf, lb, pot, potset, alt,
           hkf, hnf, hkb, hnb):  # pragma: no cover - compiled
    """Bidirectional Dijkstra (``alt=False``) or bidirectional ALT with average potentials; returns the cost."""
    nt = 0
    df[s] = 0.0
    touched[nt] = s
    nt += 1
    if db[t] == np.inf:
        touched[nt] = t
        nt += 1
    db[t] = 0.0
    for z in (s, t):
        if alt and not potset[z]:
            pot[z] = 0.5 * (_potential(lf, lb, s, t, z) - _potential(lb, lf, t, s, z))
            potset[z] = True
        elif not alt:
            pot[z] = 0.0
    sf = _push(hkf, hnf, 0, pot[s], s)
    sb = _push(hkb, hnb, 0, -pot[t], t)
    mu = np.inf if s != t else 0.0
    while sf > 0 and sb > 0:
        if hkf[0] + hkb[0] >= mu:
            break
        fwd = hkf[0] <= hkb[0]
        if fwd:
            k = hkf[0]
            x = hnf[0]
            sf = _pop(hkf, hnf, sf)
            dx = df[x]
            if k > dx + pot[x]:
                continue
            lo, hi = indptr[x], indptr[x + 1]
        else:
            k = hkb[0]
            x = hnb[0]
            sb = _pop(hkb, hnb, sb)
            dx = db[x]
            if k > dx - pot[x]:
                continue
            lo, hi = rindptr[x], rindptr[x + 1]
        for j in range(lo, hi):
            if fwd:
                y = indices[j]
                nd = dx + w[j]
                if nd >= df[y]:
                    continue
            else:
                y = rindices[j]
                nd = dx + w[rpair[j]]
                if nd >= db[y]:
                    continue
            if df[y] == np.inf and db[y] == np.inf:
                touched[nt] = y
                nt += 1
            if not potset[y]:
                pot[y] = 0.5 * (_potential(lf, lb, s, t, y) - _potential(lb, lf, t, s, y)) if alt else 0.0
                potset[y] = True
            if fwd:
                df[y] = nd
                sf = _push(hkf, hnf, sf, nd + pot[y], y)
                if nd + db[y] < mu:
                    mu = nd + db[y]
            else:
                db[y] = nd
                sb = _push(hkb, hnb, sb, nd - pot[y], y)
                if nd + df[y] < mu:
                    mu = nd + df[y]
    for i in range(nt):
        df[touched[i]] = np.inf
        db[touched[i]] = np.inf
        potset[touched[i]] = False
    return mu


class Bidirectional:
    """Bidirectional Dijkstra / ALT over the core's pair CSR with any pair weights."""

    def __init__(self, core: RoutingCore, root: CompiledWeights, landmarks: int = 0, seed: int = 0) -> None:
        n = core.n_nodes
        self.indptr, self.indices = core._indptr, core.pair_v
        ro = np.argsort(core.pair_v, kind="stable")
        self.rindices = core.pair_u[ro]
        self.rpair = ro.astype(np.int64)
        self.rindptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(core.pair_v, minlength=n), out=self.rindptr[1:])
        self.df, self.db = np.full(n, np.inf), np.full(n, np.inf)
        self.touched = np.empty(n + 1, dtype=np.int64)
        self.pot, self.potset = np.zeros(n), np.zeros(n, dtype=bool)
        m = len(self.indices) + 2
        self.heaps = (np.empty(m), np.empty(m, np.int64), np.empty(m), np.empty(m, np.int64))
        self.alt = landmarks > 0
        k = max(landmarks, 1)
        self.lf, self.lb = np.zeros((k, n)), np.zeros((k, n))
        if self.alt:  # farthest landmarks on the open network; distances never shrink under closures
            matrix = root.matrix
            back = matrix.T.tocsr()
            rng = np.random.default_rng(seed)
            cur, score = int(rng.integers(n)), np.full(n, np.inf)
            for i in range(landmarks):
                self.lf[i] = dijkstra(matrix, indices=cur)
                self.lb[i] = dijkstra(back, indices=cur)
                both = self.lf[i] + self.lb[i]
                score = np.minimum(score, np.where(np.isfinite(both), both, -1.0))
                cur = int(np.argmax(np.where(np.isfinite(score), score, -1.0)))
            big = 1e15  # unreachable: a huge bound, still a valid one, and no inf - inf
            self.lf[~np.isfinite(self.lf)] = big
            self.lb[~np.isfinite(self.lb)] = big

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.rindices, self.rpair, self.rindptr, self.lf, self.lb)) if self.alt else \
            sum(a.nbytes for a in (self.rindices, self.rpair, self.rindptr))

    def cost(self, pair_w: np.ndarray, s: int, t: int) -> float:
        return float(_bidir(self.indptr, self.indices, pair_w, self.rindptr, self.rindices, self.rpair, s, t,
                            self.df, self.db, self.touched, self.lf, self.lb, self.pot, self.potset, self.alt,
                            *self.heaps))


# --------------------------------------------------------------------------- measuring
def timed(fn: Callable[[int], object], count: int) -> tuple[np.ndarray, list[object]]:
    times, out = [], []
    for i in range(count):
        t0 = time.perf_counter()
        out.append(fn(i))
        times.append(time.perf_counter() - t0)
    return np.asarray(times) * 1000.0, out


def row(name: str, ms: np.ndarray, base_median: float | None, note: str = "") -> None:
    med, p90 = float(np.median(ms)), float(np.percentile(ms, 90))
    ratio = f"{base_median / med:8.1f}x" if base_median else "   1.0x (baseline)"
    print(f"  {name:<46} {med:9.2f} {p90:9.2f}   {ratio}  {note}")


def header(title: str) -> None:
    print(f"\n{title}")
    print(f"  {'method':<46} {'median':>9} {'p90':>9}   ratio vs baseline (median)")


def point_to_point(args: argparse.Namespace) -> None:
    t0 = time.perf_counter()
    g = national_graph(Path(args.roads))
    n, u, v, w = g["n"], g["u"], g["v"], g["s"]
    print(f"national graph: {n:,} nodes, {len(u):,} directed edges "
          f"(read and built in {time.perf_counter() - t0:.1f} s)")
    t0 = time.perf_counter()
    core = RoutingCore(n, u, v)
    root = core.compile(w)
    t_root = time.perf_counter() - t0
    _, label = connected_components(root.matrix, directed=True, connection="strong")
    big = np.flatnonzero(label == np.bincount(label).argmax())
    rng = np.random.default_rng(args.seed)
    q = max(args.queries, args.baseline_queries)
    pairs = big[rng.integers(len(big), size=(q, 2))]
    masks = closure_sets(g, q, args.seed + 1)
    print(f"queries: {args.queries} (baseline and oracle: {args.baseline_queries}) random pairs of the largest "
          f"strongly connected component ({len(big):,} nodes); closures per set: 50 edges + ~5 km area "
          f"(median {int(np.median([(~m).sum() for m in masks[:20]])):,} edges)")

    # -- preprocessing
    print("\npreprocessing (once per graph, then once per weighting):")
    print(f"  core + open-network pair weights           {t_root * 1000:9.1f} ms")
    t0 = time.perf_counter()
    core.prepare()
    t_cch = time.perf_counter() - t0
    t0 = time.perf_counter()
    root.prepare()
    t_cust = time.perf_counter() - t0
    cch = core.cch
    print(f"  routesim CCH: order + shortcuts            {t_cch:9.2f} s   {cch.n_arcs:,} shortcuts, "
          f"{cch.nbytes / 2**20:.0f} MiB")
    metric_mib = root._metric.nbytes / 2**20 if root._metric is not None else 0.0
    print(f"  routesim CCH: customisation (per weighting) {t_cust * 1000:8.1f} ms  {metric_mib:.0f} MiB")
    t0 = time.perf_counter()
    bidir = Bidirectional(core, root)
    bidir.cost(root.pair_w, int(pairs[0, 0]), int(pairs[0, 1]))  # numba compile
    t_bidir = time.perf_counter() - t0
    t0 = time.perf_counter()
    alt = Bidirectional(core, root, landmarks=16, seed=args.seed)
    alt.cost(root.pair_w, int(pairs[0, 0]), int(pairs[0, 1]))
    t_alt = time.perf_counter() - t0
    print(f"  bidirectional Dijkstra: reverse CSR        {t_bidir:9.2f} s   {bidir.nbytes / 2**20:.0f} MiB "
          "(incl. numba compile)")
    print(f"  bidirectional ALT: 16 landmarks            {t_alt:9.2f} s   {alt.nbytes / 2**20:.0f} MiB")
    rk = None
    try:
        import routingkit_cch as rkc
    except ImportError:
        print("  routingkit-cch: not installed (skipped)")
    else:
        t0 = time.perf_counter()
        ul, vl = u.tolist(), v.tolist()
        rk_cch = rkc.CCH(cch.order.tolist(), ul, vl, False)  # same (METIS) order: same shortcuts
        scale = 1000.0  # milliseconds, integer
        w_int = np.maximum(np.round(w * scale), 1).astype(np.int64)
        rk_metric = rkc.CCHMetric(rk_cch, w_int.tolist())
        rk = (rkc, rk_cch, rk_metric, w_int, scale)
        print(f"  routingkit-cch: CCH + customisation        {time.perf_counter() - t0:9.2f} s   "
              "(integer ms weights; its inertial-flow order alone takes ~18 s)")

    bq = args.baseline_queries
    exact: list[float] = []

    def check(costs: list[object], name: str, rel: float = 1e-9) -> str:
        c = np.asarray(costs[: len(exact)], dtype=float)
        e = np.asarray(exact[: len(c)])
        ok = np.allclose(c, e, rtol=rel, atol=0.0) and np.array_equal(np.isfinite(c), np.isfinite(e))
        err = np.nanmax(np.abs(c - e) / np.where(e > 0, e, 1.0), initial=0.0, where=np.isfinite(e))
        return "exact" if ok else f"NOT exact: max rel. error {err:.1e} ({name})"

    # -- fresh closure set per query
    header("fresh closure set per query (ms per query, all costs included)")

    def baseline(i: int) -> float:
        s, t = (int(x) for x in pairs[i])
        tree = core.compile(w, masks[i]).solve([s])
        tree.edge_path(0, t)
        return float(tree.dist[0, t])

    ms, costs = timed(baseline, bq)
    exact.extend(float(c) for c in costs)  # type: ignore[arg-type]
    base_fresh = float(np.median(ms))
    row("one-to-all scipy dijkstra + CSR rebuild", ms, None)

    def oracle(i: int) -> float:
        s, t = (int(x) for x in pairs[i])
        d = dijkstra(core.compile(w, masks[i]).matrix, indices=s, limit=exact[i] * (1 + 1e-12))
        return float(d[t])

    ms, costs = timed(oracle, bq)
    row("scipy dijkstra, limit = true distance (oracle)", ms, base_fresh, check(costs, "oracle"))

    def patched(i: int) -> CompiledWeights:
        return core.compile(w, masks[i], base=root)

    ms, costs = timed(lambda i: bidir.cost(patched(i).pair_w, *(int(x) for x in pairs[i])), args.queries)
    row("bidirectional Dijkstra (numba) + pair patch", ms, base_fresh, check(costs, "bidir"))
    ms, costs = timed(lambda i: alt.cost(patched(i).pair_w, *(int(x) for x in pairs[i])), args.queries)
    row("bidirectional ALT, 16 landmarks + pair patch", ms, base_fresh, check(costs, "alt"))
    if rk is not None:
        rkc, rk_cch, rk_metric, w_int, scale = rk
        updater = rkc.CCHMetricPartialUpdater(rk_cch)
        inf = 2**31 - 2

        def rk_fresh(i: int) -> float:
            closed = np.flatnonzero(~masks[i])
            updater.apply(rk_metric, dict.fromkeys(closed.tolist(), inf))
            query = rkc.CCHQuery(rk_metric)
            res = query.run(int(pairs[i, 0]), int(pairs[i, 1]))
            d, _ = res.distance, res.arc_path
            del res, query
            updater.apply(rk_metric, dict(zip(closed.tolist(), w_int[closed].tolist(), strict=True)))
            return np.inf if d is None else d / scale

        ms, costs = timed(rk_fresh, args.queries)
        row("routingkit-cch: partial update + query", ms, base_fresh, check(costs, "routingkit", rel=1e-6))

    derive_ms, overlay_ms, query_ms, paths = [], [], [], []
    for i in range(args.queries):
        t0 = time.perf_counter()
        cw = core.compile(w, masks[i], base=root)
        t1 = time.perf_counter()
        cw.prepare()
        t2 = time.perf_counter()
        paths.append(cw.path(int(pairs[i, 0]), int(pairs[i, 1])))
        t3 = time.perf_counter()
        derive_ms.append(t1 - t0)
        overlay_ms.append(t2 - t1)
        query_ms.append(t3 - t2)
    total = (np.asarray(derive_ms) + np.asarray(overlay_ms) + np.asarray(query_ms)) * 1000.0
    row("routesim CCH: patch + partial custom. + path", total, base_fresh, check([c for c, _ in paths], "cch"))
    print(f"    of which: pair patch {np.median(derive_ms) * 1000:.2f} ms, partial customisation "
          f"{np.median(overlay_ms) * 1000:.2f} ms, query + unpacking {np.median(query_ms) * 1000:.3f} ms (medians)")

    lazy, custom = [], []

    def cch_path(i: int) -> float:  # what CompiledWeights.path does by itself: customise only when needed
        cw = core.compile(w, masks[i], base=root)
        cost = cw.path(int(pairs[i, 0]), int(pairs[i, 1]))[0]
        custom.append(cw._overlay is not None)
        return cost

    ms, costs = timed(cch_path, args.queries)
    lazy = np.asarray(custom)
    row("routesim CCH: CompiledWeights.path as used", ms, base_fresh, check(costs, "cch"))
    if lazy.any() and (~lazy).any():
        print(f"    {(~lazy).mean():.0%} of the best paths cross no closure and come from the open metric "
              f"(median {np.median(ms[~lazy]):.2f} ms); the others customise (median {np.median(ms[lazy]):.2f} ms, "
              f"p90 {np.percentile(ms[lazy], 90):.2f} ms)")

    # -- one fixed closure set
    header("one fixed closure set, prepared beforehand (ms per query)")
    fixed_mask = masks[0]
    fixed = core.compile(w, fixed_mask)
    fixed.matrix  # noqa: B018 - built before timing
    fixed_patch = core.compile(w, fixed_mask, base=root).prepare()
    exact.clear()

    def baseline_fixed(i: int) -> float:
        s, t = (int(x) for x in pairs[i])
        tree = fixed.solve([s])
        tree.edge_path(0, t)
        return float(tree.dist[0, t])

    ms, costs = timed(baseline_fixed, bq)
    exact.extend(float(c) for c in costs)  # type: ignore[arg-type]
    base_fixed = float(np.median(ms))
    row("one-to-all scipy dijkstra", ms, None)
    ms, costs = timed(lambda i: float(dijkstra(fixed.matrix, indices=int(pairs[i, 0]),
                                               limit=exact[i] * (1 + 1e-12))[pairs[i, 1]]), bq)
    row("scipy dijkstra, limit = true distance (oracle)", ms, base_fixed, check(costs, "oracle"))
    pw = fixed.pair_w
    ms, costs = timed(lambda i: bidir.cost(pw, int(pairs[i, 0]), int(pairs[i, 1])), args.queries)
    row("bidirectional Dijkstra (numba)", ms, base_fixed, check(costs, "bidir"))
    ms, costs = timed(lambda i: alt.cost(pw, int(pairs[i, 0]), int(pairs[i, 1])), args.queries)
    row("bidirectional ALT, 16 landmarks", ms, base_fixed, check(costs, "alt"))
    ms, costs = timed(lambda i: fixed_patch.path(int(pairs[i, 0]), int(pairs[i, 1]))[0], args.queries)
    row("routesim CCH path (patch on the open network)", ms, base_fixed, check(costs, "cch"))
    fixed.prepare()
    ms, costs = timed(lambda i: fixed.path(int(pairs[i, 0]), int(pairs[i, 1]))[0], args.queries)
    row("routesim CCH path (fully customised)", ms, base_fixed, check(costs, "cch"))

    if not args.network:
        return
    # -- the public call
    t0 = time.perf_counter()
    net = national_network(g)
    net.compiled(vehicle="car", weight="time").prepare()
    ids = net.node_ids  # routes are asked by node id, as a user would
    net.route(int(ids[pairs[0, 0]]), int(ids[pairs[0, 1]]))
    print(f"\nNetwork.route on the same graph (Network.from_compiled, built and prepared in "
          f"{time.perf_counter() - t0:.1f} s), ms per call:")
    print(f"  {'call':<46} {'median':>9} {'p90':>9}")
    states = [net.open_state.with_closed(~m) for m in masks[: args.queries]]

    def public(i: int) -> float:
        return net.route(int(ids[pairs[i, 0]]), int(ids[pairs[i, 1]]), state=states[i]).time_h

    ms, _ = timed(public, args.queries)
    print(f"  {'fresh closure set (state given)':<46} {np.median(ms):9.2f} {np.percentile(ms, 90):9.2f}")
    def same(i: int) -> float:
        return net.route(int(ids[pairs[i, 0]]), int(ids[pairs[i, 1]]), state=states[0]).time_h

    ms, _ = timed(same, args.queries)
    print(f"  {'same state (cached weights)':<46} {np.median(ms):9.2f} {np.percentile(ms, 90):9.2f}")
    fresh = [net.open_state.with_closed(~m) for m in masks[:20]]
    ms, _ = timed(lambda i: fresh[i].key(), len(fresh))
    print(f"  {'NetworkState.key() of a fresh state':<46} {np.median(ms):9.2f} {np.percentile(ms, 90):9.2f}")


# --------------------------------------------------------------------------- tables
def peak(fn: Callable[[], np.ndarray]) -> tuple[float, float, np.ndarray]:
    tracemalloc.start()
    t0 = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t0
    _, top = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return dt, top / 2**20, out


def tables(args: argparse.Namespace) -> None:
    from routesim import Network
    from synthetic import road_grid

    t0 = time.perf_counter()
    net = Network.from_graph(road_grid(args.grid_nodes))
    print(f"\ntravel_times on the synthetic grid: {len(net.node_ids):,} nodes, {net.edges.n:,} edges "
          f"(built in {time.perf_counter() - t0:.1f} s); {args.table} x {args.table}")
    rng = np.random.default_rng(args.seed)
    n = len(net.node_ids)
    src = rng.choice(n, size=args.table, replace=False)
    dst = rng.choice(n, size=args.table, replace=False)
    ids_src = [net.node_ids[i] for i in src]
    ids_dst = [net.node_ids[i] for i in dst]
    compiled = net.compiled(vehicle="car", weight="time")
    compiled.matrix  # noqa: B018 - built before timing
    uniq = np.unique(src)

    def former() -> np.ndarray:  # what travel_times did: every full row at once
        return compiled.distances(uniq)[:, dst]

    runs = [
        ("core: CompiledWeights.distances by chunks", lambda: compiled.distances(uniq, dst)),
        ("public: travel_times(index arrays)", lambda: net.travel_times(src, dst)),
        ("public: travel_times(node ids)", lambda: net.travel_times(ids_src, ids_dst)),
        ("former: full rows, then columns", former),
    ]
    # Interleaved repeats: each round runs every call once, so load from elsewhere hits them alike.
    seconds: dict[str, list[float]] = {name: [] for name, _ in runs}
    peaks: dict[str, float] = {}
    ref = None
    inv = np.searchsorted(uniq, src)
    for _ in range(args.table_repeat):
        for name, fn in runs:
            dt, mib, out = peak(fn)
            seconds[name].append(dt)
            peaks[name] = max(peaks.get(name, 0.0), mib)
            if ref is None:
                ref = out
            elif name.startswith("public"):
                assert np.allclose(out * 3600.0, ref[inv], rtol=1e-12)
            else:
                assert np.allclose(out, ref, rtol=1e-12)
    print(f"  {'call (median of ' + str(args.table_repeat) + ' interleaved runs)':<46} {'s':>9} {'peak MiB':>9}"
          "   ratio vs core (per round, median)")
    core_s = np.asarray(seconds[runs[0][0]])
    for name, _ in runs:
        mine = np.asarray(seconds[name])
        print(f"  {name:<46} {np.median(mine):9.2f} {peaks[name]:9.1f}   {np.median(mine / core_s):6.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--roads", default=str(NATIONAL), help="GeoPackage with a 'roads' layer")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--baseline-queries", type=int, default=30)
    ap.add_argument("--grid-nodes", type=int, default=100_000)
    ap.add_argument("--table", type=int, default=1000, help="origins and destinations of the table (0: skip)")
    ap.add_argument("--table-repeat", type=int, default=3)
    ap.add_argument("--no-network", dest="network", action="store_false", help="skip the Network.route part")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    point_to_point(args)
    if args.table:
        tables(args)


if __name__ == "__main__":
    main()
