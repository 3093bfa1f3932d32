"""YAML loading that remembers where each value came from, within bounds.

Validation errors must point at ``file:line``, so plain Python data is built
from PyYAML's event stream (its parser keeps the position of every event) and
the line of each mapping key and list item is recorded on the way.

Building from events rather than from PyYAML's node tree also lets the loader
refuse hostile files before they cost anything: every value built counts
against :data:`MAX_NODES` (an alias counts as the whole value it repeats, so a
600-byte "billion laughs" is refused in milliseconds instead of expanding to
gigabytes), nesting is limited to :data:`MAX_DEPTH` levels (PyYAML's own
composer recurses and dies with ``RecursionError`` on deep nesting), and
recursive aliases, lists or mappings used as keys, duplicate keys, NUL bytes
and invalid UTF-8 are located errors (``file:line: problem``).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from routesim.errors import InputFileError, Problem

Loc = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)

#: Most values (scalars, lists and mappings, with aliases counted as what they repeat) one file may hold.
MAX_NODES = 1_000_000
#: Deepest nesting of lists and mappings.
MAX_DEPTH = 100

_MERGE_TAG = "tag:yaml.org,2002:merge"
#: The ``<<`` key of a merge (``<<: *base``), told apart from any text.
_MERGE = object()
_PLAIN_TAGS = {yaml.SequenceStartEvent: "tag:yaml.org,2002:seq", yaml.MappingStartEvent: "tag:yaml.org,2002:map"}


class Locator(Protocol):
    """Anything that turns a location in parsed YAML into a located problem."""

    def problem(self, loc: tuple[str | int, ...], message: str) -> Problem: ...


@dataclass(frozen=True)
class Located:
    """Parsed YAML data with the 1-based line of every key and list item.

    A value written as an alias (``*name``) has the line of the alias; what lies
    inside it has that line too.
    """

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
    """Parse a YAML file (UTF-8; a byte-order mark is allowed).

    Raises
    ------
    InputFileError
        For a missing or unreadable file, invalid UTF-8, a syntax error, or a
        file beyond the loader's bounds (:data:`MAX_NODES`, :data:`MAX_DEPTH`),
        located at its line.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputFileError([Problem(str(path), None, "", "file not found")]) from None
    except OSError as exc:
        raise InputFileError([Problem(str(path), None, "", f"cannot read: {exc.strerror or exc}")]) from None
    return loads(decode_utf8(raw, path), path)


def decode_utf8(raw: bytes, path: str | Path) -> str:
    """``raw`` as UTF-8 text (a leading byte-order mark dropped).

    Raises
    ------
    InputFileError
        At the line of the first byte that is not UTF-8.
    """
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        byte = raw[exc.start : exc.start + 1].hex()
        raise InputFileError(
            [Problem(str(path), line, "", f"not UTF-8 text (byte 0x{byte}); save the file as UTF-8")]
        ) from None


def loads(text: str, path: str | Path = "<string>") -> Located:
    """Parse YAML text (see :func:`load`)."""
    path = Path(path)
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as exc:
        raise InputFileError([_reader_problem(exc, text, path)]) from None
    try:
        builder = _Builder(loader)
        data = builder.document()
    except _Refused as exc:
        raise InputFileError([Problem(str(path), exc.line, "", exc.message)]) from None
    except yaml.reader.ReaderError as exc:
        raise InputFileError([_reader_problem(exc, text, path)]) from None
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
    return Located(path=path, data=data, lines=builder.lines)


def _reader_problem(exc: yaml.reader.ReaderError, text: str, path: Path) -> Problem:
    line = text.count("\n", 0, max(exc.position, 0)) + 1
    char = exc.character if isinstance(exc.character, int) else 0
    what = "NUL byte" if char == 0 else f"control character U+{char:04X}"
    return Problem(str(path), line, "", f"{what} is not allowed in YAML text")


