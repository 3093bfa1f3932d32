"""Build the embedded Syria network from ``data/network``.

``places.csv`` lists named places; ``segments.csv`` lists road segments between
two places (graph nodes) with intermediate waypoints that shape the geometry;
``speeds.csv`` gives free-flow speeds by road class and condition. The method
behind the figures is documented in ``data/network/README.md``.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import networkx as nx
from shapely.geometry import LineString

from routesim._util.datafiles import network_dir
from routesim._util.geo import haversine_km
from routesim.errors import InputFileError, Problem
from routesim.network.places import Place, PlaceIndex

#: Ratio of road length to the waypoint polyline when a segment gives none:
#: residual bends the waypoints do not capture.
DEFAULT_CURVATURE = {
    "motorway": 1.05,
    "trunk": 1.05,
    "primary": 1.08,
    "secondary": 1.12,
    "tertiary": 1.12,
}


def _rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        for row in reader:
            yield reader.line_num, {k: (v or "").strip() for k, v in row.items() if k}


def read_places(path: Path) -> PlaceIndex:
    """Read ``places.csv`` into a :class:`PlaceIndex`."""
    index = PlaceIndex()
    problems: list[Problem] = []
    for line, row in _rows(path):
        try:
            place = Place(
                id=row["id"],
                name=row["name"],
                lat=float(row["lat"]),
                lon=float(row["lon"]),
                kind=row.get("kind") or "town",
                aliases=tuple(a.strip() for a in row.get("aliases", "").split(";") if a.strip()),
                governorate=row.get("governorate", ""),
                source=row.get("source", ""),
                flag=row.get("flag", ""),
            )
        except (KeyError, ValueError) as exc:
            problems.append(Problem(str(path), line, "place", f"bad row: {exc}"))
            continue
        if place.id in index.places:
            problems.append(Problem(str(path), line, "id", f"duplicate place id {place.id!r}"))
        index.add(place)
    if problems:
        raise InputFileError(problems)
    return index


def read_speeds(path: Path) -> dict[tuple[str, str], tuple[float, float]]:
    """Read ``speeds.csv``: (highway, condition) -> (car kph, truck kph)."""
    return {
        (row["highway"], row["condition"]): (float(row["car_kph"]), float(row["truck_kph"]))
        for _, row in _rows(path)
    }


def _waypoint(token: str, places: PlaceIndex) -> tuple[float, float, str | None]:
    if "/" in token:
        lat, lon = token.split("/")
        return float(lat), float(lon), None
    place = places.get(token)
    return place.lat, place.lon, place.id


def build_graph(directory: Path | None = None) -> tuple[nx.MultiDiGraph, PlaceIndex]:
    """Build the embedded network as an osmnx-compatible ``MultiDiGraph``.

    Parameters
    ----------
    directory
        Folder with ``places.csv``, ``segments.csv`` and ``speeds.csv``; default
        the packaged ``data/network``.

    Returns
    -------
    (graph, places)
        Nodes are integers (order of first use in ``segments.csv``) with ``x``,
        ``y``, ``name``, ``place``; each segment gives two directed edges with
        ``length`` (m), ``speed_kph``, ``travel_time`` (s), ``truck_speed_kph``,
        ``truck_travel_time``, ``highway``, ``ref``, ``name``, ``lanes``,
        ``segment``, ``via`` and a ``geometry`` that follows the waypoints.
    """
    directory = directory or network_dir()
    places = read_places(directory / "places.csv")
    speeds = read_speeds(directory / "speeds.csv")
    seg_path = directory / "segments.csv"
    G = nx.MultiDiGraph(crs="EPSG:4326", name="routesim embedded Syria network")
    node_of: dict[str, int] = {}
    problems: list[Problem] = []
    seen: set[str] = set()

    def node(place: Place) -> int:
        if place.id not in node_of:
            nid = len(node_of) + 1
            node_of[place.id] = nid
            G.add_node(
                nid, x=place.lon, y=place.lat, name=place.name, place=place.id,
                kind=place.kind, aliases=";".join(place.aliases), street_count=0,
            )
        return node_of[place.id]

    for line, row in _rows(seg_path):
        def bad(fieldname: str, msg: str, line: int = line) -> None:
            problems.append(Problem(str(seg_path), line, fieldname, msg))

        sid = row.get("id", "")
        if not sid or sid in seen:
            bad("id", f"missing or duplicate segment id {sid!r}")
            continue
        seen.add(sid)
        try:
            a, b = places.get(row["from"]), places.get(row["to"])
            tokens = [t.strip() for t in row.get("via", "").split(";") if t.strip()]
            mids = [_waypoint(t, places) for t in tokens]
        except Exception as exc:
            bad("from/to/via", str(exc))
            continue
        pts = [(a.lat, a.lon, a.id), *mids, (b.lat, b.lon, b.id)]
        poly_km = sum(
            haversine_km(p[0], p[1], q[0], q[1]) for p, q in itertools.pairwise(pts)
        )
        highway = row.get("highway") or "primary"
        condition = row.get("condition") or "good"
        if row.get("length_km"):
            length_km = float(row["length_km"])
        else:
            curv = float(row["curvature"]) if row.get("curvature") else DEFAULT_CURVATURE.get(
                highway, 1.1
            )
            length_km = poly_km * curv
        if (highway, condition) not in speeds:
            bad("highway/condition", f"no default speed for {highway}/{condition} in speeds.csv")
            continue
        car, truck = speeds[(highway, condition)]
        car = float(row["car_kph"]) if row.get("car_kph") else car
        truck = float(row["truck_kph"]) if row.get("truck_kph") else truck
        truck = min(truck, car)
        u, v = node(a), node(b)
        line_fw = LineString([(p[1], p[0]) for p in pts])
        via_names = [places.get(p[2]).name for p in mids if p[2]]
        base = {
            "segment": sid,
            "ref": row.get("ref", ""),
            "name": row.get("name", ""),
            "highway": highway,
            "lanes": int(row["lanes"]) if row.get("lanes") else 2,
            "condition": condition,
            "source": row.get("source", ""),
            "oneway": False,
            "length": round(length_km * 1000.0, 1),
            "speed_kph": car,
            "travel_time": round(length_km / car * 3600.0, 1),
            "truck_speed_kph": truck,
            "truck_travel_time": round(length_km / truck * 3600.0, 1),
        }
        G.add_edge(u, v, **base, reversed=False, via=";".join(via_names), geometry=line_fw)
        G.add_edge(
            v, u, **base, reversed=True, via=";".join(reversed(via_names)),
            geometry=LineString(list(line_fw.coords)[::-1]),
        )
    if problems:
        raise InputFileError(problems)
    for n in G.nodes:
        G.nodes[n]["street_count"] = G.degree(n) // 2
    for pid, nid in node_of.items():
        places.places[pid] = _with_node(places.places[pid], nid)
    return G, places


def _with_node(place: Place, nid: int) -> Place:
    return replace(place, node=nid)
