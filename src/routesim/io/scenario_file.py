"""Reading scenario files: ``extends`` chains merged, validated, each key's origin kept.

``extends: base.yaml`` inherits another scenario: mappings merge key by key,
anything else (lists, numbers) in the child replaces the base's value. Every
key remembers the file and line it came from, so a problem in an inherited
value points at the base file. A price is the one exception: a child that gives
its ``value``, ``series`` or ``file`` replaces the base's source whole (with the
``kind`` of its rows), so ``diesel: {value: 0.55, currency: USD}`` over a base
priced from a file is a constant, not a conflict.

Every path a file gives (``extends``, ``network``, ``events.files``,
``events.control_files``, the ``file`` of a price) is relative to the file it
is written in, so a base keeps its meaning when extended from another folder:
paths are made absolute as each file is read, before the files are merged.
``builtin:NAME`` addresses the data shipped with routesim
(:mod:`routesim._util.datafiles`) and is kept in its canonical form
``builtin:FOLDER/FILE``, which :meth:`LoadedScenario.resolve` turns into a path.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from routesim._util import yamlio
from routesim._util.datafiles import BUILTIN, builtin_names, builtin_path, canonical_builtin
from routesim.errors import InputFileError, Problem
from routesim.io.graphfiles import BUILTIN_NETWORKS
from routesim.models.scenario import Scenario
from routesim.network.graph import Network

#: Keys that hold paths (``*``: any key or list index) and the kind of shipped data a ``builtin:`` name there means.
PATH_KEYS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("network",), "network"),
    (("events", "files", "*"), "events"),
    (("events", "control_files", "*"), "control"),
    (("costs", "*", "file"), "prices"),
)


@dataclass
class ScenarioDoc:
    """Merged YAML of a scenario and the bases it extends, with origins of each key."""

    data: Any
    origin: dict[tuple, tuple[str, int]] = field(default_factory=dict)

    def line(self, loc: tuple) -> int | None:
        return self._where(loc)[1]

    def file_of(self, loc: tuple) -> str:
        """The file the key at ``loc`` was written in (``<scenario>`` if unknown)."""
        return self._where(loc)[0] or "<scenario>"

    def _where(self, loc: tuple) -> tuple[str | None, int | None]:
        loc = tuple(loc)
        while True:
            if loc in self.origin:
                return self.origin[loc]
            if not loc:
                return (None, None)
            loc = loc[:-1]

    def problem(self, loc: tuple, message: str) -> Problem:
        file, line = self._where(loc)
        return Problem(file or "<scenario>", line, yamlio.field_name(loc), message)


@dataclass
class LoadedScenario:
    """A validated scenario with where it came from.

    ``network`` is the network it was checked against, once it has been
    (:func:`routesim.runner.load_scenario`), so a run need not load it again.
    """

    scenario: Scenario
    path: Path
    sha256: str
    doc: ScenarioDoc
    files: list[Path]
    network: Network | None = None

    def resolve(self, relative: str) -> Path:
        """The file a path of the scenario names.

        Paths read from files are already absolute (relative ones were resolved
        against the file they are written in); ``builtin:FOLDER/FILE`` is the
        shipped file; any other relative path (set from Python) is taken
        relative to the scenario file.
        """
        shipped = builtin_path(relative)
        if shipped is not None:
            return shipped
        p = Path(relative)
        return p if p.is_absolute() else self.path.parent / p


def _merge(base: ScenarioDoc, child: yamlio.Located, loc: tuple = ()) -> None:
    def walk(dst: dict, src: dict, at: tuple) -> None:
        for key, value in src.items():
            here = (*at, key)
            if isinstance(value, dict) and isinstance(dst.get(key), dict):
                base.origin[here] = (str(child.path), child.lines.get(here, 0))
                if at == ("costs",) and _PRICE_SOURCES & set(value):
                    _drop_source(dst[key], here, keep=set(value))
                walk(dst[key], value, here)
            else:
                dst[key] = value
                for k in [k for k in base.origin if k[: len(here)] == here]:
                    del base.origin[k]
                for k, line in child.lines.items():
                    if k[: len(here)] == here:
                        base.origin[k] = (str(child.path), line)

    def _drop_source(price: dict, at: tuple, *, keep: set) -> None:
        # a child's value, series or file replaces the base's source whole, with the kind of its rows
        for key in [k for k in price if k in (*_PRICE_SOURCES, "kind") and k not in keep]:
            del price[key]
            for k in [k for k in base.origin if k[: len(at) + 1] == (*at, key)]:
                del base.origin[k]

    walk(base.data, child.data, loc)


#: The keys of a price that say where its values come from: a child giving one replaces the base's.
_PRICE_SOURCES = frozenset({"value", "series", "file"})


def _matches(located: yamlio.Located, pattern: tuple[str, ...]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """``(loc, value)`` of every string at ``pattern`` in the file's data."""

    def walk(node: Any, rest: tuple[str, ...], loc: tuple[str | int, ...]) -> Iterator[tuple[tuple, str]]:
        if not rest:
            if isinstance(node, str):
                yield loc, node
            return
        head, tail = rest[0], rest[1:]
        if isinstance(node, dict):
            keys = list(node) if head == "*" else [head] if head in node else []
            for k in keys:
                yield from walk(node[k], tail, (*loc, k))
        elif isinstance(node, list) and head == "*":
            for i, item in enumerate(node):
                yield from walk(item, tail, (*loc, i))

    yield from walk(located.data, pattern, ())


