"""Point-to-point shortest paths: a customizable contraction hierarchy (CCH) in float64.

Why a CCH
---------
A route with a fresh set of closures must not pay for a one-to-all search.
Measured by ``benchmarks/bench_p2p.py`` on the national all-roads graph of
Syria (OSM 2021, every class: 361,689 nodes, 967,481 directed edges), 200
random pairs of the largest strongly connected component, each with its own
closure set (50 random edges and every edge within ~5 km of a random point,
~1,600 edges), 2 shared cores; ratios against the one-to-all search of the
same run (medians; one run, the machine busy):

==============================================  ======  ======  =====
fresh closure set per query, everything paid    median  p90     ratio
==============================================  ======  ======  =====
one-to-all ``scipy`` dijkstra + CSR rebuild     130 ms  159 ms      1
``scipy`` dijkstra, ``limit`` = true distance    81 ms  105 ms    1.6
bidirectional Dijkstra (numba) + pair patch      59 ms  123 ms    2.2
bidirectional ALT, 16 landmarks + pair patch    9.2 ms   36 ms     14
RoutingKit CCH (integer ms: not exact)          9.6 ms   32 ms     14
this CCH, always re-customised                   11 ms   36 ms     12
this CCH, :meth:`CompiledWeights.path` as used  3.1 ms  7.8 ms     42
==============================================  ======  ======  =====

With one closure set prepared beforehand: one-to-all 92 ms, ALT 4.8 ms (p90
89 ms), this CCH 0.14 ms fully customised or 0.45 ms as a patch on the open
network's metric (644x and 204x).

The query is an upward sweep of the elimination tree (no priority queue).
A fresh weighting is a patch of pair weights on the open network's (one pass
over the edges, ~2-3 ms at a million edges); when it only raises weights
(closures, slowdowns, delays) a best path of the open network that crosses no
changed pair is still a best path (92% of the queries above), otherwise the
patch is re-customised *partially*: only the shortcuts whose weight depends
on a changed pair are recomputed and kept as a small overlay (median 7 ms for
the closure sets above, 15 ms with the query when the best path does cross
them). Preprocessing, once per graph: a nested-dissection order (METIS via
``pymetis``, ~2-3 s; RoutingKit's inertial-flow order gives the same query
times in 18 s) and the chordal supergraph (1.76 M shortcuts, 102 MiB with
scratch space, under a second); once per weighting, a full customisation
(0.12 s, 40 MiB). ALT is as fast at the median only, needs 106 MiB of
landmark distances per weighting and has a long tail; RoutingKit's CCH has
integer weights, so it cannot return Dijkstra's float costs exactly.

Exactness: shortcut weights are float64 sums of edge weights, so the distance
is Dijkstra's up to the rounding of the order of summation; the path is
unpacked to the original edges and its cost summed along it in path order.

How it works
------------
Nodes are ranked by the order. Contracting them in rank order with fill-in
gives a chordal graph whose arcs ``(a, b)``, ``rank a < rank b``, are stored
once per node pair with a forward (``a -> b``) and backward (``b -> a``)
weight; each node's upward neighbours are its ancestors in the elimination
tree. Customisation relaxes every lower triangle ``(x, a, b)`` bottom-up;
a query relaxes the upward arcs of the ancestors of the source (forward) and of
the target (backward) and meets at a common ancestor. Shortcuts remember the
middle node of their best triangle, so a path is unpacked to original pairs.

Arrays use ranks, not node indices, except where named ``node``/``pair``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

_INF = np.inf


# --------------------------------------------------------------------------- order
def nested_dissection_order(n_nodes: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Node indices in contraction order (``order[r]`` has rank ``r``; separators last).

    ``a``, ``b``: undirected edges (any duplicates and both directions allowed,
    self-loops ignored). METIS nested dissection with a fixed seed, so the order
    (and with it the choice among equal-cost paths) is reproducible.
    """
    import pymetis

    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    keep = a != b
    a, b = a[keep], b[keep]
    if n_nodes <= 2 or len(a) == 0:
        return np.arange(n_nodes, dtype=np.int64)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    key = np.unique(lo * n_nodes + hi)
    lo, hi = key // n_nodes, key % n_nodes
    src = np.concatenate([lo, hi])
    dst = np.concatenate([hi, lo])
    by = np.argsort(src, kind="stable")
    starts = np.zeros(n_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n_nodes), out=starts[1:])
    options = pymetis.Options()
    options.seed = 7
    perm, _ = pymetis.nested_dissection(pymetis.CSRAdjacency(starts, dst[by]), options=options)
    return np.asarray(perm, dtype=np.int64)


