"""Overrides: ``path=value`` changes to a scenario's merged YAML, before it is validated.

A path names a value of the scenario as it is written: ``costs.diesel.value``,
``events.inline[0].date``, ``simulation.seed``. ``[*]`` stands for every item of
a list and ``*`` for every value of a mapping (``demand[*].trucks_per_day``,
``vehicles.*.payload_t``). ``path*=factor`` multiplies the values found there
instead of replacing them (``demand[*].trucks_per_day*=1.2``); with a wildcard,
the items that do not have the value are left alone (a flow given in tonnes has
no ``trucks_per_day`` to scale).

Values are YAML (``2016-06-01`` is a date, ``[6, 18]`` a list, ``{value: 200}`` a
mapping). Paths are checked against the scenario model, so a misspelt key is
reported with the close ones, at the ``--set`` option or the line of the sweep
file that gave it; the merged scenario is then validated as a file would be,
and a problem in an overridden value points at its override too.
"""

from __future__ import annotations

import copy
import difflib
import enum
import hashlib
import json
import re
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import yaml
from pydantic import BaseModel

from routesim._util.datafiles import BUILTIN, builtin_names, canonical_builtin
from routesim._util.yamlio import field_name
from routesim.errors import InputFileError, Problem
from routesim.io.graphfiles import BUILTIN_NETWORKS
from routesim.io.scenario_file import LoadedScenario, ScenarioDoc, read_scenario_doc, scenario_from_doc
from routesim.models.scenario import Scenario
from routesim.runner.validate import check, load_scenario, scenario_network

__all__ = [
    "EVERY_ITEM",
    "EVERY_KEY",
    "Override",
    "apply_overrides",
    "load_with_overrides",
    "override_scenario",
    "parse_assignment",
    "parse_path",
]


class Wildcard(enum.Enum):
    """``[*]``: every item of a list; ``*``: every value of a mapping."""

    ITEMS = "[*]"
    KEYS = "*"


EVERY_ITEM = Wildcard.ITEMS
EVERY_KEY = Wildcard.KEYS
Segment = str | int | Wildcard

_PART = re.compile(r"^(?P<name>[A-Za-z_][\w\-]*|\*)?(?P<index>(?:\[(?:-?\d+|\*)\])*)$")
_INDEX = re.compile(r"\[(-?\d+|\*)\]")


def parse_path(text: str) -> tuple[Segment, ...]:
    """``"demand[*].trucks_per_day"`` -> ``("demand", EVERY_ITEM, "trucks_per_day")``.

    Raises
    ------
    ValueError
        With what is wrong, for a path that is not ``key``, ``key[i]``, ``key[*]`` or ``*`` parts joined by dots.
    """
    if not text or text != text.strip():
        raise ValueError("empty path" if not text.strip() else "a path has no spaces around it")
    segments: list[Segment] = []
    for part in text.split("."):
        m = _PART.match(part)
        if m is None or not m["name"]:
            raise ValueError(f"bad path part {part!r}: use key, key[0], key[*] or * joined by dots")
        if m["name"] == "*":
            segments.append(EVERY_KEY)
        else:
            segments.append(m["name"])
        for idx in _INDEX.findall(m["index"]):
            segments.append(EVERY_ITEM if idx == "*" else int(idx))
    return tuple(segments)


def path_text(segments: Sequence[Segment]) -> str:
    """The written form of parsed segments (inverse of :func:`parse_path`)."""
    out = ""
    for seg in segments:
        if seg is EVERY_ITEM:
            out += "[*]"
        elif isinstance(seg, int):
            out += f"[{seg}]"
        else:
            name = "*" if seg is EVERY_KEY else str(seg)
            out += f".{name}" if out else name
    return out


@dataclass(frozen=True)
class Override:
    """One change to a scenario: set ``path`` to ``value``, or multiply what is there (``scale``).

    ``file`` and ``line`` say where the override was given (``--set`` on the
    command line, or the sweep file and line), for messages.
    """

    path: str
    value: Any
    scale: bool = False
    file: str = "--set"
    line: int | None = None
    #: Folder a relative file path in ``value`` is relative to (a sweep file's); ``None``: the working folder.
    relative_to: str | None = None

    @classmethod
    def from_key(cls, key: str, value: Any, *, file: str = "--set", line: int | None = None,
                 relative_to: str | None = None) -> Override:
        """From a sweep-file key: a trailing ``*`` (``demand[*].trucks_per_day*``) makes ``value`` a factor."""
        scale = key.endswith("*") and not key.endswith("[*]") and not key.endswith(".*") and key != "*"
        return cls(key[:-1] if scale else key, value, scale=scale, file=file, line=line, relative_to=relative_to)

    @property
    def column(self) -> str:
        """The name of this override's parameter in sweep tables: the path, ``*`` appended for a factor."""
        return f"{self.path}*" if self.scale else self.path

    def problem(self, message: str, *, at: str | None = None) -> Problem:
        return Problem(self.file, self.line, at or self.path, message)


