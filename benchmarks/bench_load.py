"""Loading the compiled national network, against building it from the GeoPackage each time.

Builds the all-roads network of Syria from ``../shared/osm/syria-roads-osm-2021.gpkg``
(© OpenStreetMap contributors, ODbL 1.0) once, writes it as a compiled ``.rsnet`` file,
then times, in the same run:

- baseline: reading and building from the GeoPackage (what every command would pay
  without the compiled file or the cache);
- ``load_compiled`` alone, and ``load_compiled`` + ``Network.from_compiled`` (what
  ``--network FILE.rsnet`` costs before the first query);
- the first route on the loaded network (lazy lookups built on first use).

Usage: ``python benchmarks/bench_load.py [--source GPKG] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from routesim import Network
from routesim.io.compiled import load_compiled, save_compiled
from routesim.io.networks import build_file

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared" / "osm" / "syria-roads-osm-2021.gpkg"


def _timed(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", type=Path, default=DEFAULT)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    build_s, roads = _timed(lambda: build_file(args.source), 1)
    with tempfile.TemporaryDirectory() as tmp:
        path = save_compiled(roads, Path(tmp) / "syria-all.rsnet")
        size_mb = path.stat().st_size / 2**20
        load_s, _ = _timed(lambda: load_compiled(path), args.repeat)
        net_s, net = _timed(lambda: Network.from_compiled(load_compiled(path)), args.repeat)
    assert isinstance(net, Network)
    t0 = time.perf_counter()
    route = net.route("33.5138,36.2765", "36.2021,37.1343")
    first_route_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    net.route("33.5138,36.2765", "36.2021,37.1343", closures=[{"area": {"lat": 35.0, "lon": 36.75, "radius_km": 20}}])
    closed_route_s = time.perf_counter() - t0
    print(f"network: {roads.n_nodes:,} nodes, {roads.n_lines:,} lines, {roads.n_edges:,} edges; file {size_mb:.0f} MiB")
    print(f"baseline: build from {args.source.name}           {build_s:7.2f} s")
    print(f"load_compiled                                   {load_s:7.2f} s  ({build_s / load_s:.0f}x faster)")
    print(f"load_compiled + Network.from_compiled           {net_s:7.2f} s  ({build_s / net_s:.0f}x faster)")
    print(f"first route (CCH order, lookups built)          {first_route_s:7.2f} s  "
          f"Damascus -> Aleppo {route.distance_km:.1f} km, {route.time_h:.2f} h")
    print(f"route with a fresh area closure                 {closed_route_s:7.3f} s")


if __name__ == "__main__":
    main()
