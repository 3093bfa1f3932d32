"""Single-link redundancy: routesim's criticality against RA2CE's (Deltares), same graphs, same run.

For every directed edge: remove it, best path from its tail to its head by
length (RA2CE's ``single_link_redundancy`` with ``weighing: length``). Graphs:
the default Syria network and a ~50,000-edge synthetic road grid
(``benchmarks/synthetic.py``). routesim runs every edge; RA2CE (networkx: a
``has_path`` and a Dijkstra per edge) runs a random sample of edges, timed on
the sample, and both alternative lengths are compared edge by edge on it. Then
the demand-weighted criticality and the reopen values of the 2010 demand on
2016-06-01 (``scenarios/baseline-2010.yaml``), timed.

RA2CE pins old packages, so it lives in a virtual environment of its own and
runs in a child process on the same graph (passed as arrays); give its Python
with ``--ra2ce-python`` or ``RA2CE_PYTHON``::

    python -m venv ra2ce-venv && ra2ce-venv/bin/pip install ra2ce
    python benchmarks/bench_criticality.py --ra2ce-python ra2ce-venv/bin/python

Without it, the reference is the same algorithm written here on networkx (what
RA2CE runs), in this process, and the output says so.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from routesim import Network, load_network
from routesim.analysis.criticality import edge_links, link_search, single_link
from synthetic import road_grid

# Runs inside RA2CE's environment: RA2CE's own SingleLinkRedundancy.execute on the sampled edges.
RA2CE_CHILD = r'''
import json, sys, time
from types import SimpleNamespace
import networkx as nx
import numpy as np
from ra2ce.analysis.analysis_config_data.enums.weighing_enum import WeighingEnum
from ra2ce.analysis.losses.single_link_redundancy import SingleLinkRedundancy
import ra2ce

d = np.load(sys.argv[1])
u, v, length, x, y, sample = d["u"], d["v"], d["length"], d["x"], d["y"], d["sample"]
G = nx.MultiDiGraph(crs="EPSG:4326")
G.add_nodes_from((i, {"x": float(x[i]), "y": float(y[i])}) for i in range(len(x)))
G.add_edges_from((int(u[i]), int(v[i]), i, {"length": float(length[i])}) for i in range(len(u)))
S = nx.MultiDiGraph(crs="EPSG:4326")
S.add_nodes_from((n, G.nodes[n]) for n in np.unique(np.r_[u[sample], v[sample]]).tolist())
S.add_edges_from((int(u[i]), int(v[i]), int(i), {"length": float(length[i])}) for i in sample)
order = [(a, b, k, G.edges[a, b, k]) for a, b, k in S.edges(keys=True)]


class Sampled(nx.MultiDiGraph):
    """The whole graph, whose edge list (what RA2CE loops over) is the sample."""

    @property
    def edges(self):
        return SimpleNamespace(data=lambda keys=True: list(order))


full = Sampled(G)
analysis = SimpleNamespace(weighing=WeighingEnum.LENGTH, name="bench", save_csv=False, save_gpkg=False)
slr = object.__new__(SingleLinkRedundancy)
slr.analysis = analysis
slr.graph_file = SimpleNamespace(graph=full, get_graph=lambda: S)
slr.input_path = slr.static_path = slr.output_path = None
slr.hazard_names = None
slr.result = None
t0 = time.perf_counter()
result = slr.execute()
seconds = time.perf_counter() - t0
gdf = result.results_collection[0].analysis_result
# Rows follow the sampled graph's edges, the order RA2CE looped over; the key is the edge index.
print(json.dumps({"version": ra2ce.__version__, "seconds": seconds, "key": [int(k) for _, _, k, _ in order],
                  "alt": [None if a != a else float(a) for a in gdf["alt_length"]],
                  "detour": [int(c) for c in gdf["detour"]]}))
'''


def networkx_reference(u: np.ndarray, v: np.ndarray, length: np.ndarray, sample: np.ndarray) -> tuple[float, dict]:
    """RA2CE's loop on networkx, in this process: remove the edge, has_path, Dijkstra, put it back."""
    import networkx as nx

    G = nx.MultiDiGraph()
    G.add_nodes_from(range(int(max(u.max(), v.max())) + 1))
    G.add_edges_from((int(u[i]), int(v[i]), i, {"length": float(length[i])}) for i in range(len(u)))
    alt: dict[int, float] = {}
    t0 = time.perf_counter()
    for i in sample.tolist():
        a, b = int(u[i]), int(v[i])
        data = G.edges[a, b, i]
        G.remove_edge(a, b, i)
        alt[i] = nx.dijkstra_path_length(G, a, b, weight="length") if nx.has_path(G, a, b) else float("nan")
        G.add_edge(a, b, i, **data)
    return time.perf_counter() - t0, alt


def ra2ce_reference(python: str, net: Network, sample: np.ndarray) -> tuple[float, dict, str]:
    e = net.edges
    with tempfile.TemporaryDirectory() as tmp:
        arrays = Path(tmp) / "graph.npz"
        np.savez(arrays, u=e.u, v=e.v, length=e.length_m, x=e.node_x, y=e.node_y, sample=sample)
        out = subprocess.run([python, "-c", RA2CE_CHILD, str(arrays)], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "RA2CE failed")
    res = json.loads(out.stdout.strip().splitlines()[-1])
    alt = {k: (float("nan") if a is None else a) for k, a in zip(res["key"], res["alt"], strict=True)}
    return float(res["seconds"]), alt, f"RA2CE {res['version']} (SingleLinkRedundancy.execute, separate venv)"