def parse_assignment(text: str, *, file: str = "--set") -> Override:
    """``"costs.diesel.value=200"`` or ``"demand[*].trucks_per_day*=1.2"`` as an :class:`Override`.

    The value is read as YAML; an empty value is ``null``.

    Raises
    ------
    InputFileError
        For text without ``=``, a malformed path or a value that is not YAML.
    """
    key, sep, raw = text.partition("=")
    where = f"{file} {text}" if file == "--set" else file
    if not sep or not key.strip():
        raise InputFileError([Problem(where, None, "", "expected PATH=VALUE or PATH*=FACTOR")])
    key = key.strip()
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError as exc:
        raise InputFileError([Problem(where, None, key.rstrip("*"), f"value is not YAML: {exc}")]) from None
    return Override.from_key(key, value, file=where)


def apply_overrides(doc: ScenarioDoc, overrides: Sequence[Override]) -> ScenarioDoc:
    """A copy of ``doc`` with ``overrides`` applied in order; ``doc`` is not changed.

    The origin of every overridden key becomes its override, so that a
    validation problem in an overridden value points there.

    Raises
    ------
    InputFileError
        One located problem per override that cannot apply (unknown key, index
        out of range, nothing to scale, a factor that is no number).
    """
    data = copy.deepcopy(doc.data)
    origin = dict(doc.origin)
    problems: list[Problem] = []
    for ov in overrides:
        try:
            _apply(data, origin, ov)
        except _OverrideError as exc:
            problems.append(ov.problem(exc.message, at=exc.at))
    if problems:
        raise InputFileError(problems)
    return ScenarioDoc(data=data, origin=origin)


def override_scenario(doc: ScenarioDoc, overrides: Sequence[Override], *, path: Path, files: list[Path],
                      sha256: str) -> LoadedScenario:
    """Apply ``overrides`` to a merged scenario document and validate the result.

    ``sha256`` is that of the scenario files; the result's ``sha256`` also
    covers the overrides, so it names the scenario actually run.

    Raises
    ------
    InputFileError
        Overrides that cannot apply, or a scenario that no longer validates.
    """
    changed = apply_overrides(doc, overrides)
    if overrides:
        digest = hashlib.sha256(sha256.encode())
        spec = [[o.path, o.scale, o.value] for o in overrides]
        digest.update(json.dumps(spec, default=str, sort_keys=True).encode())
        sha256 = digest.hexdigest()
    return scenario_from_doc(changed, path=path, files=files, sha256=sha256)


def load_with_overrides(path: str | Path, overrides: Sequence[Override], *, check_network: bool = True
                        ) -> LoadedScenario:
    """:func:`routesim.runner.load_scenario` with ``overrides`` applied before validation.

    Parameters
    ----------
    path
        The scenario YAML.
    overrides
        Applied in order (:func:`parse_assignment` reads ``--set`` text); none
        gives exactly what ``load_scenario`` gives.
    check_network
        Also load the network and check the scenario against it (default ``True``).

    Raises
    ------
    InputFileError
        Every problem, located at the override or the file line it comes from.
    """
    if not overrides:
        return load_scenario(path, check_network=check_network)
    path = Path(path)
    doc, files = read_scenario_doc(path)
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.read_bytes())
    loaded = override_scenario(doc, overrides, path=path, files=files, sha256=digest.hexdigest())
    if check_network:
        problems = check(loaded, scenario_network(loaded))
        if problems:
            raise InputFileError(problems)
    return loaded


#: The keys of a price that say where its values come from (one replaces the others).
PRICE_SOURCES = ("value", "series", "file")


