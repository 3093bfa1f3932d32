"""Atomic writes: a file or folder appears complete under its name, or not at all.

Temporary files and folders are created beside their target (so the final
rename stays on one file system) and get the permissions any new file or
folder gets under the user's umask, not the private 0600/0700 of
:mod:`tempfile`.

A result folder (:func:`atomic_dir`) is written as ``.<name>.tmp-<pid>-*``
beside it, under a lock ``.<name>.lock`` that a second writer of the same
folder fails to take (:class:`FolderLocked`), and replaces the old folder in
one step: on Linux the two are exchanged with ``renameat2(RENAME_EXCHANGE)``,
so the name always shows either the old result or the new one. Where the
exchange is not available (other systems, some file systems) the old folder is
first renamed to ``.<name>.old-<pid>-*`` and the new one renamed into place; a
run killed between the two renames leaves the old result under that hidden
name, and the next writer of the folder puts it back before it starts. Hidden
temporary folders left by killed runs are removed by the next writer of the
same folder, and those of other folders in the same parent once their lock is
free.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from routesim.errors import RoutesimError


class FolderLocked(RoutesimError):
    """Another process is writing the same result folder."""


def _umask() -> int:
    # os.umask can only be read by setting it; restore it at once.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _share(path: Path, *, directory: bool) -> None:
    path.chmod((0o777 if directory else 0o666) & ~_umask())


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``, renamed onto it on success.

    A run interrupted mid-write leaves only a hidden ``.tmp`` file, never a
    truncated ``target``. The path exists (empty) when yielded; a writer that
    refuses to overwrite (GDAL) may remove it first. The real suffix stays last
    because some writers choose their format by it.

    Raises
    ------
    OSError
        When the folder cannot be created or written (callers such as caches
        ignore it; the CLI reports it with the path).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        _share(tmp_path, directory=tmp_path.is_dir())
        os.replace(tmp_path, target)
    finally:
        if tmp_path.is_dir():
            shutil.rmtree(tmp_path, ignore_errors=True)
        elif tmp_path.exists():
            tmp_path.unlink()


def lock_path(target: Path) -> Path:
    """The lock file of result folder ``target``: ``.<name>.lock`` beside it."""
    return target.parent / f".{target.name}.lock"


def _try_lock(path: Path) -> int | None:
    """An open descriptor holding an exclusive lock on ``path``, or ``None`` when another holds it."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666 & ~_umask())
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        # The file may have been removed (by the holder releasing it) between open and flock:
        # a lock on a removed file guards nothing, so take the lock on the new file.
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)


def _release(path: Path, fd: int) -> None:
    # Removed while still locked, so a waiting writer never locks a file that is going away unnoticed.
    with suppress(OSError):
        path.unlink()
    os.close(fd)


#: Locks this process holds: lock file -> (descriptor, depth). A lock is taken again by the
#: same process (a run holds its folder's lock, then writes the folder) without blocking itself.
_HELD: dict[Path, list[int]] = {}


def _acquire(target: Path) -> Path:
    path = lock_path(target).absolute()
    if path in _HELD:
        _HELD[path][1] += 1
        return path
    fd = _try_lock(path)
    if fd is None:
        try:
            holder = path.read_text(encoding="utf-8").strip() or "another process"
        except OSError:
            holder = "another process"
        raise FolderLocked(
            f"{target}: another routesim run ({holder}) is writing this result folder; "
            "wait for it to finish or choose another --out"
        )
    os.ftruncate(fd, 0)
    os.write(fd, f"pid {os.getpid()}\n".encode())
    _HELD[path] = [fd, 1]
    return path


def _drop(path: Path) -> None:
    held = _HELD[path]
    held[1] -= 1
    if held[1] == 0:
        del _HELD[path]
        _release(path, held[0])


@contextmanager
def folder_lock(target: Path) -> Iterator[None]:
    """Hold the lock of result folder ``target`` (:func:`lock_path`) for the block.

    The parent folder is created if need be. The same process may take the
    lock again inside the block (:func:`atomic_dir` does).

    Raises
    ------
    FolderLocked
        When another process holds it: the message names the folder and that process.
    RoutesimError
        When the parent folder or the lock file cannot be created.
    """
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        path = _acquire(target)
    except OSError as exc:
        raise RoutesimError(f"{exc.filename or target.parent}: cannot write here: {exc.strerror or exc}") from None
    try:
        yield
    finally:
        _drop(path)


