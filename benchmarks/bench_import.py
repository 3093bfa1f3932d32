"""Importing real roads: OSM readers compared, and the national build against osmnx.

Inputs: ``../shared/osm/syria-roads-osm-2021.gpkg`` (507k lines, 2.0 M segments)
and an OSM PBF of the same roads, which this script writes with pyosmium
(``routesim.io.roads.write_osm``) into ``--work``, with an OSM XML copy for osmnx
(which reads XML only).

Each measurement runs in its own child process, so its peak memory (the child's
``VmHWM``, imports included) is its own; the figures of one run are printed
side by side. Time is wall-clock for the operation, after imports.

1. **Readers** (same PBF): routesim's reader (pyosmium/libosmium writing OPL,
   parsed by pyarrow); pyosmium iterated in Python (the straightforward use);
   pyrosm; quackosm; all asked for the ``highway`` ways.
2. **Build** (file to routable network): routesim ``read_roads`` +
   ``build_roads`` from the GPKG and from the PBF, against
   ``osmnx.graph_from_xml`` on the XML of the same roads. If osmnx exceeds
   ``--osmnx-limit-gb`` or ``--osmnx-timeout``, it is measured on the
   motorway..tertiary file instead and routesim is measured on that too.

Goal: routesim >= 10x faster than osmnx and <= 0.25x its peak memory.

    python benchmarks/bench_import.py [--work DIR] [--skip-readers] [--skip-osmnx]
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
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "osm"
GPKG = SHARED / "syria-roads-osm-2021.gpkg"
MAJOR = SHARED / "syria-roads-osm-2021-major.gpkg"


# --- children: one measurement each, printing one JSON line ----------------------------------------


def _child(task: str, path: str) -> dict[str, Any]:
    if task == "baseline":
        import numpy  # noqa: F401
        import pandas  # noqa: F401
        import pyarrow  # noqa: F401

        return {}
    if task == "routesim-read":
        from routesim.io.roads import read_roads

        t0 = _clock()
        table = read_roads(path)
        return {**_since(t0), "ways": table.n_ways, "way_nodes": len(table.way_node)}
    if task == "routesim-build":
        from routesim.io.roads import read_roads
        from routesim.network.build import build_roads

        t0 = _clock()
        table = read_roads(path)
        t1 = _clock()
        roads = build_roads(table)
        return {**_since(t0), "read_s": t1[0] - t0[0], "build_s": _clock()[0] - t1[0], "lines": roads.n_lines,
                "nodes": roads.n_nodes, "edges": roads.n_edges, "km": float(roads.line_length_m.sum() / 1000)}
    if task == "pyosmium-python":
        import osmium

        from routesim.network.roadtable import WAY_TAGS

        t0 = _clock()
        refs: list[int] = []
        xs: list[float] = []
        ys: list[float] = []
        tags: list[list[str | None]] = []
        fp = (osmium.FileProcessor(path, osmium.osm.NODE | osmium.osm.WAY).with_locations()
              .with_filter(osmium.filter.KeyFilter("highway")))
        for way in fp:
            if not way.is_way():
                continue  # a node tagged highway (crossing, traffic signals)
            get = way.tags.get
            tags.append([get(k) for k in WAY_TAGS])
            for node in way.nodes:
                refs.append(node.ref)
                xs.append(node.lon)
                ys.append(node.lat)
        return {**_since(t0), "ways": len(tags), "way_nodes": len(refs)}
    if task == "pyrosm":
        from pyrosm import OSM

        # pyrosm caches results by file in the temp folder: clear it, or a rerun times a cache read.
        OSM.clear_cache(path)
        t0 = _clock()
        frame = OSM(path, keep_node_info=True).get_data_by_custom_criteria(
            custom_filter={"highway": True}, filter_type="keep", keep_nodes=False, keep_relations=False
        )
        result = {**_since(t0), "ways": len(frame), "note": "shapely geometries; node ids as lists"}
        OSM.clear_cache(path)
        return result
    if task == "quackosm":
        _duckdb_spatial()
        import quackosm

        work = tempfile.mkdtemp(prefix="quackosm-")
        t0 = _clock()
        frame = quackosm.convert_pbf_to_geodataframe(
            path, tags_filter={"highway": True}, working_directory=work, verbosity_mode="silent", ignore_cache=True
        )
        return {**_since(t0), "ways": len(frame), "note": "shapely geometries, no node ids"}
    if task == "osmnx":
        import osmnx as ox

        t0 = _clock()
        graph = ox.graph_from_xml(path, simplify=True, retain_all=True)
        return {**_since(t0), "nodes": graph.number_of_nodes(),
                "edges": graph.number_of_edges()}
    raise SystemExit(f"unknown task {task}")


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(t0: tuple[float, float]) -> dict[str, float]:
    """Wall seconds and CPU seconds (all threads) since ``t0``: pyrosm and quackosm decode on threads."""
    wall, cpu = _clock()
    return {"seconds": wall - t0[0], "cpu_s": cpu - t0[1]}


def _duckdb_spatial() -> None:
    """quackosm needs DuckDB's spatial extension; without network, install it from the
    ``duckdb-ext-spatial`` wheel into DuckDB's extension folder (where ``INSTALL`` looks first)."""
    import shutil

    import duckdb

    try:
        import duckdb_ext  # the duckdb-ext-spatial wheel's package
    except ImportError:
        return
    version = f"v{duckdb.__version__}"
    for found in Path(duckdb_ext.__path__[0]).glob(f"extensions/{version}/*/spatial.duckdb_extension"):
        target = Path.home() / ".duckdb" / "extensions" / version / found.parent.name / found.name
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(found, target)


