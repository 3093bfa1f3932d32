"""Atomic writes: a file or folder appears complete under its name, or not at all.

Temporary files and folders are created beside their target (so the final
rename stays on one file system) and get the permissions any new file or
folder gets under the user's umask, not the private 0600/0700 of
:mod:`tempfile`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


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


@contextmanager
def atomic_dir(target: Path) -> Iterator[Path]:
    """Yield a hidden temporary directory that replaces ``target`` on success.

    Files are written into ``.<name>.tmp-*`` beside ``target``; only when the
    block finishes is the directory renamed into place (an existing result is
    moved aside first and removed after). A run killed part-way leaves at most a
    hidden temporary directory, never a ``target`` that looks complete.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        yield tmp
        _share(tmp, directory=True)
        old = None
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            os.replace(target, old / target.name)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    with Path(path).open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as indented JSON (dates and other objects as text)."""
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
