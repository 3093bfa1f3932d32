"""Compiled shortest-path core.

The graph is compiled once into flat numpy arrays (one row per directed edge).
Each query takes an edge-weight array and an optional boolean mask of usable
edges: closures are masks, so no graph is ever copied. Parallel edges are
reduced to the cheapest usable one per directed node pair.

Two kinds of query share one :class:`CompiledWeights`:

* point to point, :meth:`CompiledWeights.path`: a customizable contraction
  hierarchy (:mod:`routesim.network.pathfinding`), built once per graph and
  customised once per weighting; a weighting derived from another one by a few
  changes (closures, restrictions: ``RoutingCore.compile(..., base=...)``) is a
  sparse patch of pair weights and a partial re-customisation, so a fresh set
  of closures costs about a millisecond, not a CSR rebuild;
* trees and tables, :meth:`CompiledWeights.solve` and
  :meth:`CompiledWeights.distances`: the pair weights packed as a CSR matrix
  (built on first use) and :func:`scipy.sparse.csgraph.dijkstra`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from routesim.network.pathfinding import CCH, CCHMetric, Overlay, changed_edges, pair_minima

if TYPE_CHECKING:
    # scipy is imported by the tree and table queries that use it: a point-to-point route does not.
    import scipy.sparse as sp

# csgraph drops no explicit zeros, but a zero cost makes ties between a
# zero-length connector and a direct edge arbitrary; a tiny floor keeps the
# fewest-edge path among equals.
_MIN_WEIGHT = 1e-9

#: A derived weighting changing more than this share of the edges is compiled
#: in full instead (a partial re-customisation would cost more).
_PATCH_SHARE = 0.125

#: Distance rows held at once by a many-to-many query (``8 B`` each): 32 MiB.
_CHUNK_CELLS = 1 << 22


@dataclass(frozen=True)
class ShortestPaths:
    """Distances and predecessor trees from a set of sources.

    Attributes
    ----------
    sources
        Source node indices, one row of ``dist``/``pred`` each.
    dist
        ``(len(sources), n_nodes)`` costs; ``inf`` where unreachable.
    pred
        Predecessor node index on the best path, ``-9999`` for none.
    """

    sources: np.ndarray
    dist: np.ndarray
    pred: np.ndarray
    _core: RoutingCore
    _pair_edge: np.ndarray

    def node_path(self, row: int, target: int) -> list[int] | None:
        """Node indices from ``sources[row]`` to ``target``, or ``None`` if unreachable."""
        if not np.isfinite(self.dist[row, target]):
            return None
        pred = self.pred[row]
        path = [int(target)]
        while path[-1] != self.sources[row]:
            path.append(int(pred[path[-1]]))
        path.reverse()
        return path

    def edge_path(self, row: int, target: int) -> list[int] | None:
        """Edge indices (into the compiled arrays) of the best path, or ``None``."""
        nodes = self.node_path(row, target)
        if nodes is None:
            return None
        a = np.asarray(nodes[:-1], dtype=np.int64)
        b = np.asarray(nodes[1:], dtype=np.int64)
        pairs = self._core.pair_index(a, b)
        return [int(e) for e in self._pair_edge[pairs]]


class RoutingCore:
    """Directed graph as arrays, solving shortest paths under edge masks.

    Parameters
    ----------
    n_nodes
        Number of nodes; nodes are ``0 .. n_nodes - 1``.
    u, v
        Tail and head node index of each directed edge.
    order
        Optional contraction order of the nodes for the point-to-point index
        (:class:`routesim.network.pathfinding.CCH`), e.g. one saved with a
        compiled network (:attr:`cch_order`); default: computed on first use.
    """

    def __init__(self, n_nodes: int, u: np.ndarray, v: np.ndarray, *, order: np.ndarray | None = None) -> None:
        self.n_nodes = int(n_nodes)
        self.u = np.asarray(u, dtype=np.int64)
        self.v = np.asarray(v, dtype=np.int64)
        keys = self.u * self.n_nodes + self.v
        # Edges sorted by (u, v): groups of parallel edges become contiguous runs.
        self._order = np.argsort(keys, kind="stable")
        sorted_keys = keys[self._order]
        starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]]) if len(keys) else np.zeros(0, int)
        self._starts = starts
        self._bounds = np.r_[starts, len(keys)].astype(np.int64)
        self.pair_keys = sorted_keys[starts]
        self.pair_u = self.pair_keys // max(self.n_nodes, 1)
        self.pair_v = self.pair_keys % max(self.n_nodes, 1)
        self._has_parallel = len(starts) != len(keys)
        counts = np.diff(self._bounds)
        self._group = np.repeat(np.arange(len(starts)), counts)
        #: Pair (row of :attr:`pair_keys`) of each edge, in input order.
        self.edge_pair = np.empty(len(keys), dtype=np.int64)
        self.edge_pair[self._order] = self._group
        self._indptr = np.zeros(self.n_nodes + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.pair_u, minlength=self.n_nodes), out=self._indptr[1:])
        self._given_order = None if order is None else np.asarray(order, dtype=np.int64)
        self._cch: CCH | None = None

    @property
    def n_edges(self) -> int:
        return len(self.u)

    @property
    def n_pairs(self) -> int:
        """Distinct directed node pairs (parallel edges counted once)."""
        return len(self.pair_keys)

    def pair_index(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Index of the (a, b) node pairs among the distinct edge pairs."""
        return np.searchsorted(self.pair_keys, a * self.n_nodes + b)

    # -- point-to-point index ----------------------------------------------------------
    @property
    def cch(self) -> CCH:
        """The contraction hierarchy of the graph (built on first use: an order, then the shortcuts)."""
        if self._cch is None:
            self._cch = CCH(self.n_nodes, self.pair_u, self.pair_v, order=self._given_order)
        return self._cch

    @property
    def cch_order(self) -> np.ndarray:
        """Contraction order of the nodes (to save with the graph and pass back as ``order=``)."""
        return self.cch.order

    def prepare(self) -> RoutingCore:
        """Build the point-to-point index now rather than on the first :meth:`CompiledWeights.path`."""
        self.cch  # noqa: B018 - built on access
        return self

    # -- weightings --------------------------------------------------------------------
    def compile(
        self, weights: np.ndarray, usable: np.ndarray | None = None, *, base: CompiledWeights | None = None
    ) -> CompiledWeights:
        """Reduce one weighting and mask to pair weights.

        Parameters
        ----------
        weights
            Cost of each directed edge (same order as ``u``/``v``); non-finite
            costs make an edge unusable.
        usable
            Optional boolean mask; ``False`` removes the edge (a closure).
        base
            A weighting of this core that differs from this one at few edges
            (typically the open network's): the result is stored as a patch on
            it, found with one pass over the arrays, and point-to-point queries
            re-customise only what the changed edges affect. Answers are the
            same as without ``base``.
        """
        w = np.asarray(weights, dtype=np.float64)
        if len(w) != self.n_edges:
            raise ValueError(f"weights has {len(w)} entries for {self.n_edges} edges")
        if base is not None:
            if base.core is not self:
                raise ValueError("base was compiled for another RoutingCore")
            root = base.root
            idx, val = changed_edges(w, usable, root.edge_weights, _MIN_WEIGHT)
            if len(idx) == 0:
                return root
            if len(idx) <= _PATCH_SHARE * self.n_edges:
                return self._derive(root, idx, val)
        ok = np.isfinite(w)
        if usable is not None:
            ok &= np.asarray(usable, dtype=bool)
        w = np.where(ok, np.maximum(w, _MIN_WEIGHT), np.inf)
        ws = w[self._order]
        if self._has_parallel:
            pair_w = np.minimum.reduceat(ws, self._starts) if len(ws) else ws
            best = ws == pair_w[self._group]
            # First cheapest edge of each group, in stable (input) order.
            first = np.flatnonzero(best)
            grp = self._group[first]
            keep_first = np.r_[True, grp[1:] != grp[:-1]]
            pair_edge = np.empty(len(self._starts), dtype=np.int64)
            pair_edge[grp[keep_first]] = self._order[first[keep_first]]
        else:
            pair_w = ws
            pair_edge = self._order
        return CompiledWeights(self, pair_w=pair_w, pair_edge=pair_edge, edge_weights=w)

    def _derive(self, root: CompiledWeights, idx: np.ndarray, val: np.ndarray) -> CompiledWeights:
        groups = np.unique(self.edge_pair[idx])
        pw, pe = pair_minima(self._bounds, self._order, root.edge_weights, idx, val, groups)
        changed = (pw != root.pair_w[groups]) | (pe != root.pair_edge[groups])
        return CompiledWeights(self, root=root, patch=(groups[changed], pw[changed], pe[changed]))


