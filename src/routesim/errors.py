"""User-facing errors.

Every problem caused by user input (an unknown place, a malformed selector, a bad
YAML file) is raised as a :class:`RoutesimError` subclass. The CLI prints these as
plain messages and exits with status 2, never with a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


class RoutesimError(Exception):
    """Base class of every error caused by user input."""


class UnknownPlaceError(RoutesimError, LookupError):
    """A place name that does not match any place; ``suggestions`` lists close names."""

    def __init__(self, name: str, suggestions: list[str]) -> None:
        self.name = name
        self.suggestions = suggestions
        hint = f"; did you mean: {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"unknown place {name!r}{hint}")


class SnapError(RoutesimError, LookupError):
    """A point or place too far from the network to snap to it; the message names the distance."""


class SelectorError(RoutesimError, ValueError):
    """A closure selector that cannot be resolved; the message names the bad part."""


class NetworkError(RoutesimError):
    """A network that cannot be read or compiled (missing attributes, malformed file)."""


@dataclass(frozen=True)
class Problem:
    """One located problem in an input file: ``file:line: field: message``."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class InputFileError(RoutesimError):
    """One or more located problems in input files."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
