"""Peak memory of a run against its number of replications: it must not grow with them.

Runs one scenario (default ``scenarios/m5-closed-2016.yaml``: a simulated year of the
2016 desert-road network, about 440,000 trips per replication) with 1, 20 and 200
replications, each in a fresh Python process through ``routesim.run_scenario``
(so no size limit of the command line refuses it), trips table included, and
prints the peak resident memory of that process and its worker processes
together, sampled every 0.1 s with psutil (and the kernel's peak of the process
itself, ``ru_maxrss``, which sampling cannot miss). Target: 200 replications of
a one-year scenario under 2 GB, and about the baseline of one replication.

    python benchmarks/bench_memory.py [--scenario FILE] [--replications 1,20,200]
        [--workers 1] [--no-trips] [--limit-gb 2] [--report-every 60]

Exits 1 when a run's peak exceeds ``--limit-gb``.
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import psutil

CHILD = textwrap.dedent("""
    import resource, sys
    from routesim.runner import load_scenario, run_scenario

    scenario, out, replications, workers, trips = sys.argv[1:6]
    loaded = load_scenario(scenario)
    sc = loaded.scenario
    if trips == "0":
        loaded.scenario = sc.model_copy(update={"outputs": sc.outputs.model_copy(update={"trips": False})})
    run_scenario(loaded, out=out, replications=int(replications), workers=int(workers), progress=False)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
""")


def tree_rss(proc: psutil.Process) -> int:
    """Resident bytes of ``proc`` and all its descendants (0 for those gone meanwhile)."""
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


def written_bytes(folder: Path) -> int:
    """Bytes of the files under ``folder`` (the result's temporary folder while it runs)."""
    total = 0
    for f in folder.rglob("*"):
        with contextlib.suppress(OSError):
            total += f.stat().st_size if f.is_file() else 0
    return total


def measure(scenario: Path, replications: int, workers: int, trips: bool, *, every: float) -> dict[str, float]:
    """Run once; peak tree RSS (sampled), the main process's ru_maxrss, wall time, bytes written.

    Every ``every`` seconds, the peak so far and the bytes written so far go to stderr.
    """
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(scenario), out, str(replications), str(workers), "1" if trips else "0"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        ps = psutil.Process(proc.pid)
        peak = 0
        last = time.perf_counter()
        while proc.poll() is None:
            try:
                peak = max(peak, tree_rss(ps))
            except psutil.Error:
                break
            if time.perf_counter() - last >= every:
                last = time.perf_counter()
                print(f"  {replications} replications, {last - t0:,.0f} s: peak so far {peak / 2**20:,.0f} MB, "
                      f"{written_bytes(Path(out)) / 2**20:,.0f} MB written", file=sys.stderr, flush=True)
            time.sleep(0.1)
        stdout, stderr = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"run failed ({proc.returncode}):\n{stderr}")
        written = written_bytes(Path(out))
        maxrss_kib = int(stdout.strip().splitlines()[-1])
    return {"replications": replications, "peak_tree_mb": peak / 2**20, "maxrss_mb": maxrss_kib / 1024,
            "seconds": time.perf_counter() - t0, "written_mb": written / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", type=Path, default=Path(__file__).parents[1] / "scenarios/m5-closed-2016.yaml")
    parser.add_argument("--replications", default="1,20,200", help="comma-separated counts (default 1,20,200)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--no-trips", action="store_true", help="leave the trips table out")
    parser.add_argument("--limit-gb", type=float, default=2.0, help="peak allowed (default 2 GB)")
    parser.add_argument("--report-every", type=float, default=60.0,
                        help="seconds between progress lines on stderr (default 60)")
    args = parser.parse_args()
    counts = [int(x) for x in args.replications.split(",")]
    print(f"scenario {args.scenario.name}, workers {args.workers}, trips {'no' if args.no_trips else 'yes'}")
    print(f"{'replications':>12}  {'peak MB (all processes)':>23}  {'ru_maxrss MB (main)':>19}  "
          f"{'seconds':>8}  {'written MB':>10}")
    over = False
    for n in counts:
        m = measure(args.scenario, n, args.workers, not args.no_trips, every=args.report_every)
        over |= m["peak_tree_mb"] > args.limit_gb * 1024
        print(f"{n:>12}  {m['peak_tree_mb']:>23,.0f}  {m['maxrss_mb']:>19,.0f}  {m['seconds']:>8,.0f}  "
              f"{m['written_mb']:>10,.0f}", flush=True)
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"largest single child process: {children:,.0f} MB (ru_maxrss of children)")
    if over:
        print(f"FAIL: a peak exceeds {args.limit_gb:g} GB")
        sys.exit(1)
    print(f"ok: every peak under {args.limit_gb:g} GB")


if __name__ == "__main__":
    main()
