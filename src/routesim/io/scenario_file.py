"""Reading scenario files: ``extends`` chains merged, validated, each key's origin kept.

``extends: base.yaml`` inherits another scenario: mappings merge key by key,
anything else (lists, numbers) in the child replaces the base's value. Every
key remembers the file and line it came from, so a problem in an inherited
value points at the base file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from routesim._util import yamlio
from routesim.errors import InputFileError, Problem
from routesim.models.scenario import Scenario
from routesim.network.graph import Network


@dataclass
class ScenarioDoc:
    """Merged YAML of a scenario and the bases it extends, with origins of each key."""

    data: Any
    origin: dict[tuple, tuple[str, int]] = field(default_factory=dict)

    def line(self, loc: tuple) -> int | None:
        return self._where(loc)[1]

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
        """A path given in the scenario, relative to the file that gave it."""
        p = Path(relative)
        return p if p.is_absolute() else self.path.parent / p


def _merge(base: ScenarioDoc, child: yamlio.Located, loc: tuple = ()) -> None:
    def walk(dst: dict, src: dict, at: tuple) -> None:
        for key, value in src.items():
            here = (*at, key)
            if isinstance(value, dict) and isinstance(dst.get(key), dict):
                base.origin[here] = (str(child.path), child.lines.get(here, 0))
                walk(dst[key], value, here)
            else:
                dst[key] = value
                for k in [k for k in base.origin if k[: len(here)] == here]:
                    del base.origin[k]
                for k, line in child.lines.items():
                    if k[: len(here)] == here:
                        base.origin[k] = (str(child.path), line)

    walk(base.data, child.data, loc)


def _read(path: Path, stack: tuple[Path, ...]) -> tuple[ScenarioDoc, list[Path]]:
    located = yamlio.load(path)
    if not isinstance(located.data, dict):
        raise InputFileError([Problem(str(path), 1, "", "a scenario is a mapping (name, period, demand ...)")])
    ext = located.data.get("extends")
    if ext is None:
        doc = ScenarioDoc(data={}, origin={(): (str(path), 1)})
        files = [path]
    else:
        target = path.parent / str(ext)
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
    data = dict(doc.data)
    data.pop("extends", None)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise InputFileError(yamlio.problems_from(exc, doc)) from None
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.read_bytes())
    return LoadedScenario(scenario, path, digest.hexdigest(), doc, files)
