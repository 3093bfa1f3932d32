"""A 100-variant sweep of a one-year scenario on each executor: wall time and variants per minute.

The sweep draws ``--variants`` joint samples (value of drivers' time, a factor on the
demand, background traffic) on top of ``scenarios/<base>.yaml`` (default
``m4-west-2021``: the year 2021 on the OSM network with the built-in events, the
Latakia-Aleppo port traffic simulated truck by truck, about 73,000 trips a variant: a
light one-year scenario). It runs the same sweep from scratch with 1, 2 and 4 local
worker processes and on a 2-worker ``dask.distributed.LocalCluster``, and prints wall
time, variants per minute and whether every table is byte-identical to the first.
``--route-level`` sets ``simulation.freight: false`` (the route-level estimate only).

Usage: ``python benchmarks/bench_sweep.py [--variants 100] [--base m4-west-2021] [--route-level]``
"""

from __future__ import annotations

import argparse
import filecmp
import tempfile
import time
from pathlib import Path

from routesim.runner.sweep import run_sweep

ROOT = Path(__file__).resolve().parents[1]

SWEEP = """name: bench
base: {base}
set: {{simulation.freight: {freight}}}
axes:
  - samples:
      n: {n}
      seed: 16
      draw:
        costs.value_of_time_usd_h: {{dist: triangular, low: 5, mode: 10, high: 20}}
        "demand[*].tons_per_day*": {{dist: lognormal, median: 1.0, sigma: 0.2}}
        simulation.background_pcu_share: {{dist: uniform, low: 0.0, high: 0.5}}
"""

TABLES = ("sweep.csv", "sweep.parquet", "sensitivity.csv")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", type=int, default=100)
    ap.add_argument("--base", default="m4-west-2021", help="a scenario of scenarios/")
    ap.add_argument("--route-level", action="store_true", help="no freight simulation")
    ap.add_argument("--workers", type=int, nargs="*", default=[1, 2, 4], help="local worker counts to time")
    ap.add_argument("--no-dask", action="store_true", help="skip the LocalCluster run")
    args = ap.parse_args()
    results: list[tuple[str, float, Path]] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.yaml"
        path.write_text(SWEEP.format(base=(ROOT / "scenarios" / f"{args.base}.yaml").as_posix(), n=args.variants,
                                     freight="false" if args.route_level else "true"), encoding="utf-8")
        for w in args.workers:
            t0 = time.perf_counter()
            report = run_sweep(path, out=Path(tmp) / f"local-{w}", workers=w, progress=False)
            results.append((f"local, {w} worker(s)", time.perf_counter() - t0, report.directory))
            assert not report.failed, report.failed[:3]
        if not args.no_dask:
            from distributed import Client, LocalCluster

            t0 = time.perf_counter()  # the cluster's start-up is part of its time
            with (LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
                  as cluster, Client(cluster) as client):
                report = run_sweep(path, out=Path(tmp) / "dask-2", executor="dask", client=client, progress=False)
            results.append(("dask LocalCluster, 2 workers", time.perf_counter() - t0, report.directory))
            assert not report.failed, report.failed[:3]
        first = results[0][2]
        kind = "route level" if args.route_level else "trucks simulated"
        print(f"sweep of {args.variants} variants of scenarios/{args.base}.yaml ({kind})")
        print(f"{'executor':30} {'seconds':>8} {'variants/min':>13} {'identical tables':>17}")
        for label, secs, directory in results:
            same = all(filecmp.cmp(first / t, directory / t, shallow=False) for t in TABLES)
            print(f"{label:30} {secs:8.1f} {60 * args.variants / secs:13.1f} {'yes' if same else 'NO':>17}")


if __name__ == "__main__":
    main()