# --------------------------------------------------------------------------- kernels
@njit(cache=True)
def _etree(n, lptr, lidx):  # pragma: no cover - compiled
    """Elimination tree (Liu) of the graph whose lower neighbours of ``y`` are ``lidx[lptr[y]:lptr[y+1]]``."""
    parent = np.full(n, -1, np.int64)
    anc = np.full(n, -1, np.int64)
    for y in range(n):
        for j in range(lptr[y], lptr[y + 1]):
            r = lidx[j]
            while anc[r] != -1 and anc[r] != y:
                nxt = anc[r]
                anc[r] = y
                r = nxt
            if anc[r] == -1:
                anc[r] = y
                parent[r] = y
    return parent


@njit(cache=True)
def _chordal(n, lptr, lidx, parent):  # pragma: no cover - compiled
    """Upward arcs of the chordal supergraph (row patterns of the Cholesky factor), CSR by tail."""
    mark = np.full(n, -1, np.int64)
    first = np.zeros(n + 1, np.int64)
    for y in range(n):
        mark[y] = y
        for j in range(lptr[y], lptr[y + 1]):
            z = lidx[j]
            while mark[z] != y:
                first[z + 1] += 1
                mark[z] = y
                z = parent[z]
    for z in range(n):
        first[z + 1] += first[z]
    head = np.empty(first[n], np.int32)
    cur = first[:-1].copy()
    mark[:] = -1
    for y in range(n):
        mark[y] = y
        for j in range(lptr[y], lptr[y + 1]):
            z = lidx[j]
            while mark[z] != y:
                head[cur[z]] = y
                cur[z] += 1
                mark[z] = y
                z = parent[z]
    return first, head


@njit(cache=True, inline="always")
def _find_arc(first, head, a, b):  # pragma: no cover - compiled
    lo = first[a]
    hi = first[a + 1]
    while lo < hi:
        mid = (lo + hi) >> 1
        if head[mid] < b:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True)
def _arc_of_pairs(first, head, ra, rb):  # pragma: no cover - compiled
    """Arc id holding each directed rank pair ``ra -> rb`` (-1 for a self-loop) and its direction."""
    m = len(ra)
    arc = np.full(m, -1, np.int64)
    fwd = np.zeros(m, np.bool_)
    for i in range(m):
        a = ra[i]
        b = rb[i]
        if a < b:
            arc[i] = _find_arc(first, head, a, b)
            fwd[i] = True
        elif b < a:
            arc[i] = _find_arc(first, head, b, a)
    return arc, fwd


@njit(cache=True)
def _customize(first, head, fw, bw, mf, mb):  # pragma: no cover - compiled
    """Relax every lower triangle bottom-up; ``fw``/``bw`` hold the input weights, ``mf``/``mb`` -1."""
    n = len(first) - 1
    for x in range(n):
        end = first[x + 1]
        for i in range(first[x], end):
            bx1 = bw[i]
            fx1 = fw[i]
            if bx1 == _INF and fx1 == _INF:
                continue
            y1 = head[i]
            k = first[y1]
            for j in range(i + 1, end):
                y2 = head[j]
                while head[k] < y2:
                    k += 1
                c = bx1 + fw[j]
                if c < fw[k]:
                    fw[k] = c
                    mf[k] = x
                c = bw[j] + fx1
                if c < bw[k]:
                    bw[k] = c
                    mb[k] = x


@njit(cache=True)
def _heap_push(heap, size, item):  # pragma: no cover - compiled
    i = size
    while i > 0:
        p = (i - 1) >> 1
        if heap[p] <= item:
            break
        heap[i] = heap[p]
        i = p
    heap[i] = item
    return size + 1


@njit(cache=True)
def _heap_pop(heap, size):  # pragma: no cover - compiled
    top = heap[0]
    size -= 1
    item = heap[size]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= size:
            break
        if c + 1 < size and heap[c + 1] < heap[c]:
            c += 1
        if heap[c] >= item:
            break
        heap[i] = heap[c]
        i = c
    heap[i] = item
    return top, size


@njit(cache=True)
def _recompute(first, head, dfirst, dtail, darc, fw, bw, arc_fp, arc_bp, pair_w, a, lo, hi):  # pragma: no cover
    """Weights and middle nodes of arc ``a = (lo, hi)`` from its input and all its lower triangles.

    The lower triangles are the common lower neighbours of ``lo`` and ``hi``
    (a merge of their sorted down lists, or binary searches from the much
    shorter one). They are taken by ascending lowest node after the input, with
    strict improvement, as in :func:`_customize`, so that ties resolve the same way.
    """
    nf = pair_w[arc_fp[a]] if arc_fp[a] >= 0 else _INF
    nb = pair_w[arc_bp[a]] if arc_bp[a] >= 0 else _INF
    nmf = -1
    nmb = -1
    i = dfirst[lo]
    iend = dfirst[lo + 1]
    j = dfirst[hi]
    jend = dfirst[hi + 1]
    n_lo = iend - i
    n_hi = jend - j
    while i < iend and j < jend:
        if 16 * n_lo < n_hi:  # few lower neighbours of lo: look each up in its up list
            x = dtail[i]
            ay = _find_arc(first, head, x, hi)
            ax = darc[i]
            i += 1
            if ay >= first[x + 1] or head[ay] != hi:
                continue
        elif 16 * n_hi < n_lo:
            x = dtail[j]
            if x >= lo:
                break
            ax = _find_arc(first, head, x, lo)
            ay = darc[j]
            j += 1
            if ax >= first[x + 1] or head[ax] != lo:
                continue
        else:
            xi = dtail[i]
            xj = dtail[j]
            if xi < xj:
                i += 1
                continue
            if xj < xi:
                j += 1
                continue
            x = xi
            ax = darc[i]
            ay = darc[j]
            i += 1
            j += 1
        c = bw[ax] + fw[ay]
        if c < nf:
            nf = c
            nmf = x
        c = bw[ay] + fw[ax]
        if c < nb:
            nb = c
            nmb = x
    return nf, nb, nmf, nmb