class _OverrideError(Exception):
    def __init__(self, message: str, at: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.at = at


def _apply(data: Any, origin: dict[tuple, tuple[str, int]], ov: Override) -> None:
    try:
        segments = parse_path(ov.path)
    except ValueError as exc:
        raise _OverrideError(str(exc)) from None
    if segments[0] == "extends":
        raise _OverrideError("extends is resolved when the file is read; override the values it brings instead")
    _check_against_model(segments)
    if ov.scale and (isinstance(ov.value, bool) or not isinstance(ov.value, int | float)):
        raise _OverrideError(f"a factor must be a number, not {ov.value!r}")
    targets = _targets(data, segments, (), create=not ov.scale)
    wild = any(isinstance(s, Wildcard) for s in segments)
    if not targets and wild:
        raise _OverrideError(f"{ov.path} matches nothing in the scenario")
    scaled = 0
    for container, key, loc in targets:
        if ov.scale:
            present = key in container if isinstance(container, dict) else True
            if not present:
                if wild:
                    continue  # e.g. a flow given in tonnes has no trucks_per_day to scale
                raise _OverrideError(f"nothing to scale: the scenario does not set {field_name(loc)}; "
                                     f"set it with {ov.path}=VALUE instead")
            old = container[key]
            if isinstance(old, bool) or not isinstance(old, int | float):
                raise _OverrideError(f"cannot scale {field_name(loc)}: its value {old!r} is not a number",
                                     at=field_name(loc))
            container[key] = old * ov.value
            scaled += 1
        else:
            container[key] = _anchor_paths(copy.deepcopy(ov.value), loc, ov)
            if len(loc) == 3 and loc[0] == "costs" and key in PRICE_SOURCES and isinstance(container, dict):
                # As in `extends`: a price's new value, series or file replaces its source whole.
                for other in [k for k in container if k in (*PRICE_SOURCES, "kind") and k != key]:
                    del container[other]
                    for k in [k for k in origin if k[: len(loc)] == (*loc[:-1], other)]:
                        del origin[k]
        for k in [k for k in origin if k[: len(loc)] == loc]:
            del origin[k]
        # An override has no line of a file when it comes from the command line.
        origin[loc] = cast(tuple[str, int], (ov.file, ov.line))
    if ov.scale and not scaled:
        raise _OverrideError(f"nothing to scale: no item of the scenario sets {ov.path}")


def _targets(node: Any, segments: tuple[Segment, ...], at: tuple, *, create: bool) -> list[tuple[Any, Any, tuple]]:
    """(container, key, location) of every value the path names; missing mappings on the way are created."""
    seg, rest = segments[0], segments[1:]
    where = field_name(at) or "the scenario"
    keys: list[Any]
    if isinstance(seg, str):
        if not isinstance(node, dict):
            raise _OverrideError(f"{where} is {_kind(node)}, it has no key {seg!r}", at=field_name(at))
        keys = [seg]
    elif seg is EVERY_KEY:
        if not isinstance(node, dict):
            raise _OverrideError(f"{where} is {_kind(node)}, not a mapping", at=field_name(at))
        keys = list(node)
    else:
        if not isinstance(node, list):
            raise _OverrideError(f"{where} is {_kind(node)}, not a list", at=field_name(at))
        if seg is EVERY_ITEM:
            keys = list(range(len(node)))
        else:
            assert isinstance(seg, int)
            if not -len(node) <= seg < len(node):
                raise _OverrideError(f"{where} has {len(node)} item(s): index {seg} is out of range",
                                     at=field_name((*at, seg)))
            keys = [seg % len(node)]
    if not rest:
        return [(node, k, (*at, k)) for k in keys]
    out: list[tuple[Any, Any, tuple]] = []
    for k in keys:
        child = node.get(k) if isinstance(node, dict) else node[k]
        if child is None:
            nxt = rest[0]
            if isinstance(node, dict) and create and (isinstance(nxt, str) or nxt is EVERY_KEY):
                child = node[k] = {}
            elif isinstance(seg, str):
                raise _OverrideError(f"the scenario does not set {field_name((*at, k))}", at=field_name((*at, k)))
            else:
                continue
        out += _targets(child, rest, (*at, k), create=create)
    return out


#: Keys whose values are files (``*``: any key or index), with the kind of shipped data ``builtin:NAME`` means there.
_PATH_KEYS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("network",), "network"),
    (("events", "files", "*"), "events"),
    (("events", "control_files", "*"), "control"),
    (("costs", "*", "file"), "prices"),
)