def path_values(located: yamlio.Located) -> Iterator[tuple[tuple[str | int, ...], str, str]]:
    """``(loc, text, kind)`` of every path one scenario file gives, as written (``extends`` included).

    ``kind`` is the folder of shipped data a ``builtin:`` name there means
    (``prices``, ``scenarios``, ``events``, ``control``) or ``network``.
    """
    if isinstance(located.data, dict) and isinstance(located.data.get("extends"), str):
        yield ("extends",), located.data["extends"], "scenarios"
    for pattern, kind in PATH_KEYS:
        for loc, text in _matches(located, pattern):
            if not (kind == "network" and text in BUILTIN_NETWORKS):
                yield loc, text, kind


def _set(data: Any, loc: tuple[str | int, ...], value: str) -> None:
    for k in loc[:-1]:
        data = data[k]
    data[loc[-1]] = value


def _builtin(located: yamlio.Located, loc: tuple, text: str, kind: str) -> str:
    """The canonical ``builtin:`` address of ``text``, or a located error naming close matches."""
    if kind == "network":
        name = text.removeprefix(BUILTIN)
        if name in BUILTIN_NETWORKS:
            return name
        known = list(BUILTIN_NETWORKS)
    else:
        canonical = canonical_builtin(text, kind)
        if canonical is not None:
            return canonical
        known = builtin_names(kind)
        name = text.removeprefix(BUILTIN)
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    hint = f"; did you mean: {', '.join(BUILTIN + c for c in close)}?" if close else ""
    raise InputFileError([located.problem(loc, f"no shipped {kind} file {text!r}{hint} (shipped: {', '.join(known)})")])


def _target(located: yamlio.Located, loc: tuple, text: str, kind: str) -> Path:
    """The file ``text`` names: shipped data, or a path relative to the file it is written in."""
    if text.startswith(BUILTIN):
        shipped = builtin_path(_builtin(located, loc, text, kind))
        assert shipped is not None  # a canonical address names a file
        return shipped
    return (Path(located.path).absolute().parent / text).resolve()


def _anchor_paths(located: yamlio.Located) -> None:
    """Make the file's relative paths absolute against its own folder; canonicalise ``builtin:`` addresses."""
    if not isinstance(located.data, dict):
        return
    for pattern, kind in PATH_KEYS:
        for loc, text in list(_matches(located, pattern)):
            if text.startswith(BUILTIN):
                _set(located.data, loc, _builtin(located, loc, text, kind))
            elif not (kind == "network" and text in BUILTIN_NETWORKS) and not Path(text).is_absolute():
                _set(located.data, loc, str(_target(located, loc, text, kind)))


def _read(path: Path, stack: tuple[Path, ...]) -> tuple[ScenarioDoc, list[Path]]:
    located = yamlio.load(path)
    if not isinstance(located.data, dict):
        raise InputFileError([Problem(str(path), 1, "", "a scenario is a mapping (name, period, demand ...)")])
    _anchor_paths(located)
    ext = located.data.get("extends")
    if ext is None:
        doc = ScenarioDoc(data={}, origin={(): (str(path), 1)})
        files = [path]
    else:
        target = _target(located, ("extends",), str(ext), "scenarios")
        if target.resolve() in stack:
            raise InputFileError([located.problem(("extends",), "extends cycle")])
        if not target.is_file():
            raise InputFileError([located.problem(("extends",), f"file not found: {target}")])
        doc, files = _read(target, (*stack, target.resolve()))
        doc.data.pop("name", None)  # a child must name itself
        files = [*files, path]
    _merge(doc, located)
    doc.origin[()] = (str(path), 1)
    return doc, files


def read_scenario(path: str | Path) -> LoadedScenario:
    """Read, merge (``extends``) and validate a scenario file against the model.

    Checks against a network (places, selectors, referenced files) are
    :func:`routesim.runner.load_scenario`'s.

    Raises
    ------
    InputFileError
        Every problem as ``file:line: field: problem``.
    """
    path = Path(path)
    doc, files = _read(path, (path.resolve(),))
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.read_bytes())
    return scenario_from_doc(doc, path=path, files=files, sha256=digest.hexdigest())


def read_scenario_doc(path: str | Path) -> tuple[ScenarioDoc, list[Path]]:
    """The merged YAML of a scenario and the bases it extends, not yet validated.

    Returns the document (data and the origin of each key) and the files read,
    the furthest base first. :func:`scenario_from_doc` validates it, after
    changes such as ``routesim run --set`` overrides.
    """
    path = Path(path)
    return _read(path, (path.resolve(),))


def scenario_from_doc(doc: ScenarioDoc, *, path: Path, files: list[Path], sha256: str) -> LoadedScenario:
    """Validate merged scenario data as :func:`read_scenario` does.

    Raises
    ------
    InputFileError
        Every problem, located through ``doc``'s origins.
    """
    data = dict(doc.data)
    data.pop("extends", None)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise InputFileError(yamlio.problems_from(exc, doc)) from None
    return LoadedScenario(scenario, path, sha256, doc, files)