def _temporaries(parent: Path, name: str) -> list[Path]:
    return [p for kind in ("tmp", "old") for p in parent.glob(f".{name}.{kind}-*") if p.is_dir()]


def clean_stale(target: Path) -> list[Path]:
    """Remove hidden temporary folders that killed runs left beside ``target``.

    Call with ``target``'s lock held: every ``.<name>.tmp-*`` of ``target`` is
    then stale. A ``.<name>.old-*`` (the previous result, moved aside by a run
    killed between its two renames) is put back when ``target`` is missing,
    else removed. Temporaries of other folders in the parent are removed when
    their folder's lock is free (no run is writing them).

    Returns
    -------
    list of Path
        The folders removed or restored.
    """
    parent, done = target.parent, []
    olds = sorted((p for p in _temporaries(parent, target.name) if ".old-" in p.name),
                  key=lambda p: p.stat().st_mtime)
    if olds and not target.exists():
        inner = olds[-1] / target.name
        os.replace(inner if inner.exists() else olds[-1], target)
        done.append(target)
    for p in _temporaries(parent, target.name):
        shutil.rmtree(p, ignore_errors=True)
        done.append(p)
    for lock in parent.glob(".*.lock"):
        name = lock.name[1 : -len(".lock")]
        if name == target.name:
            continue
        fd = _try_lock(lock)
        if fd is None:
            continue
        try:
            for p in _temporaries(parent, name):
                shutil.rmtree(p, ignore_errors=True)
                done.append(p)
        finally:
            _release(lock, fd)
    return done


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def exchange(a: Path, b: Path) -> bool:
    """Swap the names ``a`` and ``b`` in one step (Linux ``renameat2(RENAME_EXCHANGE)``).

    Returns
    -------
    bool
        ``False`` where the exchange is not available (not Linux, an old C
        library or kernel, a file system without it); nothing was changed then.

    Raises
    ------
    OSError
        For any other failure.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(a), None, str(b))


def _replace_dir(tmp: Path, target: Path) -> None:
    """Put the complete folder ``tmp`` in the place of ``target``; the old folder is gone after."""
    if not target.exists() and not target.is_symlink():
        os.rename(tmp, target)
        return
    if exchange(tmp, target):
        shutil.rmtree(tmp, ignore_errors=True)  # now the old result
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-{os.getpid()}-", dir=target.parent))
    os.replace(target, old / target.name)
    try:
        os.replace(tmp, target)
    except BaseException:
        os.replace(old / target.name, target)  # the old result back, rather than none
        raise
    finally:
        shutil.rmtree(old, ignore_errors=True)


@contextmanager
def atomic_dir(target: Path) -> Iterator[Path]:
    """Yield a hidden temporary directory that replaces ``target`` on success.

    Files are written into ``.<name>.tmp-<pid>-*`` beside ``target``, under the
    folder's lock (:func:`folder_lock`); stale temporaries are cleaned first
    (:func:`clean_stale`). Only when the block finishes does the directory
    replace ``target`` (see the module notes); an interrupted block (an error,
    Ctrl-C) removes it and leaves the old result as it was.

    Raises
    ------
    FolderLocked
        When another run is writing ``target``.
    RoutesimError
        When the folder cannot be written (permissions, read-only or full disk),
        naming the path.
    """
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RoutesimError(f"{exc.filename or target.parent}: cannot create the output folder: "
                            f"{exc.strerror or exc}") from None
    try:
        lock = _acquire(target)
    except OSError as exc:
        raise RoutesimError(f"{target.parent}: cannot write here: {exc.strerror or exc}") from None
    try:
        clean_stale(target)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-{os.getpid()}-", dir=target.parent))
    except OSError as exc:
        _drop(lock)
        raise RoutesimError(f"{target.parent}: cannot write here: {exc.strerror or exc}") from None
    try:
        yield tmp
        _share(tmp, directory=True)
        _replace_dir(tmp, target)
    except OSError as exc:
        where = exc.filename or tmp
        raise RoutesimError(f"{target}: cannot write the result ({where}): {exc.strerror or exc}") from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
        _drop(lock)


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    with Path(path).open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as indented JSON (dates and other objects as text)."""
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