@njit(cache=True)
def _update(
    first, head, tail, dfirst, dtail, darc, fw, bw, mf, mb, arc_fp, arc_bp, pair_w, pair_arc, pairs, new_w,
    flags, logpos,
):  # pragma: no cover - compiled
    """Partial re-customisation for new weights of some pairs.

    Arcs are settled in increasing id (= tail rank) order, so every lower arc
    of a triangle is final before the triangle's top arc. A changed arc pushes
    its triangles' new sums to their top arcs: a lower sum is taken at once; a
    higher sum through the triangle the top arc's weight came from (its middle
    node) marks the top arc for a full recomputation over all its lower
    triangles, as does a change of the arc's own input weight. Returns the
    overlay (touched arc ids ascending and their new ``fw, bw, mf, mb``); the
    metric arrays, ``pair_w`` and the scratch arrays ``flags`` and ``logpos``
    (zeros, one per arc) are left as they were.
    """
    n_arcs = len(head)
    old_pw = np.empty(len(pairs))
    for i in range(len(pairs)):
        old_pw[i] = pair_w[pairs[i]]
        pair_w[pairs[i]] = new_w[i]
    # flags: 1 queued, 2 recompute; logpos: 1 + position in the log of the arc's original values
    # Every arc is logged and queued at most once: buffers of one entry per arc (only the used part is touched).
    heap = np.empty(n_arcs, np.int64)
    size = 0
    log_arc = np.empty(n_arcs, np.int64)
    log_fw = np.empty(n_arcs)
    log_bw = np.empty(n_arcs)
    log_mf = np.empty(n_arcs, np.int32)
    log_mb = np.empty(n_arcs, np.int32)
    n_log = 0
    for i in range(len(pairs) + n_arcs):
        # first the arcs of the changed pairs, then whatever they push (the heap)
        if i < len(pairs):
            a = pair_arc[pairs[i]]
            if a < 0:
                continue
            if flags[a] & 1:
                continue
            mark = True
        else:
            if size == 0:
                break
            a, size = _heap_pop(heap, size)
            mark = False
        if mark:
            if logpos[a] == 0:
                log_arc[n_log] = a
                log_fw[n_log] = fw[a]
                log_bw[n_log] = bw[a]
                log_mf[n_log] = mf[a]
                log_mb[n_log] = mb[a]
                n_log += 1
                logpos[a] = n_log
            flags[a] |= 3
            size = _heap_push(heap, size, a)
            continue
        lo = tail[a]
        hi = head[a]
        if flags[a] & 2:
            nf, nb, nmf, nmb = _recompute(first, head, dfirst, dtail, darc, fw, bw, arc_fp, arc_bp, pair_w, a, lo, hi)
            fw[a] = nf
            bw[a] = nb
            mf[a] = nmf
            mb[a] = nmb
        k0 = logpos[a] - 1
        if fw[a] == log_fw[k0] and bw[a] == log_bw[k0]:
            continue
        fa = fw[a]
        ba = bw[a]
        above = first[hi]  # the tops (hi, c3) lie in hi's up list, in the order of lo's: a merge finds them
        for k in range(first[lo], first[lo + 1]):
            c3 = head[k]
            if c3 == hi:
                continue
            fk = fw[k]
            bk = bw[k]
            if c3 < hi:  # top (c3, hi): c3 -> lo -> hi forward, hi -> lo -> c3 backward
                top = _find_arc(first, head, c3, hi)
                cf = bk + fa
                cb = ba + fk
            else:  # top (hi, c3): hi -> lo -> c3 forward, c3 -> lo -> hi backward
                while head[above] < c3:
                    above += 1
                top = above
                cf = ba + fk
                cb = bk + fa
            touch = False
            redo = False
            if cf < fw[top]:
                touch = True
            elif mf[top] == lo and cf > fw[top]:
                redo = True
            if cb < bw[top]:
                touch = True
            elif mb[top] == lo and cb > bw[top]:
                redo = True
            if not (touch or redo):
                continue
            if logpos[top] == 0:
                log_arc[n_log] = top
                log_fw[n_log] = fw[top]
                log_bw[n_log] = bw[top]
                log_mf[n_log] = mf[top]
                log_mb[n_log] = mb[top]
                n_log += 1
                logpos[top] = n_log
            if cf < fw[top]:
                fw[top] = cf
                mf[top] = lo
            if cb < bw[top]:
                bw[top] = cb
                mb[top] = lo
            if redo:
                flags[top] |= 2
            if not flags[top] & 1:
                flags[top] |= 1
                size = _heap_push(heap, size, top)
    # Overlay: arcs whose values changed, ascending; then restore the originals.
    order = np.argsort(log_arc[:n_log])
    keep = np.zeros(n_log, np.bool_)
    n_keep = 0
    for i in range(n_log):
        a = log_arc[i]
        if fw[a] != log_fw[i] or bw[a] != log_bw[i] or mf[a] != log_mf[i] or mb[a] != log_mb[i]:
            keep[i] = True
            n_keep += 1
    out_arc = np.empty(n_keep, np.int64)
    out_fw = np.empty(n_keep)
    out_bw = np.empty(n_keep)
    out_mf = np.empty(n_keep, np.int32)
    out_mb = np.empty(n_keep, np.int32)
    j = 0
    for i in order:
        if keep[i]:
            a = log_arc[i]
            out_arc[j] = a
            out_fw[j] = fw[a]
            out_bw[j] = bw[a]
            out_mf[j] = mf[a]
            out_mb[j] = mb[a]
            j += 1
    for i in range(n_log):
        a = log_arc[i]
        fw[a] = log_fw[i]
        bw[a] = log_bw[i]
        mf[a] = log_mf[i]
        mb[a] = log_mb[i]
        flags[a] = 0
        logpos[a] = 0
    for i in range(len(pairs)):
        pair_w[pairs[i]] = old_pw[i]
    return out_arc, out_fw, out_bw, out_mf, out_mb


