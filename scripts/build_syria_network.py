"""Regenerate ``data/network/osm``: the ``syria-osm`` network (compiled) and its places.

Usage::

    python scripts/build_syria_network.py [OSM_DIR] [--out DIR] [--check]

``OSM_DIR`` holds ``syria-roads-osm-2021-major.gpkg``, ``neighbours-roads-osm.gpkg``
and ``syria-roads-osm-2021.gpkg`` (for its ``places`` layer); default:
``../shared/osm`` relative to the repository root. The patches are read from
``data/network/osm/patches.geojson``. Writes ``syria-osm.rsnet`` (a compiled
network, deflate-compressed) and ``places.csv`` into ``--out`` (default
``data/network/osm``) and prints the SHA-256 of the arrays, which
``data/network/osm/README.md`` records. ``--check`` writes nothing and fails
unless the rebuild gives the arrays of the shipped file.

Data © OpenStreetMap contributors, ODbL 1.0.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from routesim.io.compiled import load_compiled, save_compiled
from routesim.io.syria import (
    COMPILED_NAME,
    PLACES_NAME,
    array_digest,
    build_syria_osm,
    osm_network_dir,
    write_places_csv,
)

ROOT = Path(__file__).resolve().parents[1]


def save_compressed(roads: object, target: Path) -> Path:
    """``save_compiled``'s members, deflate-compressed (``load_compiled`` reads both)."""
    with tempfile.TemporaryDirectory() as tmp:
        plain = save_compiled(roads, Path(tmp) / COMPILED_NAME)  # type: ignore[arg-type]
        with np.load(plain, allow_pickle=False) as data:
            members = {name: data[name] for name in data.files}
        partial = target.with_name(target.name + ".part")
        with partial.open("wb") as fh:
            np.savez_compressed(fh, **members)
        partial.replace(target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("osm_dir", nargs="?", type=Path, default=ROOT.parent / "shared" / "osm")
    parser.add_argument("--out", type=Path, default=osm_network_dir())
    parser.add_argument("--check", action="store_true", help="compare with the shipped file; write nothing")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    roads, places = build_syria_osm(args.osm_dir)
    digest = array_digest(roads)
    print(f"built in {time.perf_counter() - start:.1f} s: {roads.n_nodes} nodes, {roads.n_lines} lines, "
          f"{roads.n_edges} edges, {len(places)} places, {len(roads.meta['patches'])} patches")
    print(f"arrays sha256 {digest}")
    if args.check:
        shipped = array_digest(load_compiled(args.out / COMPILED_NAME))
        if shipped != digest:
            print(f"differs from the shipped {args.out / COMPILED_NAME} (sha256 {shipped})", file=sys.stderr)
            return 1
        print("identical to the shipped file")
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    target = save_compressed(roads, args.out / COMPILED_NAME)
    write_places_csv(places, args.out / PLACES_NAME)
    print(f"wrote {target} ({target.stat().st_size / 1e6:.1f} MB) and {args.out / PLACES_NAME}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
