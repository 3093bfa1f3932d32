"""Compiled network files (``.rsnet``): a :class:`~routesim.network.compiled.CompiledRoads` on disk.

The file is an uncompressed NumPy ``.npz`` archive: every array of the compiled
network as it is in memory, plus one JSON member for the text tables, places,
drop counts and provenance. Nothing is pickled, so loading a file runs no code
from it, and loading is a few large reads (the national all-roads network loads
in well under two seconds; see ``benchmarks/bench_import.py``).
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np

from routesim._util.files import atomic_path
from routesim._util.version import __version__
from routesim.errors import NetworkError
from routesim.network.compiled import CompiledRoads

#: Suffix of compiled network files.
SUFFIX = ".rsnet"
#: Version of the file layout; files of another version are rebuilt, not read.
FORMAT = 2

_TEXT_FIELDS = ("highways", "texts", "place_name", "place_kind", "place_aliases", "dropped", "meta")


#: Array members a file of this format may lack.
_OPTIONAL = frozenset({"line_built_up_m"})


def _array_fields() -> list[str]:
    return [f.name for f in fields(CompiledRoads) if f.name not in _TEXT_FIELDS]


def save_compiled(roads: CompiledRoads, path: str | Path) -> Path:
    """Write ``roads`` to ``path`` atomically (a killed write leaves no file under that name).

    Raises
    ------
    NetworkError
        When the file cannot be written.
    """
    target = Path(path)
    header: dict[str, Any] = {name: getattr(roads, name) for name in _TEXT_FIELDS}
    header.update(format=FORMAT, routesim_version=__version__)
    try:
        members: dict[str, Any] = {name: np.asarray(getattr(roads, name)) for name in _array_fields()}
        members["header"] = np.frombuffer(json.dumps(header, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)
        with atomic_path(target) as tmp, tmp.open("wb") as fh:
            np.savez(fh, **members)
    except OSError as exc:
        raise NetworkError(f"{target}: cannot write: {exc.strerror or exc}") from None
    return target


def read_header(path: str | Path) -> dict[str, Any]:
    """The JSON member of a compiled file (format, provenance, counts) without its arrays."""
    p = Path(path)
    try:
        with np.load(p, allow_pickle=False) as data:
            return dict(json.loads(bytes(data["header"]).decode("utf-8")))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise NetworkError(f"{p}: not a routesim compiled network ({_why(exc)})") from None


def load_compiled(path: str | Path) -> CompiledRoads:
    """Read a compiled network file.

    Raises
    ------
    NetworkError
        For a missing, truncated or foreign file, or one of another format version.
    """
    p = Path(path)
    if not p.is_file():
        raise NetworkError(f"{p}: compiled network not found")
    try:
        with np.load(p, allow_pickle=False) as data:
            header = json.loads(bytes(data["header"]).decode("utf-8"))
            if header.get("format") != FORMAT:
                raise NetworkError(f"{p}: compiled network format {header.get('format')!r}, expected {FORMAT}; "
                                   "rebuild it with `routesim network build`")
            # Members added after a format was published are optional: their defaults mean "not computed".
            arrays = {name: data[name] for name in _array_fields() if name in data.files or name not in _OPTIONAL}
    except NetworkError:
        raise
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
        raise NetworkError(f"{p}: not a routesim compiled network ({_why(exc)})") from None
    texts = {name: header[name] for name in _TEXT_FIELDS}
    roads = CompiledRoads(**arrays, **texts)
    _check(roads, p)
    return roads


def _why(exc: Exception) -> str:
    # np.load falls back to unpickling what is no archive; its message then talks of pickles.
    if isinstance(exc, ValueError) and "pickle" in str(exc):
        return "not a NumPy archive"
    if isinstance(exc, KeyError):
        return f"member {exc} missing"
    return str(exc) or type(exc).__name__


def _check(roads: CompiledRoads, path: Path) -> None:
    """Refuse arrays that disagree in length or point outside their tables."""
    n_nodes, n_lines = roads.n_nodes, roads.n_lines
    problems = []
    if not (len(roads.node_x) == len(roads.node_y) == n_nodes):
        problems.append("node arrays differ in length")
    for name in ("line_v", "line_length_m", "line_highway", "line_ref", "line_car_kph", "line_truck_kph"):
        if len(getattr(roads, name)) != n_lines:
            problems.append(f"{name} has {len(getattr(roads, name))} rows, expected {n_lines}")
    if len(roads.line_built_up_m) not in (0, n_lines):
        problems.append(f"line_built_up_m has {len(roads.line_built_up_m)} rows, expected 0 or {n_lines}")
    if len(roads.geom_offset) != n_lines + 1:
        problems.append("geom_offset must have one row more than the lines")
    if n_lines and (roads.line_u.max(initial=0) >= n_nodes or roads.line_v.max(initial=0) >= n_nodes):
        problems.append("a line ends at a node that does not exist")
    if len(roads.edge_line) and roads.edge_line.max() >= n_lines:
        problems.append("an edge follows a line that does not exist")
    if problems:
        raise NetworkError(f"{path}: corrupt compiled network: {'; '.join(problems)}")
