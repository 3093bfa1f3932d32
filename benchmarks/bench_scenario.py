"""A shipped scenario on the OSM default network against the hand-drawn one, in the same run.

Runs ``scenarios/<name>.yaml`` (default ``m5-closed-2016``, a year of four corridors with
the 2016 events) twice with the same seed: on ``syria-sketch`` (the hand-drawn
100-segment network, the baseline) and on ``syria-osm`` (OpenStreetMap major roads,
© OpenStreetMap contributors, ODbL 1.0), and prints wall time, trips, vehicle-km and the
ratio of the times (the goal: within 3x). With ``--repeat N`` each network runs N times
(sketch, OSM, sketch, OSM, ...) and the best time of each is kept: the first run of a
process also pays one-time costs (imports, loading compiled kernels), and other work on
the machine only ever adds time.

Usage: ``python benchmarks/bench_scenario.py [--scenario NAME] [--repeat 1]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from routesim.io.graphfiles import load_network
from routesim.runner import load_scenario, run_scenario

ROOT = Path(__file__).resolve().parents[1]


def _run(name: str, network: str, out: Path) -> tuple[float, dict[tuple[str, str], float]]:
    loaded = load_scenario(ROOT / "scenarios" / f"{name}.yaml", check_network=False)
    loaded.scenario = loaded.scenario.model_copy(update={"network": network})
    loaded.network = load_network(network)  # loading the network is not part of the run's time
    t0 = time.perf_counter()
    _, summary = run_scenario(loaded, out=out / network, progress=False)
    elapsed = time.perf_counter() - t0
    return elapsed, {(r["engine"], r["metric"]): float(r["value"]) for r in summary}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="m5-closed-2016")
    ap.add_argument("--repeat", type=int, default=1, help="runs per network; the best time is kept")
    args = ap.parse_args()
    rows: dict[str, tuple[float, dict[tuple[str, str], float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(max(1, args.repeat)):
            for net in ("syria-sketch", "syria-osm"):
                secs, summary = _run(args.scenario, net, Path(tmp))
                if net not in rows or secs < rows[net][0]:
                    rows[net] = (secs, summary)
    base = rows["syria-sketch"][0]
    print(f"scenario {args.scenario}" + (f" (best of {args.repeat})" if args.repeat > 1 else ""))
    print(f"{'network':14} {'seconds':>8} {'ratio':>6} {'trips':>10} {'vehicle-km':>14} {'cost/t USD':>10}")
    for net, (secs, s) in rows.items():
        print(f"{net:14} {secs:8.2f} {secs / base:6.2f} {s.get(('sim', 'trips_dispatched'), 0):10,.0f} "
              f"{s.get(('sim', 'vehicle_km'), 0):14,.0f} {s.get(('sim', 'cost_per_ton_usd'), float('nan')):10.2f}")


if __name__ == "__main__":
    main()