@njit(cache=True)
def _swap_overlay(fw, bw, mf, mb, ov_arc, ov_fw, ov_bw, ov_mf, ov_mb):  # pragma: no cover - compiled
    """Exchange the overlay values with the metric's (applying twice restores both)."""
    for i in range(len(ov_arc)):
        a = ov_arc[i]
        t = fw[a]
        fw[a] = ov_fw[i]
        ov_fw[i] = t
        t = bw[a]
        bw[a] = ov_bw[i]
        ov_bw[i] = t
        m = mf[a]
        mf[a] = ov_mf[i]
        ov_mf[i] = m
        m = mb[a]
        mb[a] = ov_mb[i]
        ov_mb[i] = m


@njit(cache=True, inline="always")
def _search_up(z, dist, pred, w, first, head, parent):  # pragma: no cover - compiled
    """Relax the up-arcs of every node on the elimination-tree path from ``z`` to the root."""
    while z != -1:
        d = dist[z]
        if d < _INF:
            for a in range(first[z], first[z + 1]):
                y = head[a]
                c = d + w[a]
                if c < dist[y]:
                    dist[y] = c
                    pred[y] = a
        z = parent[z]


@njit(cache=True, inline="always")
def _reset_up(z, df, db, parent):  # pragma: no cover - compiled
    """Put back ``inf`` on the elimination-tree path from ``z`` to the root (what a query touched)."""
    while z != -1:
        df[z] = _INF
        db[z] = _INF
        z = parent[z]


