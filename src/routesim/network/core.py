"""Compiled shortest-path core.

The graph is compiled once into flat numpy arrays (one row per directed edge).
Each query takes an edge-weight array and an optional boolean mask of usable
edges: closures are masks, so no graph is ever copied. Parallel edges are
reduced to the cheapest usable one, the result is packed as a CSR matrix and
handed to :func:`scipy.sparse.csgraph.dijkstra`, which runs in compiled code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

# csgraph drops no explicit zeros, but a zero cost makes ties between a
# zero-length connector and a direct edge arbitrary; a tiny floor keeps the
# fewest-edge path among equals.
_MIN_WEIGHT = 1e-9


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
    """

    def __init__(self, n_nodes: int, u: np.ndarray, v: np.ndarray) -> None:
        self.n_nodes = int(n_nodes)
        self.u = np.asarray(u, dtype=np.int64)
        self.v = np.asarray(v, dtype=np.int64)
        keys = self.u * self.n_nodes + self.v
        # Edges sorted by (u, v): groups of parallel edges become contiguous runs.
        self._order = np.argsort(keys, kind="stable")
        sorted_keys = keys[self._order]
        starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
        self._starts = starts
        self.pair_keys = sorted_keys[starts]
        self.pair_u = self.pair_keys // self.n_nodes
        self.pair_v = self.pair_keys % self.n_nodes
        self._has_parallel = len(starts) != len(keys)
        counts = np.diff(np.r_[starts, len(keys)])
        self._group = np.repeat(np.arange(len(starts)), counts)

    @property
    def n_edges(self) -> int:
        return len(self.u)

    def pair_index(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Index of the (a, b) node pairs among the distinct edge pairs."""
        return np.searchsorted(self.pair_keys, a * self.n_nodes + b)

    def compile(self, weights: np.ndarray, usable: np.ndarray | None = None) -> CompiledWeights:
        """Pack one weighting and mask as a CSR matrix.

        Parameters
        ----------
        weights
            Cost of each directed edge (same order as ``u``/``v``); non-finite
            costs make an edge unusable.
        usable
            Optional boolean mask; ``False`` removes the edge (a closure).
        """
        w = np.asarray(weights, dtype=np.float64)
        if usable is not None:
            w = np.where(usable, w, np.inf)
        w = np.maximum(w, _MIN_WEIGHT)
        ws = w[self._order]
        if self._has_parallel:
            pair_w = np.minimum.reduceat(ws, self._starts)
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
        finite = np.isfinite(pair_w)
        indptr = np.zeros(self.n_nodes + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.pair_u[finite], minlength=self.n_nodes), out=indptr[1:])
        matrix = sp.csr_matrix(
            (pair_w[finite], self.pair_v[finite].astype(np.int32), indptr),
            shape=(self.n_nodes, self.n_nodes),
        )
        return CompiledWeights(core=self, matrix=matrix, pair_edge=pair_edge)


@dataclass(frozen=True)
class CompiledWeights:
    """A weighting of a :class:`RoutingCore` ready for repeated queries."""

    core: RoutingCore
    matrix: sp.csr_matrix
    pair_edge: np.ndarray

    def solve(self, sources: np.ndarray | list[int], *, limit: float = np.inf) -> ShortestPaths:
        """One-to-all shortest paths from each source.

        Parameters
        ----------
        sources
            Node indices.
        limit
            Stop exploring beyond this cost (default: no limit).
        """
        src = np.atleast_1d(np.asarray(sources, dtype=np.int64))
        dist, pred = dijkstra(
            self.matrix, directed=True, indices=src, return_predecessors=True, limit=limit
        )
        return ShortestPaths(
            sources=src,
            dist=np.atleast_2d(dist),
            pred=np.atleast_2d(pred),
            _core=self.core,
            _pair_edge=self.pair_edge,
        )

    def distances(self, sources: np.ndarray | list[int]) -> np.ndarray:
        """Costs only (no predecessor trees), ``(len(sources), n_nodes)``."""
        src = np.atleast_1d(np.asarray(sources, dtype=np.int64))
        return np.atleast_2d(dijkstra(self.matrix, directed=True, indices=src))
