"""The raw-roads table: ways as a reader found them, before any profile or topology.

A :class:`RoadTable` is what :func:`routesim.io.roads.read_roads` returns for an
OSM file or a GIS line layer, and what :func:`routesim.network.build.build_roads`
turns into a :class:`~routesim.network.compiled.CompiledRoads`. It holds every way
carrying a ``highway`` tag (footways included: leaving them out is the
profile's decision, so the build can count what it drops and why), the
vertices they run through and the place points of the source.

Columns are flat arrays: way ``i`` runs through the nodes
``way_node[way_offset[i]:way_offset[i + 1]]``, which are indices into the
``node_*`` arrays. Tags are :class:`TextColumn`\\ s: integer codes into a list of
distinct values, because half a million ways share a few dozen ``highway``
values and a few thousand names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")

#: The way tags a reader keeps, by their OSM key. GIS readers map their column
#: names onto these (``name_ar`` -> ``name:ar``); anything else is not read.
WAY_TAGS: tuple[str, ...] = (
    "highway", "ref", "name", "name:ar", "name:en", "oneway", "junction", "maxspeed", "maxspeed:hgv",
    "bridge", "tunnel", "access", "vehicle", "motor_vehicle", "motorcar", "hgv", "area",
    "surface", "smoothness", "tracktype", "condition", "service",
)

#: Place kinds by importance: places are listed in this order (then in source order), so that a
#: name shared by a city and a village finds the city first. Kinds not listed come last.
PLACE_KINDS: tuple[str, ...] = (
    "city", "town", "village", "suburb", "hamlet", "quarter", "neighbourhood", "isolated_dwelling", "farm",
    "locality",
)

#: Place name tags in order of preference for the display name (the first present wins); every
#: other name tag of a place (see :func:`is_name_tag`) follows them, in key order, as an alias.
PLACE_NAME_TAGS: tuple[str, ...] = ("name:en", "int_name", "name", "name:ar", "official_name", "alt_name")

_NAME_PREFIXES = ("name:", "alt_name", "official_name", "old_name", "int_name", "short_name", "loc_name",
                  "nat_name", "reg_name")
_NOT_NAMES = ("name:prefix", "name:suffix", "name:etymology", "name:pronunciation", "name:source", "name:signed")


def is_name_tag(key: str) -> bool:
    """Whether an OSM key holds a name of its object: ``name``, ``name:<lang>``, ``alt_name`` ...

    Keys about a name rather than holding one (``name:prefix``, ``name:etymology``,
    ``name:source`` ...) are not.
    """
    return (key == "name" or key.startswith(_NAME_PREFIXES)) and not key.startswith(_NOT_NAMES)


@dataclass(eq=False)
class TextColumn:
    """A column of optional texts stored as codes into distinct values.

    Attributes
    ----------
    codes
        ``(n,)`` int32: index into :attr:`values`, ``-1`` where the text is absent.
    values
        The distinct texts, each at most once.
    """

    codes: np.ndarray
    values: list[str]

    @classmethod
    def from_values(cls, values: Sequence[str | None] | np.ndarray) -> TextColumn:
        """Encode a sequence of texts; ``None``, NaN and empty strings count as absent."""
        import pandas as pd

        series = pd.Series(np.asarray(values, dtype=object))
        series = series.where(series.notna() & (series != ""), None)
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        return cls(codes.astype(np.int32), [str(v) for v in uniques])

    @classmethod
    def empty(cls, n: int) -> TextColumn:
        """A column of ``n`` absent texts."""
        return cls(np.full(n, -1, dtype=np.int32), [])

    def __len__(self) -> int:
        return len(self.codes)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TextColumn):
            return NotImplemented
        return bool(np.array_equal(self.decode(), other.decode()))

    __hash__ = None  # type: ignore[assignment]

    def decode(self) -> np.ndarray:
        """The texts as an object array, ``None`` where absent."""
        table = np.array([*self.values, None], dtype=object)
        return table[self.codes]

    def present(self) -> np.ndarray:
        """Boolean mask of rows that have a text."""
        return self.codes >= 0

    def lookup(self, func: Callable[[str], T], default: T, *, dtype: Any = None) -> np.ndarray:
        """Apply ``func`` once per distinct text and spread the results over the rows.

        Parameters
        ----------
        func
            Called with each distinct text.
        default
            The value of rows without a text.
        dtype
            Of the result; inferred by numpy when ``None``.
        """
        table = np.array([*(func(v) for v in self.values), default], dtype=dtype)
        return table[self.codes]

    def isin(self, texts: Iterable[str], *, normalise: bool = True) -> np.ndarray:
        """Boolean mask of rows whose text is one of ``texts``.

        With ``normalise`` (default) the comparison ignores case and surrounding
        spaces, as OSM consumers do (``Yes`` is ``yes``).
        """
        wanted = {t.strip().lower() for t in texts} if normalise else set(texts)
        key = (lambda v: v.strip().lower()) if normalise else (lambda v: v)
        return self.lookup(lambda v: key(v) in wanted, False, dtype=bool)

    def take(self, index: np.ndarray) -> TextColumn:
        """The rows at ``index`` (values are kept as they are, unused ones included)."""
        return TextColumn(self.codes[index], self.values)


@dataclass(eq=False)
class PlaceTable:
    """Named place points of a source (OSM ``place`` nodes, a GIS places layer).

    Attributes
    ----------
    name
        Display name: the first of :data:`PLACE_NAME_TAGS` that the place has
        (``name:en`` before ``name``: routesim's users type Latin script; the
        local ``name`` stays an alias).
    kind
        The ``place`` value (``city``, ``town``, ``village``, ``hamlet`` ...).
    aliases
        The place's other names, distinct, joined by ``;`` (``""``: none).
    x, y
        Longitude and latitude, degrees.
    node
        Index into the road table's nodes where the place is itself a road
        vertex (an OSM node tagged ``place`` that a way runs through, or a GIS
        point on a vertex), ``-1`` otherwise.
    """

    name: list[str] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    x: np.ndarray = field(default_factory=lambda: np.zeros(0))
    y: np.ndarray = field(default_factory=lambda: np.zeros(0))
    node: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __len__(self) -> int:
        return len(self.name)

    @classmethod
    def from_names(
        cls,
        names: Sequence[dict[str, str]],
        kinds: Sequence[str],
        x: np.ndarray,
        y: np.ndarray,
        *,
        node: np.ndarray | None = None,
    ) -> PlaceTable:
        """Places from one ``{tag: text}`` dict of names each; places without any name are left out.

        Places are ordered by :data:`PLACE_KINDS`, then as given.

        Parameters
        ----------
        names
            Per place, its name tags (:data:`PLACE_NAME_TAGS` first, the others
            after them in key order).
        kinds, x, y
            Per place: ``place`` value and coordinates.
        node
            Per place, road node index or ``-1`` (default: all ``-1``).
        """
        rank = {tag: i for i, tag in enumerate(PLACE_NAME_TAGS)}
        out_name: list[str] = []
        out_alias: list[str] = []
        keep: list[int] = []
        for i, tags in enumerate(names):
            ordered = sorted(tags.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0]))
            texts = list(dict.fromkeys(v.strip() for _, v in ordered if v and v.strip()))
            if not texts:
                continue
            keep.append(i)
            out_name.append(texts[0])
            # Aliases are split on ";" too: OSM lists several alt_names that way.
            aliases = [a.strip() for t in texts[1:] for a in t.split(";")]
            out_alias.append(";".join(a for a in dict.fromkeys(aliases) if a and a != texts[0]))
        rank_of = {k: i for i, k in enumerate(PLACE_KINDS)}
        order = sorted(range(len(keep)), key=lambda j: rank_of.get(kinds[keep[j]], len(rank_of)))
        keep = [keep[j] for j in order]
        out_name = [out_name[j] for j in order]
        out_alias = [out_alias[j] for j in order]
        idx = np.asarray(keep, dtype=np.int64)
        nodes = np.full(len(names), -1, dtype=np.int64) if node is None else np.asarray(node, dtype=np.int64)
        return cls(
            name=out_name,
            kind=[kinds[i] for i in keep],
            aliases=out_alias,
            x=np.asarray(x, dtype=np.float64)[idx] if len(idx) else np.zeros(0),
            y=np.asarray(y, dtype=np.float64)[idx] if len(idx) else np.zeros(0),
            node=nodes[idx] if len(idx) else np.zeros(0, dtype=np.int64),
        )


@dataclass(eq=False)
class RoadTable:
    """Every ``highway`` way of a source, as flat arrays.

    Attributes
    ----------
    node_id
        ``(n_nodes,)`` int64: OSM node id, or for GIS layers the number given to
        each distinct vertex (in order of first appearance).
    node_x, node_y
        ``(n_nodes,)`` float64 longitude and latitude, degrees (WGS84).
    way_id
        ``(n_ways,)`` int64: OSM way id, or the feature's ``osm_id`` column when
        a GIS layer has one, otherwise its feature index.
    way_offset
        ``(n_ways + 1,)`` int64: way ``i``'s vertices are
        ``way_node[way_offset[i]:way_offset[i + 1]]``.
    way_node
        int64 indices into the ``node_*`` arrays, in the way's digitised order.
    tags
        Per-way tag columns keyed by OSM tag (see :data:`WAY_TAGS`); a tag the
        source lacks is absent from the dict.
    places
        The source's named places.
    dropped
        What the reader itself left out, reason -> count (``"no geometry"``,
        ``"node without location"`` ...).
    meta
        ``source`` (file name), ``sha256`` (of the file), ``format`` (``osm``
        or ``gis``), ``layer``, ``attribution`` (set for OSM-derived data).
    """

    node_id: np.ndarray
    node_x: np.ndarray
    node_y: np.ndarray
    way_id: np.ndarray
    way_offset: np.ndarray
    way_node: np.ndarray
    tags: dict[str, TextColumn]
    places: PlaceTable = field(default_factory=PlaceTable)
    dropped: dict[str, int] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n_nodes(self) -> int:
        return len(self.node_id)

    @property
    def n_ways(self) -> int:
        return len(self.way_id)

    def tag(self, key: str) -> TextColumn:
        """The column of tag ``key``; all absent when the source has no such tag."""
        column = self.tags.get(key)
        return column if column is not None else TextColumn.empty(self.n_ways)

    def way_of_vertex(self) -> np.ndarray:
        """``(len(way_node),)`` int64: the way each entry of :attr:`way_node` belongs to."""
        return np.repeat(np.arange(self.n_ways, dtype=np.int64), np.diff(self.way_offset))

    def way_nodes(self, i: int) -> np.ndarray:
        """Node indices of way ``i`` in digitised order."""
        return self.way_node[self.way_offset[i] : self.way_offset[i + 1]]

    def node_index(self, ids: Iterable[int]) -> np.ndarray:
        """Indices of the nodes with the given source ids (``-1`` where unknown)."""
        wanted = np.asarray(ids if isinstance(ids, np.ndarray) else list(ids), dtype=np.int64)
        if not self.n_nodes:
            return np.full(len(wanted), -1, dtype=np.int64)
        order = np.argsort(self.node_id, kind="stable")
        pos = np.minimum(np.searchsorted(self.node_id, wanted, sorter=order), self.n_nodes - 1)
        found = order[pos]
        return np.where(self.node_id[found] == wanted, found, -1).astype(np.int64)
