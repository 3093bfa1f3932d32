"""One-to-all shortest paths: routesim's compiled core vs networkx.

Baseline: ``networkx.single_source_dijkstra`` on the same synthetic 100,000-node
road-like graph, in the same process. Target: routesim >= 30x faster.

    python benchmarks/bench_routing.py [--nodes 100000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import networkx as nx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from routesim import Network
from synthetic import road_grid


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--nodes", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    t0 = time.perf_counter()
    G = road_grid(args.nodes)
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    net = Network.from_graph(G)
    t_wrap = time.perf_counter() - t0
    source = net.node_ids[len(net.node_ids) // 2]
    src_idx = net.node_index(source)

    t0 = time.perf_counter()
    compiled = net.compiled(vehicle="car", weight="time")
    t_compile = time.perf_counter() - t0

    closure = np.zeros(net.edges.n, dtype=bool)
    closure[: net.edges.n // 50] = True  # 2% of edges closed
    closed_state = net.open_state.with_closed(closure)

    nx_dist: dict = {}

    def run_nx() -> None:
        nonlocal nx_dist
        nx_dist, _ = nx.single_source_dijkstra(G, source, weight="travel_time")

    def run_core() -> None:
        compiled.solve([src_idx])

    def run_core_with_new_mask() -> None:
        net.core.compile(net.weights(closed_state), closed_state.usable("car")).solve([src_idx])

    t_nx = best_of(run_nx, max(1, args.repeat // 2))
    t_core = best_of(run_core, args.repeat)
    t_core_mask = best_of(run_core_with_new_mask, args.repeat)

    ours = compiled.solve([src_idx]).dist[0]
    check = np.array([nx_dist.get(n, np.inf) for n in net.node_ids])
    assert np.allclose(ours, check), "routesim and networkx disagree"

    print(f"graph: {len(net.node_ids):,} nodes, {net.edges.n:,} directed edges "
          f"(built in {t_build:.2f} s, compiled by Network in {t_wrap:.2f} s)")
    print(f"networkx single_source_dijkstra (baseline): {t_nx * 1000:9.1f} ms")
    print(f"routesim one-to-all, compiled weights     : {t_core * 1000:9.1f} ms"
          f"   ratio {t_nx / t_core:6.1f}x  (target >= 30x)")
    print(f"routesim one-to-all, new closure mask     : {t_core_mask * 1000:9.1f} ms"
          f"   ratio {t_nx / t_core_mask:6.1f}x  (mask + CSR packing + search)")
    print(f"routesim weight compilation (once)        : {t_compile * 1000:9.1f} ms")
    print("distances identical to networkx: yes")


if __name__ == "__main__":
    main()