class _Refused(Exception):
    """A file beyond the loader's bounds or with a structure data cannot have."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass
class _Frame:
    """A list or mapping being built."""

    obj: list[Any] | dict[Any, Any]
    loc: Loc
    anchor: str | None
    start: int  # nodes counted when it began: its size is the difference at its end
    depth: int  # deepest nesting inside it, itself included
    key: Any = None
    has_key: bool = False
    merges: list[tuple[dict[Any, Any], int]] = field(default_factory=list)


@dataclass
class _Anchored:
    value: Any
    size: int
    depth: int
    complex: bool


class _Builder:
    """Plain data from a YAML event stream, without recursion."""

    def __init__(self, loader: yaml.SafeLoader) -> None:
        self.loader = loader
        self.lines: dict[Loc, int] = {}
        self.anchors: dict[str, _Anchored] = {}
        self.open: set[str] = set()
        self.nodes = 0

    def document(self) -> Any:
        ld = self.loader
        ld.get_event()  # StreamStart
        if ld.check_event(yaml.StreamEndEvent):
            return None
        ld.get_event()  # DocumentStart
        data = self._value()
        ld.get_event()  # DocumentEnd
        if not ld.check_event(yaml.StreamEndEvent):
            event = ld.peek_event()
            raise _Refused(event.start_mark.line + 1, "a second YAML document (---); give one per file")
        return data

    def _count(self, n: int, line: int) -> None:
        self.nodes += n
        if self.nodes > MAX_NODES:
            raise _Refused(line, f"more than {MAX_NODES:,} values (aliases repeating aliases?); refused")

    def _value(self) -> Any:
        stack: list[_Frame] = []
        while True:
            event = self.loader.get_event()
            line = event.start_mark.line + 1
            parent = stack[-1] if stack else None
            key_slot = isinstance(parent, _Frame) and isinstance(parent.obj, dict) and not parent.has_key
            loc: Loc = () if parent is None else self._child_loc(parent)
            if isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
                if key_slot:
                    raise _Refused(line, "a list or mapping cannot be a key; keys are plain text or numbers")
                if event.tag not in (None, "!", _PLAIN_TAGS[type(event)]):
                    raise _Refused(line, f"YAML tag {event.tag} is not supported")
                if len(stack) >= MAX_DEPTH:
                    raise _Refused(line, f"nested more than {MAX_DEPTH} levels deep")
                self._count(1, line)
                self.lines.setdefault(loc, line)
                obj: list[Any] | dict[Any, Any] = [] if isinstance(event, yaml.SequenceStartEvent) else {}
                if event.anchor:
                    self.open.add(event.anchor)
                stack.append(_Frame(obj, loc, event.anchor, self.nodes - 1, 1))
                continue
            if isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent):
                frame = stack.pop()
                if isinstance(frame.obj, dict):
                    self._merge(frame)
                value, complex_, depth = frame.obj, True, frame.depth
                if frame.anchor:
                    self.open.discard(frame.anchor)
                    self.anchors[frame.anchor] = _Anchored(value, self.nodes - frame.start, depth, True)
                if stack:
                    stack[-1].depth = max(stack[-1].depth, depth + 1)
            elif isinstance(event, yaml.AliasEvent):
                value, complex_, depth = self._alias(event, line, len(stack))
            else:
                assert isinstance(event, yaml.ScalarEvent)
                value, complex_, depth = self._scalar(event), False, 0
                self._count(1, line)
                if event.anchor:
                    self.anchors[event.anchor] = _Anchored(value, 1, 0, False)
            if not stack:
                return value
            self._put(stack[-1], value, complex_=complex_, line=line)

    @staticmethod
    def _child_loc(parent: _Frame) -> Loc:
        if isinstance(parent.obj, list):
            return (*parent.loc, len(parent.obj))
        return (*parent.loc, parent.key) if parent.has_key else parent.loc

    def _put(self, frame: _Frame, value: Any, *, complex_: bool, line: int) -> None:
        if value is _MERGE and (isinstance(frame.obj, list) or frame.has_key):
            value = "<<"  # only a key merges
        if isinstance(frame.obj, list):
            self.lines.setdefault((*frame.loc, len(frame.obj)), line)
            frame.obj.append(value)
            return
        if not frame.has_key:
            if complex_:
                raise _Refused(line, "a list or mapping cannot be a key; keys are plain text or numbers")
            if value is _MERGE:
                frame.key, frame.has_key = _MERGE, True
                return
            key = str(value) if isinstance(value, int | float | bool) or value is None else value
            if not isinstance(key, str):
                raise _Refused(line, f"a {type(key).__name__} value cannot be a key; keys are plain text or numbers")
            if key in frame.obj:
                raise _Refused(line, f"duplicate key {key!r}")
            self.lines[(*frame.loc, key)] = line
            frame.key, frame.has_key = key, True
            return
        if frame.key is _MERGE:
            sources = value if isinstance(value, list) else [value]
            if not all(isinstance(s, dict) for s in sources):
                raise _Refused(line, "'<<' merges a mapping or a list of mappings")
            frame.merges.extend((s, line) for s in sources)
        else:
            frame.obj[frame.key] = value
        frame.has_key = False

    def _merge(self, frame: _Frame) -> None:
        # Keys written in the mapping win over merged ones; earlier merges win over later ones.
        assert isinstance(frame.obj, dict)
        for source, line in frame.merges:
            for key, value in source.items():
                if key not in frame.obj:
                    frame.obj[key] = value
                    self.lines.setdefault((*frame.loc, key), line)

    def _alias(self, event: yaml.AliasEvent, line: int, depth: int) -> tuple[Any, bool, int]:
        name = str(event.anchor)
        if name in self.open:
            raise _Refused(line, f"recursive alias *{name} (it refers to the value that contains it)")
        anchored = self.anchors.get(name)
        if anchored is None:
            raise _Refused(line, f"alias *{name} names no anchor &{name} defined before it")
        if depth + anchored.depth > MAX_DEPTH:
            raise _Refused(line, f"nested more than {MAX_DEPTH} levels deep (through alias *{name})")
        # Counted before it is copied: an alias bomb stops here without building anything.
        self._count(anchored.size, line)
        value = copy.deepcopy(anchored.value) if anchored.complex else anchored.value
        return value, anchored.complex, anchored.depth

    def _scalar(self, event: yaml.ScalarEvent) -> Any:
        tag = event.tag if event.tag not in (None, "!") else self.loader.resolve(
            yaml.ScalarNode, event.value, event.implicit
        )
        if tag == _MERGE_TAG:
            return _MERGE
        marks: Any = (event.start_mark, event.end_mark)  # the pure-Python parser's marks
        node = yaml.ScalarNode(tag, event.value, marks[0], marks[1], event.style)
        try:
            return self.loader.construct_object(node, deep=True)
        except (ValueError, OverflowError):
            # e.g. 2012-13-11 matches the timestamp pattern but is no date: keep the
            # text so that validation reports it at its line.
            return event.value
        finally:
            self.loader.constructed_objects.pop(node, None)


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


#: A model validator's message that starts with the field it is about: ``demand[0].vehicle: unknown ...``.
_FIELD_PREFIX = re.compile(r"^(?:Value error, )?([a-z_][a-z0-9_]*(?:\[\d+\]|\.[a-z_][a-z0-9_]*)*): (.+)$", re.S)
_PART = re.compile(r"\[(\d+)\]|\.?([a-z_][a-z0-9_]*)")


def problems_from(exc: ValidationError, doc: Locator, *, loc: Loc = ()) -> list[Problem]:
    """Located problems from a pydantic ``ValidationError``.

    A model validator's message that names a field first (``demand[0].vehicle:
    ...``) is located at that field, not at the model's first line.
    """
    problems = []
    for err in exc.errors(include_url=False):
        where: Loc = (*loc, *(p for p in err["loc"] if not _is_union_tag(p)))
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key (not allowed here)"
        elif err["type"] == "missing":
            msg = "required field is missing"
        elif err["type"] == "value_error" and (m := _FIELD_PREFIX.match(msg)):
            parts = [int(i) if i else str(k) for i, k in _PART.findall(m.group(1))]
            where, msg = (*where, *parts), f"Value error, {m.group(2)}"
        problems.append(doc.problem(where, msg))
    return problems


def _is_union_tag(part: str | int) -> bool:
    # pydantic inserts the union member's name in locations; it is no YAML key.
    # Our YAML keys are lower-case words, so type and class names are tags.
    return isinstance(part, str) and (
        "[" in part or part.startswith("function-") or part[:1].isupper() or part in _TYPE_TAGS
    )


_TYPE_TAGS = frozenset({"str", "int", "float", "bool", "tuple", "list", "dict"})
