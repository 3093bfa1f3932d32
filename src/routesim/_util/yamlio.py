"""YAML loading that remembers where each value came from.

Validation errors must point at ``file:line``; PyYAML's composer keeps the
position of every node, so we build plain Python data from the node tree and
record the line of each mapping key and list item on the way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from routesim.errors import InputFileError, Problem

Loc = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)


class Locator(Protocol):
    """Anything that turns a location in parsed YAML into a located problem."""

    def problem(self, loc: tuple[str | int, ...], message: str) -> Problem: ...


@dataclass(frozen=True)
class Located:
    """Parsed YAML data with the 1-based line of every key and list item."""

    path: Path
    data: Any
    lines: dict[Loc, int]

    def line(self, loc: Iterable[str | int]) -> int | None:
        """Line of the deepest known prefix of ``loc``."""
        loc = tuple(loc)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get((), None)

    def problem(self, loc: Iterable[str | int], message: str) -> Problem:
        where = tuple(loc)
        return Problem(str(self.path), self.line(where), field_name(where), message)


def field_name(loc: Iterable[str | int]) -> str:
    """``("events", 3, "date")`` -> ``"events[3].date"``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def load(path: str | Path) -> Located:
    """Parse a YAML file.

    Raises
    ------
    InputFileError
        For a missing file or a syntax error, located at its line.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputFileError([Problem(str(path), None, "", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError([Problem(str(path), None, "", f"cannot read: {exc}")]) from None
    return loads(text, path)


def loads(text: str, path: str | Path = "<string>") -> Located:
    """Parse YAML text (see :func:`load`)."""
    path = Path(path)
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        lines: dict[Loc, int] = {}
        data = _build(loader, node, (), lines) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise InputFileError(
            [Problem(str(path), line, "", f"YAML syntax: {exc.problem or exc}")]
        ) from None
    except yaml.YAMLError as exc:
        raise InputFileError([Problem(str(path), None, "", f"YAML: {exc}")]) from None
    finally:
        loader.dispose()
    return Located(path=path, data=data, lines=lines)


def _build(loader: yaml.SafeLoader, node: yaml.Node, loc: Loc, lines: dict[Loc, int]) -> Any:
    lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if isinstance(key, int | float | bool) or key is None:
                key = str(key)
            if key in out:
                raise yaml.MarkedYAMLError(
                    problem=f"duplicate key {key!r}", problem_mark=key_node.start_mark
                )
            lines[(*loc, key)] = key_node.start_mark.line + 1
            out[key] = _build(loader, value_node, (*loc, key), lines)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(loader, item, (*loc, i), lines) for i, item in enumerate(node.value)]
    try:
        return loader.construct_object(node, deep=True)
    except ValueError:
        # e.g. 2012-13-11 matches the timestamp pattern but is no date: keep the
        # text so that validation reports it at its line.
        return node.value


def validate(model: type[M], doc: Located, *, loc: Loc = ()) -> M:
    """Validate ``doc`` (or its part at ``loc``) against ``model``.

    Raises
    ------
    InputFileError
        One located problem per validation error.
    """
    data = doc.data
    for part in loc:
        data = data[part]
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        raise InputFileError(problems_from(exc, doc, loc=loc)) from None


def problems_from(exc: ValidationError, doc: Locator, *, loc: Loc = ()) -> list[Problem]:
    """Located problems from a pydantic ``ValidationError``."""
    problems = []
    for err in exc.errors(include_url=False):
        where = (*loc, *(p for p in err["loc"] if not _is_union_tag(p)))
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key (not allowed here)"
        elif err["type"] == "missing":
            msg = "required field is missing"
        problems.append(doc.problem(where, msg))
    return problems


def _is_union_tag(part: str | int) -> bool:
    # pydantic inserts the union member's name in locations; it is no YAML key.
    # Our YAML keys are lower-case words, so type and class names are tags.
    return isinstance(part, str) and (
        "[" in part or part.startswith("function-") or part[:1].isupper() or part in _TYPE_TAGS
    )


_TYPE_TAGS = frozenset({"str", "int", "float", "bool", "tuple", "list", "dict"})