class CompiledWeights:
    """A weighting of a :class:`RoutingCore` ready for repeated queries.

    Made by :meth:`RoutingCore.compile`: either *full* (pair weights of every
    pair) or a *patch* on a full one (the pairs whose weight or cheapest edge
    differ). The CSR matrix and, for a patch, the full arrays are built on first
    use only.
    """

    def __init__(
        self,
        core: RoutingCore,
        *,
        pair_w: np.ndarray | None = None,
        pair_edge: np.ndarray | None = None,
        edge_weights: np.ndarray | None = None,
        root: CompiledWeights | None = None,
        patch: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    ) -> None:
        self.core = core
        self._root = root
        self._pair_w = pair_w
        self._pair_edge = pair_edge
        self._edge_w = edge_weights
        if root is None:
            empty = np.zeros(0, dtype=np.int64)
            patch = (empty, np.zeros(0), empty)
        assert patch is not None
        #: Pairs that differ from the root, ascending, with their weight and cheapest edge.
        self.patch_pairs, self.patch_w, self.patch_edge = patch
        self._matrix: sp.csr_matrix | None = None
        self._metric: CCHMetric | None = None
        self._overlay: Overlay | None = None
        self._moved: np.ndarray | None = None
        self._only_up: bool | None = None

    # -- arrays ------------------------------------------------------------------------
    @property
    def root(self) -> CompiledWeights:
        """The full weighting this one is a patch on (itself when full)."""
        return self if self._root is None else self._root

    @property
    def is_patch(self) -> bool:
        return self._root is not None

    @property
    def edge_weights(self) -> np.ndarray:
        """Effective cost of each edge (``inf`` if unusable), for a full weighting."""
        if self._edge_w is None:
            raise AttributeError("a patched weighting keeps no edge weights; see root")
        return self._edge_w

    @property
    def pair_w(self) -> np.ndarray:
        """Cost of each distinct pair (its cheapest usable edge; ``inf`` if none)."""
        if self._pair_w is None:
            pw = self.root.pair_w.copy()
            pw[self.patch_pairs] = self.patch_w
            self._pair_w = pw
        return self._pair_w

    @property
    def pair_edge(self) -> np.ndarray:
        """Edge index of the cheapest edge of each pair."""
        if self._pair_edge is None:
            pe = self.root.pair_edge.copy()
            pe[self.patch_pairs] = self.patch_edge
            self._pair_edge = pe
        return self._pair_edge

    @property
    def matrix(self) -> sp.csr_matrix:
        """Usable pairs as a CSR matrix (built on first use)."""
        if self._matrix is None:
            import scipy.sparse as sp

            core = self.core
            pw = self.pair_w
            finite = np.isfinite(pw)
            indptr = np.zeros(core.n_nodes + 1, dtype=np.int64)
            np.cumsum(np.bincount(core.pair_u[finite], minlength=core.n_nodes), out=indptr[1:])
            self._matrix = sp.csr_matrix(
                (pw[finite], core.pair_v[finite].astype(np.int32), indptr), shape=(core.n_nodes, core.n_nodes)
            )
        return self._matrix

    @property
    def nbytes(self) -> int:
        """Memory this weighting holds of its own (not its root's or its core's), bytes."""
        arrays = [self.patch_pairs, self.patch_w, self.patch_edge, self._edge_w, self._pair_w]
        if self._pair_edge is not self.core._order:
            arrays.append(self._pair_edge)
        if self._matrix is not None:
            arrays += [self._matrix.data, self._matrix.indices, self._matrix.indptr]
        total = sum(a.nbytes for a in arrays if a is not None)
        for extra in (self._metric, self._overlay):
            if extra is not None:
                total += extra.nbytes
        return total

    def _pair_values(self, pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Weights and cheapest edges of some pairs, without building full arrays."""
        if self._pair_w is not None and self._pair_edge is not None:
            return self._pair_w[pairs], self._pair_edge[pairs]
        root = self.root
        w = root.pair_w[pairs]
        e = root.pair_edge[pairs]
        if len(self.patch_pairs):
            pos = np.minimum(np.searchsorted(self.patch_pairs, pairs), len(self.patch_pairs) - 1)
            hit = self.patch_pairs[pos] == pairs
            w[hit] = self.patch_w[pos[hit]]
            e[hit] = self.patch_edge[pos[hit]]
        return w, e

    # -- point to point ----------------------------------------------------------------
    def _cch_metric(self) -> tuple[CCH, CCHMetric, Overlay | None]:
        cch = self.core.cch
        root = self.root
        if root._metric is None:
            root._metric = cch.customize(root.pair_w)
        if self._root is None:
            return cch, root._metric, None
        if self._overlay is None:
            moved = self._moved_pairs()
            pos = np.searchsorted(self.patch_pairs, moved)
            self._overlay = cch.overlay(root._metric, root.pair_w, moved, self.patch_w[pos])
        return cch, root._metric, self._overlay

    def _moved_pairs(self) -> np.ndarray:
        """Pairs of the patch whose weight differs from the root's (ascending)."""
        if self._moved is None:
            root = self.root
            moved = self.patch_w != root.pair_w[self.patch_pairs]
            self._moved = self.patch_pairs[moved]
            self._only_up = bool(np.all(self.patch_w[moved] > root.pair_w[self._moved]))
        return self._moved

    def _path_of_root(self, s: int, t: int) -> tuple[float, np.ndarray] | None:
        """The root's best path when it is also this patch's, without customising the patch.

        When the patch only raises weights (closures, slower roads, added
        delays), no path gets cheaper; a best path of the root that crosses no
        changed pair keeps its cost, so it is a best path here too. ``None``
        when that does not settle it.
        """
        moved = self._moved_pairs()
        if not self._only_up:
            return None
        cch = self.core.cch
        root = self.root
        if root._metric is None:
            root._metric = cch.customize(root.pair_w)
        cost, pairs = cch.query(root._metric, s, t, None)
        if not np.isfinite(cost):
            return cost, pairs  # unreachable on the root, so here too
        if len(moved):
            pos = np.minimum(np.searchsorted(moved, pairs), len(moved) - 1)
            if np.any(moved[pos] == pairs):
                return None
        return cost, pairs

    def prepare(self) -> CompiledWeights:
        """Customise now (the first :meth:`path` does it otherwise)."""
        self._cch_metric()
        return self

    def path(self, source: int, target: int) -> tuple[float, list[int] | None]:
        """Cost and edge indices of a best path from node ``source`` to node ``target``.

        Exact (the cost of the returned path, summed along it in order, is the
        shortest-path distance of :meth:`solve`); each step is the cheapest
        usable edge between its nodes, as in :meth:`ShortestPaths.edge_path`.
        A patch that only raises weights first tries the root's best path: if
        it crosses no changed pair it is the answer, and the patch is customised
        only for the queries whose best path it does change.
        Returns ``(inf, None)`` when ``target`` is unreachable and ``(0.0, [])``
        when ``source == target``.
        """
        s, t = int(source), int(target)
        if not (0 <= s < self.core.n_nodes and 0 <= t < self.core.n_nodes):
            raise IndexError(f"node index out of range: {source} -> {target}")
        if s == t:
            return 0.0, []
        found = self._path_of_root(s, t) if self._root is not None and self._overlay is None else None
        if found is None:
            cch, metric, overlay = self._cch_metric()
            found = cch.query(metric, s, t, overlay)
        cost, pairs = found
        if not np.isfinite(cost):
            return float("inf"), None
        w, e = self._pair_values(pairs)
        return float(np.cumsum(w)[-1]), e.tolist()

    # -- trees and tables --------------------------------------------------------------
    def solve(self, sources: np.ndarray | list[int], *, limit: float = np.inf) -> ShortestPaths:
        """One-to-all shortest paths from each source.

        Parameters
        ----------
        sources
            Node indices.
        limit
            Stop exploring beyond this cost (default: no limit).
        """
        from scipy.sparse.csgraph import dijkstra

        src = np.atleast_1d(np.asarray(sources, dtype=np.int64))
        dist, pred = dijkstra(self.matrix, directed=True, indices=src, return_predecessors=True, limit=limit)
        return ShortestPaths(
            sources=src,
            dist=np.atleast_2d(dist),
            pred=np.atleast_2d(pred),
            _core=self.core,
            _pair_edge=self.pair_edge,
        )

    def distances(
        self,
        sources: np.ndarray | list[int],
        targets: np.ndarray | list[int] | None = None,
        *,
        chunk: int | None = None,
    ) -> np.ndarray:
        """Costs only (no predecessor trees).

        Without ``targets``: ``(len(sources), n_nodes)``. With ``targets``:
        ``(len(sources), len(targets))``, computed by chunks of sources so that
        at most ``chunk`` full rows (default: 32 MiB of them) exist at once.
        """
        from scipy.sparse.csgraph import dijkstra

        src = np.atleast_1d(np.asarray(sources, dtype=np.int64))
        if targets is None:
            return np.atleast_2d(dijkstra(self.matrix, directed=True, indices=src))
        tgt = np.atleast_1d(np.asarray(targets, dtype=np.int64))
        out = np.empty((len(src), len(tgt)))
        if len(src) == 0 or len(tgt) == 0:
            return out
        rows = chunk or max(1, _CHUNK_CELLS // max(self.core.n_nodes, 1))
        matrix = self.matrix
        for i in range(0, len(src), rows):
            d = dijkstra(matrix, directed=True, indices=src[i : i + rows])
            out[i : i + rows] = np.atleast_2d(d)[:, tgt]
        return out
