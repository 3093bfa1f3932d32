"""Connected components of a directed road graph."""

from __future__ import annotations

import numpy as np


def strong_components(n_nodes: int, u: np.ndarray, v: np.ndarray) -> tuple[int, np.ndarray]:
    """Number of strongly connected components and the component label of each node."""
    if n_nodes == 0:
        return 0, np.zeros(0, dtype=np.int32)
    # scipy is imported here, not with the module: a route between named places never needs it.
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    matrix = sp.csr_matrix((np.ones(len(u), dtype=np.int8), (u, v)), shape=(n_nodes, n_nodes))
    count, labels = connected_components(matrix, directed=True, connection="strong")
    return int(count), labels


def largest_component(n_nodes: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Mask of the nodes of the largest strongly connected component: from any of them,
    every other can be reached and can reach it back."""
    count, labels = strong_components(n_nodes, u, v)
    if count == 0:
        return np.zeros(0, dtype=bool)
    return np.asarray(labels == np.argmax(np.bincount(labels)))
