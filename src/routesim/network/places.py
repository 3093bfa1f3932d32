"""Named places and tolerant name lookup.

Names are matched after normalisation: case, accents, hyphens, apostrophes and
a leading Arabic article ("al-", "as-", "ad-" ...) are ignored, so ``"daraa"``,
``"Deraa"`` and ``"Dar'a"`` find the same place when they are listed as names or
aliases.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from routesim.errors import UnknownPlaceError
from routesim.network.compiled import CompiledRoads

_ARTICLE = re.compile(r"^(al|el|as|ad|ar|at|az|ash|an|ath)\s+")
# Arabic: letters that spellings use interchangeably, and the attached article.
_ARABIC_FOLD = str.maketrans({"\u0629": "\u0647", "\u0649": "\u064a", "\u0640": None, "\u0671": "\u0627"})
_ARABIC_ARTICLE = re.compile(r"^\u0627\u0644(?=\w{2})")


def normalize_name(name: str) -> str:
    """Return the lookup key of a place name.

    Parameters
    ----------
    name
        Any spelling, in Latin or Arabic script: ``"Maarat al-Numan"``,
        ``"MA'ARRAT AL NU'MAN"``, ``"معرة النعمان"``.

    Returns
    -------
    str
        Lower-case words separated by single spaces, without accents, Arabic
        vowel marks or tatweel, hamza forms of alef folded to alef, taa marbuta
        to haa and alef maqsura to yaa, and without a leading article
        (``al-``, ``as-`` ... or ``ال``).
    """
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.lower().replace("'", "").replace("\u2019", "").replace("`", "").translate(_ARABIC_FOLD)
    text = re.sub(r"[\W_]+", " ", text).strip()
    text = _ARTICLE.sub("", text)
    return _ARABIC_ARTICLE.sub("", text)


def _squash(key: str) -> str:
    # Second-chance key: transliterations differ in doubled letters and spaces.
    return re.sub(r"(.)\1+", r"\1", key.replace(" ", ""))


@dataclass(frozen=True)
class Place:
    """A named place of the network.

    Attributes
    ----------
    id
        Stable slug, e.g. ``"maarat-al-numan"``.
    name
        Display name.
    lat, lon
        WGS84 coordinates in degrees.
    kind
        ``city``, ``town``, ``village``, ``junction``, ``crossing``, ``port`` or ``landmark``.
    aliases
        Other spellings.
    node
        Graph node id when the place is a node of the network, else ``None`` (a
        place that only shapes a segment's geometry).
    """

    id: str
    name: str
    lat: float
    lon: float
    kind: str = "town"
    aliases: tuple[str, ...] = ()
    governorate: str = ""
    source: str = ""
    flag: str = ""
    node: int | None = None


@dataclass
class PlaceIndex:
    """Lookup of places by id, name or alias."""

    places: dict[str, Place] = field(default_factory=dict)
    _keys: dict[str, str] = field(default_factory=dict, repr=False)
    _squashed: dict[str, str] = field(default_factory=dict, repr=False)
    _pending: list[Place] = field(default_factory=list, repr=False)

    @classmethod
    def from_places(cls, places: Iterable[Place]) -> PlaceIndex:
        index = cls()
        for place in places:
            index.add(place)
        return index

    def add(self, place: Place) -> None:
        """Add a place; its id, name and aliases become lookup keys (indexed on the first lookup)."""
        self.places[place.id] = place
        self._pending.append(place)

    def _index(self, until: str | None = None) -> None:
        # Normalising thousands of names costs a good part of a second: only when a name is looked up,
        # and only up to the first place with the key looked for (``until``). Keys go to the first
        # place that has them, in the order added, so that place is the one a full index would give.
        done = 0
        for place in self._pending:
            done += 1
            found = False
            for label in (place.name, place.id, *place.aliases):
                key = normalize_name(label)
                if key:
                    self._keys.setdefault(key, place.id)
                    self._squashed.setdefault(_squash(key), place.id)
                    found = found or key == until
            if found:
                break
        del self._pending[:done]

    def __iter__(self) -> Iterator[Place]:
        return iter(self.places.values())

    def __len__(self) -> int:
        return len(self.places)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.find(name) is not None

    def find(self, name: str) -> Place | None:
        """Return the place called ``name`` (any known spelling), or ``None``."""
        if name in self.places:
            return self.places[name]
        key = normalize_name(name)
        if self._pending and key not in self._keys:
            # Indexed as far as the key; a key not found indexes every place, so the squashed keys
            # (second chance) are complete before they are asked.
            self._index(until=key)
        pid = self._keys.get(key) or self._squashed.get(_squash(key))
        return self.places[pid] if pid else None

    def get(self, name: str) -> Place:
        """Return the place called ``name``.

        Raises
        ------
        UnknownPlaceError
            With up to five close matches when no place has that name.
        """
        place = self.find(name)
        if place is None:
            raise UnknownPlaceError(name, self.suggest(name))
        return place

    def suggest(self, name: str, *, n: int = 5) -> list[str]:
        """Return up to ``n`` display names close to ``name``."""
        key = normalize_name(name)
        labels = {normalize_name(p.name): p.name for p in self.places.values()}
        for p in self.places.values():
            for alias in p.aliases:
                labels.setdefault(normalize_name(alias), p.name)
        close = difflib.get_close_matches(key, list(labels), n=n * 2, cutoff=0.6)
        if not close:
            close = [k for k in labels if key and (key in k or k in key)]
        out: list[str] = []
        for k in close:
            if labels[k] not in out:
                out.append(labels[k])
        return out[:n]


def places_from_roads(roads: CompiledRoads) -> PlaceIndex:
    """The places a compiled network carries (``place_*`` columns), not bound to nodes.

    Ids are ``<kind>-<n>`` in the order given; a name shared by several places
    finds the first one (a city before a village of the same name when the
    importer lists places by importance).
    """
    index = PlaceIndex()
    for i, (name, kind, aliases) in enumerate(zip(roads.place_name, roads.place_kind, roads.place_aliases,
                                                   strict=True)):
        if not name:
            continue
        index.add(Place(
            id=f"{kind or 'place'}-{i + 1}", name=name, lat=float(roads.place_y[i]), lon=float(roads.place_x[i]),
            kind=kind or "place", aliases=tuple(a for a in aliases.split(";") if a and a != name),
            source=str(roads.meta.get("source", "")),
        ))
    return index