def _own_peak_mb() -> float:
    """This process's peak resident memory since it started (VmHWM), MB.

    Not ``ru_maxrss`` of the child as the parent sees it: Linux carries the
    parent's high-water mark over fork and exec, so every child would report at
    least the parent's peak.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(task: str, path: Path, *, limit_gb: float = 0.0, timeout_s: float = 0.0) -> dict[str, Any]:
    """Run one task in a child process; its result plus ``peak_mb`` (or ``error``)."""
    import psutil

    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        # Files, not pipes: a chatty child (progress bars) must never block on a full pipe.
        proc = subprocess.Popen([sys.executable, __file__, "--child", task, str(path)], stdout=out, stderr=err)
        started = time.perf_counter()
        watched = psutil.Process(proc.pid)
        error = None
        sampled = 0
        while True:
            pid, _, _ = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            time.sleep(0.25)
            try:
                rss = watched.memory_info().rss
            except psutil.NoSuchProcess:
                continue
            sampled = max(sampled, rss)
            if limit_gb and rss > limit_gb * 2**30:
                error = f"stopped above {limit_gb:g} GB"
            elif timeout_s and time.perf_counter() - started > timeout_s:
                error = f"stopped after {timeout_s:g} s"
            if error:
                proc.kill()
                os.wait4(proc.pid, 0)
                break
        proc.returncode = 0  # reaped by os.wait4 above
        out.seek(0)
        err.seek(0)
        lines = [line for line in out.read().splitlines() if line.startswith("{")]
        tail = err.read().strip().splitlines()
    # A child that finished reports its own peak; one that was stopped has the sampled one.
    result: dict[str, Any] = {"task": task, "input": path.name, "peak_mb": sampled / 2**20}
    if error or not lines:
        result["error"] = error or (tail or ["no output"])[-1]
    else:
        result.update(json.loads(lines[-1]))
    return result


# --- inputs ------------------------------------------------------------------------------------------


def prepare(work: Path, gpkg: Path) -> tuple[Path, Path]:
    """The PBF and XML of ``gpkg`` in ``work``, written once (kept for the next run)."""
    import osmium

    from routesim.io.roads import read_roads, write_osm

    stem = gpkg.name.removesuffix(".gpkg")
    pbf, xml = work / f"{stem}.osm.pbf", work / f"{stem}.osm"
    if not pbf.exists() or pbf.stat().st_mtime < gpkg.stat().st_mtime:
        t0 = time.perf_counter()
        write_osm(read_roads(gpkg), pbf)
        print(f"wrote {pbf} ({pbf.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t0:.1f} s", flush=True)
    if not xml.exists() or xml.stat().st_mtime < pbf.stat().st_mtime:
        with osmium.SimpleWriter(str(xml), overwrite=True) as writer:
            osmium.apply(str(pbf), writer)
        print(f"wrote {xml} ({xml.stat().st_size / 1e6:.1f} MB)", flush=True)
    return pbf, xml


def _row(result: dict[str, Any], *, base: dict[str, Any] | None = None) -> str:
    if "error" in result:
        return f"| {result['task']} | {result['input']} | – | {result['peak_mb']:,.0f} | {result['error']} |"
    extra = ", ".join(f"{k} {v:,.1f}" if isinstance(v, float) and v < 100 else
                      f"{k} {v:,.0f}" if isinstance(v, float | int) else f"{k}: {v}"
                      for k, v in result.items()
                      if k not in ("task", "input", "seconds", "peak_mb"))
    vs = ""
    if base is not None and "error" not in base:
        vs = f" ({base['seconds'] / result['seconds']:.1f}x faster, {result['peak_mb'] / base['peak_mb']:.2f}x memory)"
    name, seconds, peak = result["task"], result["seconds"], result["peak_mb"]
    return f"| {name} | {result['input']} | {seconds:.2f} | {peak:,.0f} | {extra}{vs} |"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "routesim-bench-import")
    ap.add_argument("--gpkg", type=Path, default=GPKG)
    ap.add_argument("--skip-readers", action="store_true")
    ap.add_argument("--skip-osmnx", action="store_true")
    ap.add_argument("--osmnx-limit-gb", type=float, default=14.0)
    ap.add_argument("--osmnx-timeout", type=float, default=3600.0)
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    if args.child:
        result = _child(*args.child)
        result["peak_mb"] = _own_peak_mb()
        print(json.dumps(result))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    pbf, xml = prepare(args.work, args.gpkg)
    results: list[dict[str, Any]] = [measure("baseline", pbf)]
    header = "| task | input | seconds | peak MB | notes |\n|---|---|---:|---:|---|"
    print(f"\nbaseline: python + numpy/pandas/pyarrow imported: {results[0]['peak_mb']:.0f} MB peak\n")
    if not args.skip_readers:
        print("Readers, the same PBF (highway ways with their nodes)\n" + header, flush=True)
        for task in ("routesim-read", "pyosmium-python", "pyrosm", "quackosm"):
            results.append(measure(task, pbf, timeout_s=1800))
            print(_row(results[-1]), flush=True)
        sample = SHARED / "samples" / "josm_neubrandenburg.osm.bz2"
        print(f"\nReaders, OSM XML ({sample.name}; pyrosm and quackosm read PBF only)\n" + header, flush=True)
        for task in ("routesim-read", "pyosmium-python", "osmnx"):
            results.append(measure(task, sample, timeout_s=1800))
            print(_row(results[-1]), flush=True)
    print("\nBuild: file to routable network\n" + header, flush=True)
    ours = [measure("routesim-build", args.gpkg), measure("routesim-build", pbf)]
    results += ours
    if args.skip_osmnx:
        for r in ours:
            print(_row(r), flush=True)
    else:
        nx_result = measure("osmnx", xml, limit_gb=args.osmnx_limit_gb, timeout_s=args.osmnx_timeout)
        results.append(nx_result)
        print(_row(nx_result), flush=True)
        for r in ours:
            print(_row(r, base=nx_result), flush=True)
        if "error" in nx_result and args.gpkg != MAJOR:
            print(f"\nosmnx could not build the whole; the same on {MAJOR.name}\n" + header, flush=True)
            m_pbf, m_xml = prepare(args.work, MAJOR)
            nx_major = measure("osmnx", m_xml, limit_gb=args.osmnx_limit_gb, timeout_s=args.osmnx_timeout)
            print(_row(nx_major), flush=True)
            for path in (MAJOR, m_pbf):
                results.append(measure("routesim-build", path))
                print(_row(results[-1], base=nx_major), flush=True)
            results.append(nx_major)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