@njit(cache=True)
def _query(
    first, head, tail, parent, fw, bw, mf, mb, arc_fp, arc_bp, s, t, df, db, pf, pb, ov_arc, ov_fw, ov_bw, ov_mf, ov_mb
):  # pragma: no cover - compiled
    """Shortest ``s -> t`` (ranks) under the metric with the overlay swapped in.

    Returns the cost and the pairs of the path in order. ``df``/``db`` must be
    all ``inf`` on entry and are left so; the metric is left as it was.
    """
    _swap_overlay(fw, bw, mf, mb, ov_arc, ov_fw, ov_bw, ov_mf, ov_mb)
    df[s] = 0.0
    db[t] = 0.0
    _search_up(s, df, pf, fw, first, head, parent)
    _search_up(t, db, pb, bw, first, head, parent)
    best = _INF
    meet = -1
    z = s
    while z != -1:
        c = df[z] + db[z]
        if c < best:
            best = c
            meet = z
        z = parent[z]
    n_out = 0
    out = np.empty(len(parent), np.int64)  # a path has fewer pairs than there are nodes
    if meet >= 0:
        # up-arcs s -> meet (forward) then meet -> t (backward), each unpacked in order.
        n_up = 0
        y = meet
        while y != s:
            n_up += 1
            y = tail[pf[y]]
        # push in reverse so that the first arc of the path is on top
        seq_arc = np.empty(n_up, np.int64)
        y = meet
        k = n_up
        while y != s:
            k -= 1
            seq_arc[k] = pf[y]
            y = tail[pf[y]]
        n_down = 0
        y = meet
        while y != t:
            n_down += 1
            y = tail[pb[y]]
        down = np.empty(n_down, np.int64)
        y = meet
        k = 0
        while y != t:
            down[k] = pb[y]
            k += 1
            y = tail[pb[y]]
        # Unpacking replaces an arc by two: the stack never holds more than the
        # arcs of the path plus one per level of the hierarchy.
        stack_arc = np.empty(n_up + n_down + len(parent) + 2, np.int64)
        stack_dir = np.empty(n_up + n_down + len(parent) + 2, np.bool_)
        sp = 0
        for k in range(n_down - 1, -1, -1):
            stack_arc[sp] = down[k]
            stack_dir[sp] = False
            sp += 1
        for k in range(n_up - 1, -1, -1):
            stack_arc[sp] = seq_arc[k]
            stack_dir[sp] = True
            sp += 1
        while sp > 0:
            sp -= 1
            a = stack_arc[sp]
            fwd = stack_dir[sp]
            lo = tail[a]
            hi = head[a]
            x = mf[a] if fwd else mb[a]
            if x < 0:
                out[n_out] = arc_fp[a] if fwd else arc_bp[a]
                n_out += 1
                continue
            a_lo = _find_arc(first, head, x, lo)
            a_hi = _find_arc(first, head, x, hi)
            if fwd:  # lo -> x -> hi: (x, lo) backward, then (x, hi) forward
                stack_arc[sp] = a_hi
                stack_dir[sp] = True
                stack_arc[sp + 1] = a_lo
                stack_dir[sp + 1] = False
            else:  # hi -> x -> lo: (x, hi) backward, then (x, lo) forward
                stack_arc[sp] = a_lo
                stack_dir[sp] = True
                stack_arc[sp + 1] = a_hi
                stack_dir[sp + 1] = False
            sp += 2
    _reset_up(s, df, db, parent)
    _reset_up(t, df, db, parent)
    _swap_overlay(fw, bw, mf, mb, ov_arc, ov_fw, ov_bw, ov_mf, ov_mb)
    return best, out[:n_out].copy()


@njit(cache=True)
def _pair_minima(bounds, order, ref_w, idx, val, groups):  # pragma: no cover - compiled
    """Cheapest edge (first in ``order`` among equals) and its weight for each pair group,
    with the edges ``idx`` (ascending) weighing ``val`` and the others ``ref_w``."""
    pw = np.empty(len(groups))
    pe = np.empty(len(groups), np.int64)
    for i in range(len(groups)):
        g = groups[i]
        best = _INF
        be = order[bounds[g]]
        for k in range(bounds[g], bounds[g + 1]):
            e = order[k]
            w = ref_w[e]
            j = np.searchsorted(idx, e)
            if j < len(idx) and idx[j] == e:
                w = val[j]
            if w < best:
                best = w
                be = e
        pw[i] = best
        pe[i] = be
    return pw, pe


@njit(cache=True)
def _effective(w, usable, floor):  # pragma: no cover - compiled
    if not usable or not (w < _INF) or w != w:
        return _INF
    return floor if w < floor else w


@njit(cache=True)
def _changed_edges(weights, usable, ref, floor):  # pragma: no cover - compiled
    """Edges whose masked, floored weight differs from ``ref``, and that weight (two passes: count, fill)."""
    n = len(weights)
    count = 0
    for e in range(n):
        count += _effective(weights[e], usable[e], floor) != ref[e]
    idx = np.empty(count, np.int64)
    val = np.empty(count)
    k = 0
    for e in range(n):
        w = _effective(weights[e], usable[e], floor)
        if w != ref[e]:
            idx[k] = e
            val[k] = w
            k += 1
    return idx, val


# --------------------------------------------------------------------------- classes
@dataclass(eq=False)
class Overlay:
    """Arcs of a metric that differ under another weighting (sorted arc ids and their values)."""

    arc: np.ndarray
    fw: np.ndarray
    bw: np.ndarray
    mf: np.ndarray
    mb: np.ndarray

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.arc, self.fw, self.bw, self.mf, self.mb))


@dataclass(eq=False)
class CCHMetric:
    """Customised shortcut weights (``fw``: tail -> head, ``bw``: head -> tail) and middle nodes."""

    fw: np.ndarray
    bw: np.ndarray
    mf: np.ndarray
    mb: np.ndarray

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.fw, self.bw, self.mf, self.mb))


