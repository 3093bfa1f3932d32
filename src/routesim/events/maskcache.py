"""Edge masks of event selectors kept on disk, so that a network resolves each selector once.

Resolving the built-in library's selectors on the OpenStreetMap network takes
seconds (paths along roads between places, corridors), and every dated command
needs them. The mask of a selector depends only on the selector, the network and
the code that resolves it, so a :class:`MaskCache` keeps, per network, one
``.npz`` file with the mask of every selector resolved on it:

- ``indices``: the selected edges of all selectors, ``int32``, one run each;
- ``offsets``: where each run starts (one more entry than selectors);
- ``header``: JSON with the format, the network's identity, its edge count and
  the selectors in canonical JSON (:func:`selector_key`), in the order of the runs.

The network's identity (the content of its files and the source of the code
that resolves selectors; :func:`routesim.io.cache.mask_cache` builds it) names
the file, so a changed network or a changed resolver finds no file and
resolves afresh. Within a file, entries are keyed by the selector itself, not
by the event file it came from: an edited ``where`` is a new entry, resolved
once, while the selectors left unchanged are read back, and an edit of a date
or an action needs no resolution at all. A damaged or foreign file is ignored
and rewritten; a folder that cannot be written only costs the resolution next
time.

:func:`bind_mask_cache` attaches a cache to a network (``io.load_network`` does
so for every network it loads); every :class:`~routesim.events.EventSet` built
on that network then uses it, whatever event files it reads.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from routesim._util.files import atomic_path
from routesim.models.selectors import Selector
from routesim.network.graph import Network

#: Version of the file layout; a file of another version is ignored and rewritten.
FORMAT = 1
#: Suffix of the cache files.
SUFFIX = ".masks.npz"
#: Selectors kept per network: those of the latest resolution first, then the most recent others.
MAX_SELECTORS = 4096
#: Cache files kept in a folder (one per network identity); the oldest are removed.
MAX_FILES = 16


def selector_key(selector: Selector) -> str | None:
    """Canonical JSON of a plain selector: equal selectors, equal keys (``None``: not JSON, not cached)."""
    try:
        return json.dumps(selector, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):
        return None


class MaskCache:
    """The on-disk masks of one network (see the module docstring).

    Parameters
    ----------
    folder
        Gives the folder of the cache files when one is first read or written
        (so that a change of ``$ROUTESIM_CACHE`` after loading is seen).
    identity
        Gives the network's identity (hex digest), computed once, on first use:
        an undated query never pays for hashing the network's files. ``None``
        when it cannot be trusted (a file changed since the network was read):
        the cache then neither reads nor writes.
    """

    def __init__(self, folder: Callable[[], Path], identity: Callable[[], str | None]) -> None:
        self._folder = folder
        self._identity = identity
        self._id: tuple[str | None] | None = None

    @property
    def identity(self) -> str | None:
        if self._id is None:
            self._id = (self._identity(),)
        return self._id[0]

    @property
    def path(self) -> Path | None:
        """The cache file of this network (``None``: no cache, see ``identity``)."""
        identity = self.identity
        return None if identity is None else self._folder() / f"{identity[:40]}{SUFFIX}"

    def load(self, n_edges: int) -> dict[str, np.ndarray]:
        """Selector key -> indices of its edges, as stored; empty when there is no usable file.

        Nothing in the file is trusted: a wrong format, identity or edge count, runs
        that do not tile the indices, or an index outside the network's edges make
        the whole file count as absent (it is rewritten at the next :meth:`save`).
        """
        path = self.path
        if path is None:
            return {}
        try:
            header, indices, offsets = _read(path)
        except Exception:  # whatever is wrong with a cache file, it only means the masks are resolved again
            return {}
        keys = header.get("selectors")
        valid = (
            header.get("format") == FORMAT
            and header.get("network") == self.identity
            and header.get("n_edges") == n_edges
            and isinstance(keys, list)
            and all(isinstance(k, str) for k in keys)
            and indices.ndim == 1 and indices.dtype.kind in "iu"
            and offsets.ndim == 1 and offsets.dtype.kind in "iu"
            and len(offsets) == len(keys) + 1
            and offsets[0] == 0 and offsets[-1] == len(indices)
            and bool(np.all(np.diff(offsets) >= 0))
            and (len(indices) == 0 or (int(indices.min()) >= 0 and int(indices.max()) < n_edges))
        )
        if not valid:
            return {}
        assert isinstance(keys, list)
        return {k: indices[offsets[i]:offsets[i + 1]] for i, k in enumerate(keys)}

    def save(self, n_edges: int, entries: dict[str, np.ndarray], *, first: Iterable[str] = ()) -> None:
        """Write ``entries`` (selector key -> edge indices) as this network's file, atomically.

        ``first`` are the keys of the latest resolution, kept before the others
        when :data:`MAX_SELECTORS` trims the file. Errors of the file system are
        swallowed: a cache that cannot be written only costs a resolution next time.
        """
        target = self.path
        if target is None:
            return
        order = list(dict.fromkeys([*(k for k in first if k in entries), *entries]))[:MAX_SELECTORS]
        runs = [np.asarray(entries[k], dtype=np.int32) for k in order]
        offsets = np.zeros(len(runs) + 1, dtype=np.int64)
        np.cumsum([len(r) for r in runs], out=offsets[1:])
        header: dict[str, Any] = {"format": FORMAT, "network": self.identity, "n_edges": n_edges, "selectors": order}
        members: dict[str, Any] = {
            "header": np.frombuffer(json.dumps(header, ensure_ascii=False).encode("utf-8"), dtype=np.uint8),
            "indices": np.concatenate(runs) if runs else np.zeros(0, dtype=np.int32),
            "offsets": offsets,
        }
        try:
            with atomic_path(target) as tmp, tmp.open("wb") as fh:
                np.savez(fh, **members)
            _trim(target.parent)
        except OSError:
            pass


def _read(path: Path) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """Header, indices and offsets of a cache file (raises whatever a foreign file makes it raise)."""
    with np.load(path, allow_pickle=False) as data:
        header = json.loads(bytes(data["header"]).decode("utf-8"))
        indices = np.asarray(data["indices"])
        offsets = np.asarray(data["offsets"])
    if not isinstance(header, dict):
        raise ValueError("the header is no JSON object")
    return header, indices, offsets


def _trim(folder: Path) -> None:
    def mtime(p: Path) -> float:
        try:
            return p.stat().st_mtime
        except OSError:  # removed meanwhile by another process
            return 0.0

    for old in sorted(folder.glob(f"*{SUFFIX}"), key=mtime, reverse=True)[MAX_FILES:]:
        old.unlink(missing_ok=True)


# Per network: its cache. Weak keys, so a cache goes with its network.
_BOUND: weakref.WeakKeyDictionary[Network, MaskCache] = weakref.WeakKeyDictionary()


def bind_mask_cache(network: Network, cache: MaskCache | None) -> None:
    """Make ``cache`` hold the masks of every event set built on ``network`` (``None``: none)."""
    if cache is None:
        _BOUND.pop(network, None)
    else:
        _BOUND[network] = cache


def bound_mask_cache(network: Network) -> MaskCache | None:
    """The cache bound to ``network``, if any."""
    return _BOUND.get(network)


class MaskResolver:
    """Masks of selectors on one network: from its cache where stored, else resolved (and then stored).

    Identical selectors get the same array, as :meth:`Network.select` gives for
    text selectors. Call :meth:`flush` after the last :meth:`mask` to store what
    was resolved.
    """

    def __init__(self, network: Network) -> None:
        self.network = network
        self.cache = bound_mask_cache(network)
        self._stored: dict[str, np.ndarray] | None = None
        self._masks: dict[str, np.ndarray] = {}
        self._new: dict[str, np.ndarray] = {}
        self._used: list[str] = []

    def _stored_entries(self) -> dict[str, np.ndarray]:
        if self._stored is None:
            self._stored = self.cache.load(self.network.edges.n) if self.cache is not None else {}
        return self._stored

    def mask(self, selector: Selector) -> np.ndarray:
        """Boolean edge mask of ``selector``.

        Raises
        ------
        SelectorError
            As :meth:`Network.select` does (an error is never stored).
        """
        key = selector_key(selector) if self.cache is not None else None
        if key is None:
            return self.network.select(selector)
        hit = self._masks.get(key)
        if hit is not None:
            return hit
        n = self.network.edges.n
        stored = self._stored_entries().get(key)
        if stored is not None:
            mask = np.zeros(n, dtype=bool)
            mask[stored] = True
        else:
            mask = self.network.select(selector)
            self._new[key] = np.flatnonzero(mask)
        self._masks[key] = mask
        self._used.append(key)
        return mask

    def flush(self) -> None:
        """Store the masks resolved since the cache was read (nothing to do when all were stored)."""
        if self.cache is None or not self._new:
            return
        entries = {**self._stored_entries(), **self._new}
        self.cache.save(self.network.edges.n, entries, first=self._used)
        self._stored = entries
        self._new = {}
