"""Location of the data shipped with routesim (embedded network, event library, prices, scenarios).

Shipped files are addressable from scenario files as ``builtin:NAME``: the key
that holds the address says which folder ``NAME`` is looked up in (price files
in ``prices/``, ``extends`` in the scenarios, event files in ``events/``,
control tables in ``control/``). The canonical form names the folder and the
file, ``builtin:prices/diesel_syp.csv``; :func:`builtin_path` reads both.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

#: Prefix of an address of shipped data in a scenario file.
BUILTIN = "builtin:"

#: Folder and file suffix looked up for a short ``builtin:NAME`` address, by kind of file.
BUILTIN_KINDS: dict[str, tuple[str, str]] = {
    "prices": ("prices", ".csv"),
    "scenarios": ("scenarios", ".yaml"),
    "events": ("events", ".yaml"),
    "control": ("control", ""),
}


@cache
def data_dir() -> Path:
    """Directory holding ``network/`` and ``events/``.

    In an installed wheel the repository's ``data/`` is packaged as
    ``routesim/_data``; in a source checkout (editable install) it is read in place.
    """
    packaged = Path(__file__).resolve().parents[1] / "_data"
    if (packaged / "network").is_dir():
        return packaged
    source = Path(__file__).resolve().parents[3] / "data"
    if (source / "network").is_dir():
        return source
    raise FileNotFoundError(
        "routesim data not found: expected routesim/_data (installed) or data/ (checkout)"
    )


def network_dir() -> Path:
    """The embedded network's ``places.csv``, ``segments.csv`` and ``speeds.csv``."""
    return data_dir() / "network"


def events_dir() -> Path:
    """The built-in event library (``index.yaml`` and the files it includes)."""
    return data_dir() / "events"


def prices_dir() -> Path:
    """The sourced price series (``diesel_syp.csv``, ``syp_per_usd.csv``)."""
    return data_dir() / "prices"


@cache
def scenarios_dir() -> Path:
    """The shipped scenarios: ``routesim/_data/scenarios`` in a wheel, ``scenarios/`` in a checkout."""
    packaged = data_dir() / "scenarios"
    if packaged.is_dir():
        return packaged
    return data_dir().parent / "scenarios"


def _folder(name: str) -> Path:
    return scenarios_dir() if name == "scenarios" else data_dir() / name


def builtin_names(kind: str) -> list[str]:
    """Short names of the shipped files of ``kind`` (a key of :data:`BUILTIN_KINDS`)."""
    folder, suffix = BUILTIN_KINDS[kind]
    root = _folder(folder)
    if not root.is_dir():
        return []
    return sorted(
        p.name[: len(p.name) - len(suffix)] if suffix else p.name
        for p in root.iterdir()
        if not p.name.startswith((".", "_")) and p.name != "README.md" and (not suffix or p.name.endswith(suffix))
    )


def canonical_builtin(address: str, kind: str) -> str | None:
    """``builtin:NAME`` or ``builtin:FOLDER/FILE`` as ``builtin:FOLDER/FILE``; ``None`` if no such file.

    A short name is looked up in the folder of ``kind``; a name with a ``/``
    is taken as a path under the shipped data (the scenarios included).
    """
    name = address.removeprefix(BUILTIN).strip()
    if "/" in name:
        canonical = f"{BUILTIN}{name}"
    else:
        folder, suffix = BUILTIN_KINDS[kind]
        file = name if not suffix or name.endswith(suffix) else f"{name}{suffix}"
        canonical = f"{BUILTIN}{folder}/{file}"
    path = builtin_path(canonical)
    return canonical if path is not None and path.exists() and ".." not in Path(name).parts else None


def builtin_path(address: str) -> Path | None:
    """The file of a canonical address ``builtin:FOLDER/FILE``; ``None`` if it is not one."""
    if not address.startswith(BUILTIN):
        return None
    folder, _, rest = address.removeprefix(BUILTIN).partition("/")
    if not rest:
        return None
    return _folder(folder) / rest