class CCH:
    """Metric-independent part of a CCH over the distinct directed node pairs of a graph.

    Parameters
    ----------
    n_nodes
        Number of nodes.
    pair_u, pair_v
        Tail and head of each distinct directed pair (the parallel-edge groups of
        :class:`routesim.network.core.RoutingCore`); self-loops are ignored.
    order
        Contraction order (node indices, separators last); default
        :func:`nested_dissection_order`.

    Notes
    -----
    A partial customisation or a query with an overlay changes the metric's
    arrays in place and restores them before it returns, inside one compiled
    call that holds the GIL: Python threads may share a CCH and its metrics.
    """

    def __init__(self, n_nodes: int, pair_u: np.ndarray, pair_v: np.ndarray, order: np.ndarray | None = None) -> None:
        n = int(n_nodes)
        pair_u = np.asarray(pair_u, dtype=np.int64)
        pair_v = np.asarray(pair_v, dtype=np.int64)
        self.n_nodes = n
        self.n_pairs = len(pair_u)
        self.order = nested_dissection_order(n, pair_u, pair_v) if order is None else np.asarray(order, np.int64)
        self.rank = np.empty(n, dtype=np.int64)
        self.rank[self.order] = np.arange(n)
        ra, rb = self.rank[pair_u], self.rank[pair_v]
        lo, hi = np.minimum(ra, rb), np.maximum(ra, rb)
        keep = lo != hi
        key = np.unique(hi[keep] * n + lo[keep])
        lptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(key // n, minlength=n), out=lptr[1:])
        self.parent = _etree(n, lptr, key % n)
        self.first, self.head = _chordal(n, lptr, key % n, self.parent)
        n_arcs = len(self.head)
        self.tail = np.repeat(np.arange(n, dtype=np.int32), np.diff(self.first))
        # Downward view (arcs by head, tails ascending) for partial re-customisation.
        by_head = np.lexsort((self.tail, self.head))
        self.dfirst = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.head, minlength=n), out=self.dfirst[1:])
        self.dtail = self.tail[by_head]
        self.darc = by_head.astype(np.int64)
        # Which pair each arc carries in each direction, and the reverse map.
        self.pair_arc, pair_fwd = _arc_of_pairs(self.first, self.head, ra, rb)
        self.pair_fwd = pair_fwd
        self.arc_fp = np.full(n_arcs, -1, dtype=np.int64)
        self.arc_bp = np.full(n_arcs, -1, dtype=np.int64)
        p = np.arange(self.n_pairs)
        on = self.pair_arc >= 0
        self.arc_fp[self.pair_arc[on & pair_fwd]] = p[on & pair_fwd]
        self.arc_bp[self.pair_arc[on & ~pair_fwd]] = p[on & ~pair_fwd]
        self._df = np.full(n, np.inf)
        self._db = np.full(n, np.inf)
        self._pf = np.empty(n, dtype=np.int64)
        self._pb = np.empty(n, dtype=np.int64)
        self._flags = np.zeros(n_arcs, dtype=np.uint8)
        self._logpos = np.zeros(n_arcs, dtype=np.int32)

    @property
    def n_arcs(self) -> int:
        return len(self.head)

    @property
    def nbytes(self) -> int:
        """Memory of the topology, bytes."""
        return sum(
            a.nbytes
            for a in (
                self.order, self.rank, self.parent, self.first, self.head, self.tail, self.dfirst, self.dtail,
                self.darc, self.pair_arc, self.pair_fwd, self.arc_fp, self.arc_bp, self._df, self._db, self._pf,
                self._pb, self._flags, self._logpos,
            )
        )

    def customize(self, pair_w: np.ndarray) -> CCHMetric:
        """Full customisation for pair weights (``inf``: no usable edge)."""
        fw = np.full(self.n_arcs, np.inf)
        bw = np.full(self.n_arcs, np.inf)
        on = self.arc_fp >= 0
        fw[on] = pair_w[self.arc_fp[on]]
        on = self.arc_bp >= 0
        bw[on] = pair_w[self.arc_bp[on]]
        mf = np.full(self.n_arcs, -1, dtype=np.int32)
        mb = np.full(self.n_arcs, -1, dtype=np.int32)
        _customize(self.first, self.head, fw, bw, mf, mb)
        return CCHMetric(fw, bw, mf, mb)

    def overlay(self, metric: CCHMetric, base_pair_w: np.ndarray, pairs: np.ndarray, new_w: np.ndarray) -> Overlay:
        """Partial customisation: what changes in ``metric`` (customised for ``base_pair_w``)
        when ``pairs`` get the weights ``new_w``. Neither input is modified."""
        pairs = np.asarray(pairs, dtype=np.int64)
        new_w = np.asarray(new_w, dtype=np.float64)
        return Overlay(
            *_update(
                self.first, self.head, self.tail, self.dfirst, self.dtail, self.darc, metric.fw, metric.bw,
                metric.mf, metric.mb, self.arc_fp, self.arc_bp, base_pair_w, self.pair_arc, pairs, new_w,
                self._flags, self._logpos,
            )
        )

    def query(
        self, metric: CCHMetric, source: int, target: int, overlay: Overlay | None = None
    ) -> tuple[float, np.ndarray]:
        """Cost and pairs (in path order) of a shortest path between node indices; ``inf`` and no pairs if none."""
        o = overlay if overlay is not None else _NO_OVERLAY
        cost, pairs = _query(
            self.first, self.head, self.tail, self.parent, metric.fw, metric.bw, metric.mf, metric.mb,
            self.arc_fp, self.arc_bp, int(self.rank[source]), int(self.rank[target]), self._df, self._db,
            self._pf, self._pb, o.arc, o.fw, o.bw, o.mf, o.mb,
        )
        return float(cost), pairs


