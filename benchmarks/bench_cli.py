"""Wall time of single CLI calls (route, dated route, timeline) on the OSM and the hand-drawn network.

Each command runs in a fresh interpreter, as a user types it: ``python -m routesim ...``
and the ``routesim`` console script. A warm-up call comes first (it fills the
cache of event masks, :mod:`routesim.events.maskcache`, and the OS file cache),
then the median of ``--repeat`` runs is printed.

The breakdown is measured in-process, in a fresh interpreter per network:

- ``import``: the modules a dated route imports (CLI, network, events, routing core);
- ``network load``: ``load_network`` (compiled file and places, or the CSVs);
- ``events (cached masks)``: the built-in library on the network, masks read back
  from the cache; ``events (resolved)``: the same with the cache unbound, every
  selector resolved (what each dated call cost before the cache);
- ``first query``: the first route (numba's start-up, the contraction hierarchy
  built from the stored order, the open network's customisation);
- ``dated query``: the dated route after it (the state of the day, a patch on the
  open network's weights).

Usage: ``python benchmarks/bench_cli.py [--repeat 5] [--networks syria-osm syria-sketch] [--cache DIR]``
(default cache: a fresh temporary folder, so the warm-up call is the first of the run).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ORIGIN, DESTINATION, DAY = "Damascus", "Aleppo", "2024-12-10"
#: A period of three epochs of the library (two HTS advances of late 2024 start inside it).
START, END = "2024-11-25", "2024-12-05"

_BREAKDOWN = """
import json, sys, time
T = time.perf_counter
t0 = T()
import routesim.cli.app, routesim.io.graphfiles, routesim.events.eventset, routesim.network.core
t1 = T()
from routesim.events.eventset import load_events
from routesim.io.graphfiles import load_network
try:
    from routesim.events.maskcache import bind_mask_cache, bound_mask_cache
except ImportError:  # a version without the mask cache: every load resolves
    bind_mask_cache = bound_mask_cache = lambda *args: None
net = load_network(sys.argv[1])
t2 = T()
cache = bound_mask_cache(net)
eset = load_events(net)
t3 = T()
bind_mask_cache(net, None)
load_events(net)
t4 = T()
bind_mask_cache(net, cache)
net.set_default_events(eset)
net.route(sys.argv[2], sys.argv[3])
t5 = T()
net.route(sys.argv[2], sys.argv[3], date=sys.argv[4])
t6 = T()
print(json.dumps({"import": t1 - t0, "network load": t2 - t1, "events (cached masks)": t3 - t2,
                  "events (resolved)": t4 - t3, "first query": t5 - t4, "dated query": t6 - t5}))
"""


def _commands(network: str) -> dict[str, list[str]]:
    on = ["--network", network]
    return {
        "route": ["route", ORIGIN, DESTINATION, *on],
        "route --date": ["route", ORIGIN, DESTINATION, "--date", DAY, *on],
        "timeline (3 epochs)": ["timeline", ORIGIN, DESTINATION, "--start", START, "--end", END, *on],
    }


class CommandFailed(Exception):
    """A benchmarked command exited with an error (its first line of stderr is the message)."""


def _run(argv: list[str], env: dict[str, str]) -> str:
    out = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT)
    if out.returncode != 0:
        lines = out.stderr.strip().splitlines()
        raise CommandFailed(f"exit {out.returncode}: {lines[-1] if lines else ''}")
    return out.stdout


def _wall(argv: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    _run(argv, env)
    return time.perf_counter() - t0


def _median_wall(argv: list[str], env: dict[str, str], repeat: int) -> str:
    try:
        _wall(argv, env)  # warm-up: fills the mask cache and the OS file cache
        return f"{statistics.median(_wall(argv, env) for _ in range(repeat)):.2f}"
    except CommandFailed as exc:
        return f"failed ({exc})"


def _breakdown(network: str, env: dict[str, str]) -> str:
    try:
        out = _run([sys.executable, "-c", _BREAKDOWN, network, ORIGIN, DESTINATION, DAY], env)
    except CommandFailed as exc:
        return f"failed ({exc})"
    parts = json.loads(out.strip().splitlines()[-1])
    return ", ".join(f"{k} {float(v):.3f}" for k, v in parts.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per command (after a warm-up)")
    parser.add_argument("--networks", nargs="+", default=["syria-osm", "syria-sketch"])
    parser.add_argument("--cache", type=Path, default=None, help="ROUTESIM_CACHE of the runs (default: a temp dir)")
    args = parser.parse_args()
    cache = args.cache or Path(tempfile.mkdtemp(prefix="routesim-bench-cli-"))
    env = {**os.environ, "ROUTESIM_CACHE": str(cache)}
    script = shutil.which("routesim")
    launchers = {"python -m routesim": [sys.executable, "-m", "routesim"]}
    if script:
        launchers["routesim"] = [script]
    print(f"cache: {cache}; median of {args.repeat} runs after a warm-up, wall seconds")
    for network in args.networks:
        print(f"\n{network}")
        for name, argv in _commands(network).items():
            times = "  ".join(f"{launcher}: {_median_wall([*cmd, *argv], env, args.repeat)}"
                              for launcher, cmd in launchers.items())
            print(f"  {name:<22} {times}")
        print(f"  in-process breakdown: {_breakdown(network, env)}")


if __name__ == "__main__":
    main()
