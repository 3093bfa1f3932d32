"""The cache of compiled networks: a raw road file is built once, then loaded compiled.

Entries are keyed by the SHA-256 of the source file's content, the profile, the
compiled format and the routesim version, so an edited file, another profile
or a new release builds afresh. The folder is ``$ROUTESIM_CACHE``, else
``$XDG_CACHE_HOME/routesim``, else ``~/.cache/routesim``; the newest
:data:`MAX_ENTRIES` networks are kept.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from routesim._util.files import file_sha256
from routesim._util.version import __version__
from routesim.errors import NetworkError
from routesim.io.compiled import FORMAT, SUFFIX, load_compiled, save_compiled
from routesim.network.compiled import CompiledRoads

MAX_ENTRIES = 8


def cache_dir() -> Path:
    """Folder of the compiled-network cache (see the module docstring)."""
    explicit = os.environ.get("ROUTESIM_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "routesim"


def cache_path(source: str | Path, *, profile: str, digest: str | None = None) -> Path:
    """Where the compiled form of ``source`` under ``profile`` is cached."""
    digest = digest or file_sha256(source)
    return cache_dir() / f"{Path(source).name}-{digest[:24]}-{profile}-f{FORMAT}-v{__version__}{SUFFIX}"


def cached_build(
    source: str | Path, *, profile: str, build: Callable[[Path], CompiledRoads]
) -> tuple[CompiledRoads, Path, bool]:
    """The compiled network of ``source``: from the cache, else built by ``build(source)`` and cached.

    Returns
    -------
    (roads, cache file, built)
        ``built`` is true when the network was built this time. A cache that
        cannot be written (read-only home) only costs the rebuild next time.
    """
    src = Path(source)
    target = cache_path(src, profile=profile)
    if target.is_file():
        try:
            return load_compiled(target), target, False
        except NetworkError:  # a damaged or outdated entry is rebuilt, never fatal
            target.unlink(missing_ok=True)
    roads = build(src)
    try:
        save_compiled(roads, target)
        _trim(target.parent)
    except (OSError, NetworkError):  # an unwritable cache only costs a rebuild next time
        pass
    return roads, target, True


def _trim(folder: Path) -> None:
    entries = sorted(folder.glob(f"*{SUFFIX}"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[MAX_ENTRIES:]:
        old.unlink(missing_ok=True)