_NO_OVERLAY = Overlay(
    np.zeros(0, np.int64), np.zeros(0), np.zeros(0), np.zeros(0, np.int32), np.zeros(0, np.int32)
)


def pair_minima(
    bounds: np.ndarray, order: np.ndarray, ref_w: np.ndarray, idx: np.ndarray, val: np.ndarray, groups: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Weight and edge of the cheapest edge of each pair group in ``groups`` (edges of
    group ``g``: ``order[bounds[g]:bounds[g + 1]]``), where edges ``idx`` (ascending)
    weigh ``val`` and the others ``ref_w``."""
    return _pair_minima(bounds, order, ref_w, idx, val, np.asarray(groups, dtype=np.int64))


def changed_edges(
    weights: np.ndarray, usable: np.ndarray | None, ref: np.ndarray, floor: float
) -> tuple[np.ndarray, np.ndarray]:
    """Edges whose effective weight (``inf`` where not usable, at least ``floor``) differs from ``ref``."""
    w = np.ascontiguousarray(weights, dtype=np.float64)
    u = np.ones(len(w), dtype=np.bool_) if usable is None else np.ascontiguousarray(usable, dtype=np.bool_)
    return _changed_edges(w, u, ref, float(floor))


# -- alternatives of closed links: bidirectional Dijkstra on per-edge weights -----------


@njit(cache=True, inline="always")
def _lh_push(keys, items, size, key, item):  # pragma: no cover - compiled
    i = size
    while i > 0:
        p = (i - 1) >> 1
        if keys[p] <= key:
            break
        keys[i] = keys[p]
        items[i] = items[p]
        i = p
    keys[i] = key
    items[i] = item
    return size + 1


@njit(cache=True, inline="always")
def _lh_pop(keys, items, size):  # pragma: no cover - compiled
    key = keys[0]
    item = items[0]
    size -= 1
    k, x = keys[size], items[size]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= size:
            break
        if c + 1 < size and keys[c + 1] < keys[c]:
            c += 1
        if keys[c] >= k:
            break
        keys[i] = keys[c]
        items[i] = items[c]
        i = c
    keys[i] = k
    items[i] = x
    return key, item, size


@njit(cache=True)
def _alternatives(
    fptr, fedge, bptr, bedge, eu, ev, w, sum_a, sum_b, qs, qt, qptr, qedges, limit, out_cost, out_a, out_b, out_n
):  # pragma: no cover - compiled
    n = len(fptr) - 1
    m = len(w)
    df = np.full(n, np.inf)
    db = np.full(n, np.inf)
    pf = np.full(n, -1, np.int64)
    pb = np.full(n, -1, np.int64)
    touched = np.empty(2 * m + 4, np.int64)
    kf = np.empty(m + 2)
    xf = np.empty(m + 2, np.int64)
    kb = np.empty(m + 2)
    xb = np.empty(m + 2, np.int64)
    saved = np.empty(max(1, len(qedges)))
    for q in range(len(qs)):
        lo, hi = qptr[q], qptr[q + 1]
        for j in range(lo, hi):
            saved[j - lo] = w[qedges[j]]
            w[qedges[j]] = np.inf
        s, t = qs[q], qt[q]
        nt = 0
        mu = np.inf
        meet = -1
        settled = 0
        if s == t:
            mu = 0.0
            meet = s
        else:
            df[s] = 0.0
            db[t] = 0.0
            touched[nt] = s
            touched[nt + 1] = t
            nt += 2
            sf = _lh_push(kf, xf, 0, 0.0, s)
            sb = _lh_push(kb, xb, 0, 0.0, t)
            cap = limit[q]
            # Expand the side with the smaller queue: a link whose far side is a dead end
            # exhausts that side at once, instead of searching the whole network.
            while sf > 0 and sb > 0:
                top = kf[0] + kb[0]
                if top >= mu or top >= cap:
                    break
                if sf <= sb:
                    k, x, sf = _lh_pop(kf, xf, sf)
                    if k > df[x]:
                        continue
                    settled += 1
                    for j in range(fptr[x], fptr[x + 1]):
                        e = fedge[j]
                        c = k + w[e]
                        y = ev[e]
                        if c < df[y]:
                            df[y] = c
                            pf[y] = e
                            touched[nt] = y
                            nt += 1
                            sf = _lh_push(kf, xf, sf, c, y)
                            if c + db[y] < mu:
                                mu = c + db[y]
                                meet = y
                else:
                    k, x, sb = _lh_pop(kb, xb, sb)
                    if k > db[x]:
                        continue
                    settled += 1
                    for j in range(bptr[x], bptr[x + 1]):
                        e = bedge[j]
                        c = k + w[e]
                        y = eu[e]
                        if c < db[y]:
                            db[y] = c
                            pb[y] = e
                            touched[nt] = y
                            nt += 1
                            sb = _lh_push(kb, xb, sb, c, y)
                            if c + df[y] < mu:
                                mu = c + df[y]
                                meet = y
        a = 0.0
        b = 0.0
        if meet >= 0 and mu <= limit[q]:
            x = meet
            while x != s:
                e = pf[x]
                a += sum_a[e]
                b += sum_b[e]
                x = eu[e]
            x = meet
            while x != t:
                e = pb[x]
                a += sum_a[e]
                b += sum_b[e]
                x = ev[e]
            out_cost[q] = mu
            out_a[q] = a
            out_b[q] = b
        else:
            out_cost[q] = np.inf if mu == np.inf and (sf == 0 or sb == 0) else np.nan
            out_a[q] = np.nan
            out_b[q] = np.nan
        out_n[q] = settled
        for j in range(nt):
            y = touched[j]
            df[y] = np.inf
            db[y] = np.inf
            pf[y] = -1
            pb[y] = -1
        for j in range(lo, hi):
            w[qedges[j]] = saved[j - lo]


class LinkSearch:
    """Best alternative between the ends of closed links, one bidirectional Dijkstra each.

    Built once per graph (two CSR arrays over the directed edges, by tail and by
    head, parallel edges kept); each call takes a weight per edge. For every
    query the blocked edges weigh ``inf`` for the search only (changed in place
    in a private copy of the weights and restored), and the search stops as soon
    as the two frontiers prove the best path, or when one side runs out: the
    side with the smaller queue is expanded first, so a link leading to a dead
    end is settled by the few nodes behind it, not by the whole network.

    Parameters
    ----------
    n_nodes
        Number of nodes.
    u, v
        Tail and head node index of each directed edge.
    """

    def __init__(self, n_nodes: int, u: np.ndarray, v: np.ndarray) -> None:
        self.n_nodes = int(n_nodes)
        self.u = np.ascontiguousarray(u, dtype=np.int64)
        self.v = np.ascontiguousarray(v, dtype=np.int64)
        by_tail = np.argsort(self.u, kind="stable")
        by_head = np.argsort(self.v, kind="stable")
        self._fptr = np.zeros(self.n_nodes + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.u, minlength=self.n_nodes), out=self._fptr[1:])
        self._bptr = np.zeros(self.n_nodes + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.v, minlength=self.n_nodes), out=self._bptr[1:])
        self._fedge = by_tail.astype(np.int64)
        self._bedge = by_head.astype(np.int64)

    def alternatives(
        self,
        weights: np.ndarray,
        sources: np.ndarray,
        targets: np.ndarray,
        blocked_ptr: np.ndarray,
        blocked: np.ndarray,
        *,
        sums: tuple[np.ndarray, np.ndarray],
        limit: np.ndarray | float = np.inf,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Best path from ``sources[q]`` to ``targets[q]`` with edges
        ``blocked[blocked_ptr[q]:blocked_ptr[q + 1]]`` removed, for every query ``q``.

        Parameters
        ----------
        weights
            Cost minimised, per edge; ``inf`` for an unusable edge.
        sums
            Two per-edge quantities summed along each best path (e.g. metres and seconds).
        limit
            Per query (or one for all): give up once the best path is known to
            cost more (default: no limit).

        Returns
        -------
        cost, sum_a, sum_b, settled
            Per query: the best cost (``inf``: no path; ``nan``: none within
            ``limit``), the two sums along it (``nan`` without a path) and the
            number of nodes the search settled.
        """
        w = np.array(weights, dtype=np.float64)  # private copy: blocked edges are set in it
        qs = np.ascontiguousarray(sources, dtype=np.int64)
        qt = np.ascontiguousarray(targets, dtype=np.int64)
        nq = len(qs)
        lim = np.broadcast_to(np.asarray(limit, dtype=np.float64), (nq,)).copy()
        out_cost, out_a, out_b = np.empty(nq), np.empty(nq), np.empty(nq)
        out_n = np.empty(nq, dtype=np.int64)
        a, b = (np.ascontiguousarray(x, dtype=np.float64) for x in sums)
        _alternatives(self._fptr, self._fedge, self._bptr, self._bedge, self.u, self.v, w, a, b, qs, qt,
                      np.ascontiguousarray(blocked_ptr, dtype=np.int64), np.ascontiguousarray(blocked, dtype=np.int64),
                      lim, out_cost, out_a, out_b, out_n)
        return out_cost, out_a, out_b, out_n