def _anchor_paths(value: Any, loc: tuple, ov: Override) -> Any:
    """``value`` with the file paths it sets made absolute and ``builtin:`` names made canonical, as files are read.

    A relative path is relative to the sweep file that gives it, or to the working folder for ``--set``.
    """
    for pattern, kind in _PATH_KEYS:
        if len(loc) > len(pattern) or any(p != "*" and p != k for p, k in zip(pattern, loc, strict=False)):
            continue
        value = _anchor_under(value, pattern[len(loc):], kind, ov)
    return value


def _anchor_under(node: Any, rest: tuple[str, ...], kind: str, ov: Override) -> Any:
    if not rest:
        return _anchor(node, kind, ov) if isinstance(node, str) else node
    head, tail = rest[0], rest[1:]
    if isinstance(node, dict):
        for k in list(node) if head == "*" else [head] if head in node else []:
            node[k] = _anchor_under(node[k], tail, kind, ov)
    elif isinstance(node, list) and head == "*":
        node = [_anchor_under(item, tail, kind, ov) for item in node]
    return node


def _anchor(text: str, kind: str, ov: Override) -> str:
    if kind == "network" and text.removeprefix(BUILTIN) in BUILTIN_NETWORKS:
        return text.removeprefix(BUILTIN)
    if text.startswith(BUILTIN):
        canonical = None if kind == "network" else canonical_builtin(text, kind)
        if canonical is None:
            known = list(BUILTIN_NETWORKS) if kind == "network" else builtin_names(kind)
            close = difflib.get_close_matches(text.removeprefix(BUILTIN), known, n=3, cutoff=0.5)
            hint = f"; did you mean: {', '.join(BUILTIN + c for c in close)}?" if close else ""
            raise _OverrideError(f"no shipped {kind} file {text!r}{hint} (shipped: {', '.join(known)})")
        return canonical
    path = Path(text)
    if path.is_absolute():
        return text
    return str((Path(ov.relative_to) if ov.relative_to else Path.cwd()).absolute() / path)


def _kind(node: Any) -> str:
    if isinstance(node, dict):
        return "a mapping"
    if isinstance(node, list):
        return "a list"
    return f"a single value ({node!r})"


def _check_against_model(segments: tuple[Segment, ...]) -> None:
    """Raise for a key the scenario model does not have, naming the close ones.

    The walk stops, accepting what follows, where the model allows several
    shapes (a selector is text or a mapping) or anything (``params``).
    """
    tp: Any = Scenario
    for depth, seg in enumerate(segments):
        tp = _unwrap(tp)
        if tp is None:
            return
        here = field_name(cast(tuple[str | int, ...], tuple(s if not isinstance(s, Wildcard) else 0
                                                             for s in segments[:depth])))
        where = here or "the scenario"
        origin = typing.get_origin(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if seg is EVERY_KEY:
                return
            if not isinstance(seg, str):
                raise _OverrideError(f"{where} is a mapping: use {here}.KEY, not an index", at=here)
            fields = list(tp.model_fields)
            if seg not in fields:
                close = difflib.get_close_matches(seg, fields, n=3, cutoff=0.6)
                hint = f"; did you mean: {', '.join(close)}?" if close else f"; known keys: {', '.join(fields)}"
                at = path_text(segments[: depth + 1])
                raise _OverrideError(f"unknown key {seg!r} in {where}{hint}", at=at)
            tp = tp.model_fields[seg].annotation
        elif origin in (list, tuple):
            if isinstance(seg, str) or seg is EVERY_KEY:
                raise _OverrideError(f"{where} is a list: use {here}[0] or {here}[*], not .{seg}", at=here)
            args = typing.get_args(tp)
            if origin is tuple and isinstance(seg, int) and len(args) > seg >= 0 and Ellipsis not in args:
                tp = args[seg]
            else:
                tp = args[0] if args else None
        elif origin is dict:
            if not isinstance(seg, str) and seg is not EVERY_KEY:
                raise _OverrideError(f"{where} is a mapping: use {here}.KEY, not an index", at=here)
            args = typing.get_args(tp)
            tp = args[1] if args else None
        elif tp is Any:
            return
        else:
            name = getattr(tp, "__name__", str(tp))
            raise _OverrideError(f"{where} is a single value ({name}); it has no part {path_text([seg])!r}",
                                 at=here)


def _unwrap(tp: Any) -> Any:
    """The one type behind ``Annotated``/``Optional``; ``None`` where several shapes are allowed."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return None
            tp = args[0]
        elif origin is typing.Literal:
            return str
        else:
            return tp
