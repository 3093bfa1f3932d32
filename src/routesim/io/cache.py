"""The user's cache: compiled networks (a raw road file is built once, then loaded compiled),
and the edge masks of event selectors per network (resolved once, then read back).

Compiled networks are keyed by the SHA-256 of the source file's content, the
profile, the compiled format and the routesim version, so an edited file,
another profile or a new release builds afresh; the newest :data:`MAX_ENTRIES`
networks are kept. Event masks (:mod:`routesim.events.maskcache`) are keyed by
the network's identity (:func:`mask_cache`). The folder is ``$ROUTESIM_CACHE``,
else ``$XDG_CACHE_HOME/routesim``, else ``~/.cache/routesim``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from routesim._util.files import file_sha256
from routesim._util.version import __version__
from routesim.errors import NetworkError
from routesim.events.maskcache import MaskCache
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


# --- event masks ----------------------------------------------------------------------------------

#: Subpackages whose code cannot change what a selector selects: their edits keep the masks.
_NOT_RESOLVING = ("cli", "runner", "analysis", "sim", "demand")

_Stat = tuple[str, int, int]


def _stats(paths: Sequence[Path]) -> tuple[_Stat | None, ...]:
    """Size and modification time of each file (``None``: missing), to see whether any changed."""
    out: list[_Stat | None] = []
    for path in paths:
        try:
            st = path.stat()
        except OSError:
            out.append(None)
        else:
            out.append((str(path), st.st_size, st.st_mtime_ns))
    return tuple(out)


def _resolver_digest() -> str:
    package = Path(__file__).resolve().parents[1]
    h = hashlib.sha256(__version__.encode())
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package)
        if rel.parts[0] not in _NOT_RESOLVING:
            h.update(rel.as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


#: SHA-256 of the source of every module that may take part in resolving a selector: every module
#: of routesim but the layers above ``io``, which a network and its selectors never import. An edit
#: of the selection code (or of how a network is read) in a checkout so invalidates the cached masks,
#: with no release needed. Hashed when this process starts reading networks (a few hundred kB, a few
#: milliseconds), so that it describes the code in memory even if the sources change meanwhile.
RESOLVER_CODE_DIGEST = _resolver_digest()


def mask_cache(kind: str, files: Sequence[str | Path]) -> MaskCache:
    """The event-mask cache of a network read from ``files`` (see :mod:`routesim.events.maskcache`).

    Call it when the network has just been read from ``files``.

    Parameters
    ----------
    kind
        What else decides the network beyond the files' content: the built-in
        name, or the profile and the snap limit a file was loaded with.
    files
        Every file the network is made of, in a fixed order: their SHA-256 (a
        missing file counts as such), ``kind`` and :data:`RESOLVER_CODE_DIGEST`
        make the network's identity. It is computed on the first dated query
        only, so an undated one never hashes the files; when a file changed
        since this call (the network in memory is then not the one on disk),
        there is no identity and no cache.
    """
    paths = [Path(f) for f in files]
    as_read = _stats(paths)

    def identity() -> str | None:
        h = hashlib.sha256(f"event-masks\0{kind}\0{RESOLVER_CODE_DIGEST}".encode())
        for path in paths:
            digest = file_sha256(path) if path.is_file() else "missing"
            h.update(f"\0{path.name}\0{digest}".encode())
        return h.hexdigest() if _stats(paths) == as_read else None

    return MaskCache(folder=cache_dir, identity=identity)
