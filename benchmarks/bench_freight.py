"""Freight simulation throughput: one simulated year of 2,000 trucks/day.

Four OD flows on the hand-drawn network (``syria-sketch``; ``--network`` for another),
with the built-in events over 2016 (so trucks are rerouted, held and stranded as
roads close). The cost per trip is also given in units of one bare simpy timeout
event (a loop process yielding ``env.timeout(1)``), measured in the same run.
Target: <= 4 units per trip.

Baseline named here: the textbook design, one simpy process per truck yielding
one timeout per edge of its route (no congestion, no closures, so it does less
work), run on the same routes for the first 30 days of the same departures.

Flow sweep: the same 2,000 trucks/day split evenly over 4, 25, 100 and 400 flows
(the four corridors, then distinct origin-destination pairs of places drawn in a
fixed order), each over the same year: the cost per trip, and its ratio at 100
flows to 4 flows. The cost per trip should not depend on how the trucks are split
into flows (target: ratio near 1).

    python benchmarks/bench_freight.py [--year 2016] [--trucks 2000] [--return-empty]
        [--network syria-sketch] [--sweep 4,25,100,400] [--no-baseline]
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import date

import simpy

from routesim import Flow, SimConfig, TruckClass, load_network, simulate
from routesim.events import as_event_set


class FlatPrices:
    """Constant prices: 500 SYP/L diesel, 1000 SYP/USD."""

    def diesel_syp_per_l(self, day: date) -> float:
        return 500.0

    def syp_per_usd(self, day: date) -> float:
        return 1000.0


def timeout_unit(n: int = 1_000_000, repeat: int = 3) -> float:
    """Seconds per bare ``env.timeout`` event in a loop process (best of ``repeat``)."""

    def loop(env: simpy.Environment, n: int):
        for _ in range(n):
            yield env.timeout(1)

    best = float("inf")
    for _ in range(repeat):
        env = simpy.Environment()
        env.process(loop(env, n))
        t0 = time.perf_counter()
        env.run()
        best = min(best, (time.perf_counter() - t0) / n)
    return best


def per_edge_baseline(net, flows, days: int, seed: int) -> tuple[int, float]:
    """Trips and seconds of one process per truck, one timeout per edge, for ``days`` days."""
    import numpy as np

    rng = np.random.default_rng(seed)
    routes = []
    for f in flows:
        r = net.route(f.origin, f.destination, vehicle="truck")
        routes.append([net.edges.base_time_s[1, e] / 3600.0 for e in r.edge_index])

    def truck(env, depart, hours):
        yield env.timeout(depart - env.now)
        for h in hours:
            yield env.timeout(h)

    def dispatcher(env, counter):
        for d in range(days):
            for f, hours in zip(flows, routes, strict=True):
                k = int(f.trucks_per_day) + int(rng.random() < f.trucks_per_day % 1)
                for dep in np.sort(rng.uniform(*f.depart_hours, k)):
                    env.process(truck(env, 24.0 * d + dep, hours))
                    counter[0] += 1
            yield env.timeout(24.0 * (d + 1) - env.now)

    env, counter = simpy.Environment(), [0]
    env.process(dispatcher(env, counter))
    t0 = time.perf_counter()
    env.run()
    return counter[0], time.perf_counter() - t0


SHARE = {"damascus-aleppo": 0.35, "homs-latakia": 0.2, "nasib-damascus": 0.25, "aleppo-tartus": 0.2}
OD = {
    "damascus-aleppo": ("Damascus", "Aleppo"),
    "homs-latakia": ("Homs", "Latakia"),
    "nasib-damascus": ("Nasib", "Damascus"),
    "aleppo-tartus": ("Aleppo", "Tartus"),
}


def sweep_flows(net, n: int, trucks: float, return_empty: bool) -> list[Flow]:
    """``n`` flows sharing ``trucks`` per day evenly: the four corridors, then other place pairs."""
    places = sorted(p.name for p in net.places if p.node is not None)
    rng = random.Random(7)
    ods = list(OD.values())[:n]
    seen = set(ods)
    for _ in range(100 * n):  # distinct pairs of places at distinct nodes, drawn in a fixed order
        if len(ods) >= n:
            break
        o, d = rng.choice(places), rng.choice(places)
        if (o, d) not in seen and net.node_index(o) != net.node_index(d):
            seen.add((o, d))
            ods.append((o, d))
    truck = TruckClass()
    return [Flow(f"f{j}", o, d, trucks_per_day=trucks / n, truck=truck, return_empty=return_empty)
            for j, (o, d) in enumerate(ods)]


def flow_sweep(net, events, counts: list[int], args: argparse.Namespace, config: SimConfig, unit: float) -> None:
    """Cost per trip as the same trucks are split into more flows."""
    print()
    print(f"flow sweep: {args.trucks:,.0f} trucks/day split evenly, {config.start} .. {config.end}")
    print(f"{'flows':>6} {'trucks/flow/day':>16} {'trips':>10} {'seconds':>8} {'us/trip':>8} {'units':>6}")
    cost = {}
    for n in counts:
        flows = sweep_flows(net, n, args.trucks, args.return_empty)
        t0 = time.perf_counter()
        result = simulate(net, events, flows, config, FlatPrices())
        wall = time.perf_counter() - t0
        trips = int(result.summary["trips_dispatched"])
        cost[n] = wall / max(trips, 1)
        print(f"{n:6d} {args.trucks / n:16.1f} {trips:10,d} {wall:8.2f} {cost[n] * 1e6:8.2f} {cost[n] / unit:6.2f}")
    if 4 in cost and 100 in cost:
        print(f"per-trip cost, 100 flows / 4 flows: {cost[100] / cost[4]:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--year", type=int, default=2016)
    ap.add_argument("--trucks", type=float, default=2000.0, help="trucks per day, all flows")
    ap.add_argument("--return-empty", action="store_true", help="also simulate empty return legs")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--network", default="syria-sketch", help="network to run on (default: the hand-drawn one)")
    ap.add_argument("--sweep", default="4,25,100,400", help="flow counts of the sweep (empty: no sweep)")
    ap.add_argument("--no-baseline", action="store_true", help="skip the per-edge baseline")
    args = ap.parse_args()

    net = load_network(args.network)
    events = as_event_set(net, None)
    truck = TruckClass()
    flows = [
        Flow(fid, o, d, trucks_per_day=args.trucks * SHARE[fid], truck=truck, return_empty=args.return_empty)
        for fid, (o, d) in OD.items()
    ]
    config = SimConfig(start=date(args.year, 1, 1), end=date(args.year + 1, 1, 1), seed=args.seed)

    unit_before = timeout_unit()
    t0 = time.perf_counter()
    result = simulate(net, events, flows, config, FlatPrices())
    wall = time.perf_counter() - t0
    unit = min(unit_before, timeout_unit())

    s = result.summary
    trips = int(s["trips_dispatched"])
    per_trip = wall / trips
    print(f"network: {net}")
    print(f"period: {config.start} .. {config.end} (end exclusive), {len(flows)} flows, "
          f"{args.trucks:,.0f} trucks/day, return_empty={args.return_empty}")
    print(f"trips simulated      : {trips:,}  (delivered {s['delivered']:,.0f}, stranded {s['stranded']:,.0f}, "
          f"in transit {s['in_transit']:,.0f}, reroutes {s['reroutes']:,.0f}; "
          f"unserved, not dispatched {s['trips_unserved']:,.0f})")
    print(f"wall time            : {wall:.2f} s")
    print(f"trips per second     : {trips / wall:,.0f}")
    print(f"bare simpy timeout   : {unit * 1e6:.3f} us/event")
    print(f"cost per trip        : {per_trip * 1e6:.2f} us = {per_trip / unit:.2f} timeout-units (target <= 4)")
    print(f"vehicle-km {s['vehicle_km']:,.0f}, fuel {s['fuel_l']:,.0f} L, "
          f"cost/ton {s['cost_per_ton_usd']:.2f} USD")
    if not args.no_baseline:
        n_base, t_base = per_edge_baseline(net, flows, 30, args.seed)
        base_per_trip = t_base / n_base
        print(f"baseline per-edge    : {n_base:,} trips (30 days, loaded only) in {t_base:.2f} s = "
              f"{base_per_trip * 1e6:.2f} us = {base_per_trip / unit:.2f} timeout-units per trip")
        print(f"speed-up vs baseline : {base_per_trip / per_trip:.1f}x per trip")
    if args.sweep:
        flow_sweep(net, events, [int(x) for x in args.sweep.split(",")], args, config, unit)


if __name__ == "__main__":
    main()