def run(name: str, net: Network, *, sample_size: int, ra2ce_python: str | None, repeat: int) -> None:
    e = net.edges
    links = edge_links(net)
    link_search(net)  # built once per network, like the CSR of any routing engine
    single_link(net, net.open_state, links=edge_links(net).subset(np.arange(len(links)) < 10), weight="distance",
                vehicle="car")  # compile the kernels
    best = float("inf")
    table = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        table = single_link(net, net.open_state, links=links, vehicle="car", weight="distance")
        best = min(best, time.perf_counter() - t0)
    assert table is not None
    ours = table["alt_km"].to_numpy() * 1000.0
    rs_rate = e.n / best
    sample = np.sort(np.random.default_rng(11).choice(e.n, size=min(sample_size, e.n), replace=False))
    if ra2ce_python:
        try:
            seconds, ref, label = ra2ce_reference(ra2ce_python, net, sample)
        except (OSError, RuntimeError) as exc:
            print(f"  RA2CE could not run ({exc}); using the networkx reference")
            ra2ce_python = None
    if not ra2ce_python:
        seconds, ref = networkx_reference(e.u, e.v, e.length_m, sample)
        label = "networkx reference of RA2CE's algorithm (RA2CE not run)"
    ref_alt = np.array([ref[int(i)] for i in sample])
    both = np.isfinite(ref_alt) & np.isfinite(ours[sample])
    same_flag = np.array_equal(np.isfinite(ref_alt), np.isfinite(ours[sample]))
    rel = np.abs(ours[sample][both] - ref_alt[both]) / np.maximum(ref_alt[both], 1e-9)
    ref_rate = len(sample) / seconds
    print(f"{name}: {net.core.n_nodes:,} nodes, {e.n:,} directed edges")
    print(f"  routesim criticality --edges: {e.n:,} edges in {best:.3f} s = {rs_rate:,.0f} edges/s "
          f"(best of {repeat}; {np.isfinite(ours).mean():.1%} with an alternative)")
    print(f"  {label}: {len(sample):,} sampled edges in {seconds:.2f} s = {ref_rate:,.1f} edges/s")
    print(f"  alternative lengths on the sample: {int(both.sum()):,} found by both, "
          f"max relative difference {rel.max() if len(rel) else 0.0:.1e}, "
          f"{int((rel > 1e-9).sum())} differ; connected flags {'identical' if same_flag else 'DIFFER'}")
    print(f"  ratio: routesim {rs_rate / ref_rate:,.0f}x the reference's edges/s")


def demand_run(scenario: Path, day: str) -> None:
    """Demand-weighted criticality and reopen values of a scenario's demand on a day (route level)."""
    from datetime import date, timedelta

    from routesim.analysis.criticality import DemandRoutes, demand_losses, sections
    from routesim.analysis.reopen import reopen_day
    from routesim.demand.costs import DailyPrices
    from routesim.demand.flows import scenario_flows
    from routesim.demand.prices import scenario_prices
    from routesim.runner.run import scenario_events
    from routesim.runner.validate import load_scenario, scenario_network

    loaded = load_scenario(scenario)
    net = scenario_network(loaded)
    events = scenario_events(net, loaded)
    flows = scenario_flows(loaded.scenario)
    d = date.fromisoformat(day)
    prices = DailyPrices.over(scenario_prices(loaded), d, d + timedelta(days=1))
    vot = loaded.scenario.costs.value_of_time_usd_h
    state = events.state_at(d)
    links = sections(net)
    base = single_link(net, state, links=links)
    t0 = time.perf_counter()
    demand = DemandRoutes(net, state, flows, prices=prices, value_of_time_usd_h=vot)
    table = demand_losses(base, links, demand)
    t_crit = time.perf_counter() - t0
    t0 = time.perf_counter()
    values = reopen_day(net, events, flows, day=d, prices=prices, value_of_time_usd_h=vot)
    t_reopen = time.perf_counter() - t0
    rerouted = int((table["flows"] != "").sum())
    print(f"{loaded.scenario.name} demand on {day}: {len(flows)} flows")
    print(f"  demand-weighted criticality: {rerouted:,} links on the routes closed and rerouted "
          f"(of {len(links):,}) in {t_crit:.2f} s; top: {table.iloc[0]['link']} "
          f"({table.iloc[0]['extra_cost_usd']:,.0f} USD/day)")
    print(f"  reopen: {len(values):,} closures in force valued in {t_reopen:.2f} s; first: {values.iloc[0]['closure']} "
          f"({values.iloc[0]['saved_truck_hours']:,.0f} truck-hours/day)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ra2ce-python", default=os.environ.get("RA2CE_PYTHON"),
                    help="Python of a virtual environment with ra2ce installed (default: $RA2CE_PYTHON).")
    ap.add_argument("--sample", type=int, default=2000, help="Edges RA2CE runs on each graph (default 2000).")
    ap.add_argument("--synthetic-nodes", type=int, default=13_600, help="Grid nodes (~50,000 edges by default).")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    run("default Syria network", load_network(), sample_size=args.sample, ra2ce_python=args.ra2ce_python,
        repeat=args.repeat)
    run("synthetic road grid", Network.from_graph(road_grid(args.synthetic_nodes)), sample_size=args.sample,
        ra2ce_python=args.ra2ce_python, repeat=args.repeat)
    demand_run(Path(__file__).resolve().parents[1] / "scenarios" / "baseline-2010.yaml", "2016-06-01")


if __name__ == "__main__":
    main()
