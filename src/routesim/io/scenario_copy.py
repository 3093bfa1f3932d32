"""The shipped scenarios: listing them, and copying one with the files it needs to a folder of one's own.

A copy runs from its new folder: the bases it ``extends`` and the files next to
it that it names (event files, control tables, price files) are copied along,
keeping their relative places, and paths into the shipped data become
``builtin:`` addresses (:mod:`routesim._util.datafiles`).
"""

from __future__ import annotations

import difflib
import shutil
from dataclasses import dataclass
from pathlib import Path

from routesim._util import yamlio
from routesim._util.datafiles import BUILTIN, data_dir, scenarios_dir
from routesim.errors import InputFileError, Problem, RoutesimError
from routesim.io.scenario_file import path_values, read_scenario


@dataclass(frozen=True)
class ShippedScenario:
    """A scenario shipped with routesim: its name, period and description."""

    name: str
    path: Path
    start: str
    end: str
    description: str


def shipped_scenarios() -> list[ShippedScenario]:
    """Every shipped scenario, by file name (hidden files and folders left out)."""
    out = []
    for path in sorted(scenarios_dir().glob("*.yaml")):
        if path.name.startswith("."):
            continue
        sc = read_scenario(path).scenario
        out.append(ShippedScenario(path.stem, path, sc.start.isoformat(), sc.end.isoformat(), sc.description))
    return out


def shipped_scenario(name: str) -> Path:
    """The file of shipped scenario ``name`` (``m5-closed-2016`` or ``m5-closed-2016.yaml``).

    Raises
    ------
    RoutesimError
        For an unknown name, with close matches.
    """
    names = [s.stem for s in sorted(scenarios_dir().glob("*.yaml")) if not s.name.startswith(".")]
    stem = name.removeprefix(BUILTIN).removesuffix(".yaml")
    if stem not in names:
        close = difflib.get_close_matches(stem, names, n=3, cutoff=0.5)
        hint = f"did you mean: {', '.join(close)}?" if close else f"shipped: {', '.join(names)}"
        raise RoutesimError(f"unknown scenario {name!r}; {hint}")
    return scenarios_dir() / f"{stem}.yaml"


def _inside(path: Path, folder: Path) -> bool:
    return path.is_relative_to(folder.resolve())


def copy_scenario(name: str, dest: str | Path = ".", *, force: bool = False) -> list[Path]:
    """Copy shipped scenario ``name`` into ``dest`` so that it runs from there.

    Parameters
    ----------
    name
        A shipped scenario (:func:`shipped_scenarios`).
    dest
        Folder to write into (created if needed; default the current folder).
    force
        Overwrite files that exist (default ``False``: refuse).

    Returns
    -------
    The files written, the scenario itself last.

    Raises
    ------
    RoutesimError
        For an unknown name, or files in ``dest`` that would be overwritten.
    """
    source = shipped_scenario(name)
    root = source.parent.resolve()
    dest = Path(dest)
    chain = read_scenario(source).files  # the furthest base first
    texts: dict[Path, str] = {}
    extra: dict[Path, Path] = {}  # copied file or folder -> its place relative to dest
    for file in chain:
        located = yamlio.load(file)
        lines = file.read_text(encoding="utf-8").splitlines(keepends=True)
        for loc, text, _kind in path_values(located):
            if text.startswith(BUILTIN) or Path(text).is_absolute() or loc == ("extends",):
                continue  # bases are copied beside it; shipped and absolute addresses hold anywhere
            target = (file.parent / text).resolve()
            if _inside(target, data_dir()):
                new = f"{BUILTIN}{target.relative_to(data_dir().resolve()).as_posix()}"
                line = located.line(loc)
                if line is None or text not in lines[line - 1]:
                    raise RoutesimError(f"{file}: cannot rewrite path {text!r} of {yamlio.field_name(loc)}")
                lines[line - 1] = lines[line - 1].replace(text, new, 1)
            elif _inside(target, root):
                extra[target] = target.relative_to(root)
            else:
                raise RoutesimError(f"{file}: {yamlio.field_name(loc)} names {text!r}, outside the shipped data")
        texts[file] = "".join(lines)
    outputs = [dest / f.resolve().relative_to(root) for f in chain] + [dest / rel for rel in extra.values()]
    clash = [p for p in outputs if p.exists()]
    if clash and not force:
        raise InputFileError([Problem(str(p), None, "", "exists; give --force to overwrite") for p in clash])
    written: list[Path] = []
    for src, rel in extra.items():
        out = dest / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, out, dirs_exist_ok=True)
        else:
            shutil.copyfile(src, out)
        written.append(out)
    for file in chain:
        out = dest / file.resolve().relative_to(root)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(texts[file], encoding="utf-8")
        written.append(out)
    return written
