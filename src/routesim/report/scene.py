"""What a map shows, computed once and drawn by any renderer (matplotlib, the HTML map).

A :class:`MapScene` holds the road lines of a network with, per line, its state
on a date (open, restricted, night-closed, closed), the controller of the ground
it runs through, the trucks of a run and a value from a criticality table; the
places, border posts, crossings and sieges to mark; the routes asked for with
their baselines; and the title, extent and attribution. Nothing here draws.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date as Date
from pathlib import Path

import numpy as np

from routesim._util.dates import parse_date
from routesim.errors import RoutesimError
from routesim.network.graph import Network
from routesim.network.state import NetworkState
from routesim.report import style
from routesim.report.outline import country_outline

#: A map of a smaller area (square degrees) also draws slip roads and labels towns, not only cities.
_DETAIL_AREA_DEG2 = 6.0
_ARABIC = re.compile(r"[\u0600-\u06ff]")


@dataclass(frozen=True)
class MapPoint:
    """A marked point: a place, a border post, a crossing or a siege (``radius_km``)."""

    name: str
    lon: float
    lat: float
    kind: str
    arabic: str = ""
    radius_km: float = 0.0
    note: str = ""


@dataclass(frozen=True)
class MapRoute:
    """A route drawn on the map: the path on the date and the same trip on the open network."""

    label: str
    reachable: bool
    path: list[np.ndarray]
    baseline: list[np.ndarray]
    distance_km: float
    time_h: float
    baseline_km: float
    baseline_h: float

    @property
    def caption(self) -> str:
        base = f"baseline {self.baseline_km:.0f} km, {self.baseline_h:.1f} h"
        if not self.reachable:
            return f"{self.label}: no route ({base})"
        return f"{self.label}: {self.distance_km:.0f} km, {self.time_h:.1f} h ({base})"


@dataclass
class MapScene:
    """Everything one map shows (see the module docstring).

    Attributes
    ----------
    offsets, x, y
        Road lines: line ``i`` has vertices ``x[offsets[i]:offsets[i + 1]]`` (lon) and ``y`` (lat).
    status
        Per line, the worst state of its edges (:data:`routesim.report.style.STATUS_NAMES`).
    front
        Per line: closed by the ground (a front line or a siege ring), not only by an event.
    rank
        Per line, road class rank (:data:`routesim.report.style.CLASS_RANK`; -1 links and others).
    controller
        Per line, index into ``controllers`` of the ground it runs through (-1: none or a front line).
    trucks
        Per line, trucks of the run's ``segments.csv`` (0 without a run).
    value
        Per line, the criticality value (``nan`` where the table gives none or without a table).
    """

    title: str
    subtitle: str
    bbox: tuple[float, float, float, float]
    offsets: np.ndarray
    x: np.ndarray
    y: np.ndarray
    status: np.ndarray
    front: np.ndarray
    rank: np.ndarray
    controller: np.ndarray
    controllers: list[str]
    trucks: np.ndarray
    value: np.ndarray
    value_name: str = ""
    day: Date | None = None
    places: list[MapPoint] = field(default_factory=list)
    border_posts: list[MapPoint] = field(default_factory=list)
    crossings: list[MapPoint] = field(default_factory=list)
    sieges: list[MapPoint] = field(default_factory=list)
    routes: list[MapRoute] = field(default_factory=list)
    outline: tuple[np.ndarray, ...] = ()
    attribution: str = ""
    arabic: bool = False

    @property
    def n_lines(self) -> int:
        return len(self.offsets) - 1

    @property
    def mid_lat(self) -> float:
        return (self.bbox[1] + self.bbox[3]) / 2

    def status_counts(self) -> dict[str, int]:
        """Lines per state (for captions and tests)."""
        return {name: int((self.status == k).sum()) for k, name in enumerate(style.STATUS_NAMES)}


def edge_status(state: NetworkState) -> np.ndarray:
    """Per edge: 3 closed to all, 2 closed at night, 1 restricted, 0 open (the codes of network exports)."""
    from routesim.io.graphfiles import edge_state_codes

    # One classification for maps and GIS exports (style.STATUS_NAMES is io.graphfiles.EDGE_STATES).
    return edge_state_codes(state)


def build_scene(
    network: Network,
    *,
    date: Date | str | None = None,
    routes: Sequence[tuple[str, str]] = (),
    run: str | Path | None = None,
    criticality: str | Path | None = None,
    value_column: str | None = None,
    bbox: Sequence[float] | None = None,
    actor: str = "commercial",
    vehicle: str = "truck",
    arabic: bool = False,
    title: str | None = None,
) -> MapScene:
    """The scene of a map of ``network``.

    Parameters
    ----------
    network
        Any routesim network; its default events give the state on ``date``.
    date
        Day whose state is drawn (``YYYY-MM-DD``); default none: the open network,
        with no areas of control.
    routes
        ``(origin, destination)`` pairs routed on ``date`` (for ``vehicle``,
        fastest), each drawn with its baseline on the open network.
    run
        A result folder of ``routesim run``: trucks per segment (``segments.csv``)
        become line widths.
    criticality
        A CSV with a ``segment`` column or ``u,v`` node ids, and a numeric column:
        its values colour the lines (see ``value_column``).
    value_column
        The numeric column of ``criticality``; default the last numeric column that
        is no id.
    bbox
        ``(west, south, east, north)`` in degrees; default Syria's outline (or the
        network's extent for a network elsewhere). Lines outside are left out,
        which keeps a map of a small area fast; slip roads are drawn and towns
        labelled when the area is under about 6 square degrees.
    actor
        Who travels (crossings open to them; ``commercial`` by default).
    vehicle
        Vehicle of the routes (``truck`` by default: the freight question).
    arabic
        Label places with their Arabic name too, where the network has one.
    title
        Default: ``"Road network, <date>"``.
    """
    from routesim.control import ACTORS
    from routesim.models.vehicles import VEHICLES

    if actor not in ACTORS:
        raise RoutesimError(f"unknown actor {actor!r}; expected one of {', '.join(ACTORS)}")
    if vehicle not in VEHICLES:
        raise RoutesimError(f"unknown vehicle {vehicle!r}; expected one of {', '.join(VEHICLES)}")
    day = parse_date(date) if date is not None else None
    e = network.edges
    extent = _extent(network, bbox)
    w, s, east, n = extent
    wide = (east - w) * (n - s) > _DETAIL_AREA_DEG2
    # Lines: one per geometry line, both directions of a two-way road share one.
    n_lines = len(e.geom_offset) - 1
    rank_edge = np.array([style.CLASS_RANK.get(h, -1) for h in e.highways], dtype=np.int8)[e.highway_code]
    rank = np.full(n_lines, -1, dtype=np.int8)
    np.maximum.at(rank, e.geom_line, rank_edge)
    state = network.state_at(day, actor=actor) if day is not None else network.open_state
    status = np.zeros(n_lines, dtype=np.int8)
    np.maximum.at(status, e.geom_line, edge_status(state))
    front = np.zeros(n_lines, dtype=bool)
    controller = np.full(n_lines, -1, dtype=np.int64)
    controllers: list[str] = []
    crossings: list[MapPoint] = []
    sieges: list[MapPoint] = []
    control = getattr(network.default_events, "control", None) if day is not None else None
    if control is not None and day is not None:
        ground = control.ground(day, actor=actor)
        np.logical_or.at(front, e.geom_line, ground.closed)
        node = ground.node_controller
        cu, cv = node[e.u], node[e.v]
        same = np.where((cu == cv) & ~ground.closed, cu, -1)
        np.maximum.at(controller, e.geom_line, same)
        controllers = list(control.controllers)
        for c in control.tables.crossings:
            if c.active_on(day) and actor in c.actors:
                crossings.append(MapPoint(c.name, c.lon, c.lat, "crossing", note=" / ".join(c.sides)))
        for sg in control.tables.sieges:
            if sg.active_on(day):
                sieges.append(MapPoint(sg.name, sg.lon, sg.lat, "siege", radius_km=sg.radius_km,
                                       note=f"besieged: {sg.besieged}"))
    trucks = _run_trucks(network, run, n_lines) if run is not None else np.zeros(n_lines)
    value = np.full(n_lines, np.nan)
    value_name = ""
    if criticality is not None:
        value, value_name = _criticality(network, Path(criticality), value_column, n_lines)
    keep = _lines_in(e.geom_offset, e.geom_x, e.geom_y, extent)
    keep &= (rank >= (0 if wide else -1)) | (status > 0) | (trucks > 0) | ~np.isnan(value)
    idx = np.flatnonzero(keep)
    offsets, x, y = _take_lines(e.geom_offset, e.geom_x, e.geom_y, idx)
    drawn = [_route(network, o, d, day=day, actor=actor, vehicle=vehicle) for o, d in routes]
    places, posts = _points(network, extent, wide=wide, arabic=arabic)
    attribution = str(network.meta.get("attribution", ""))
    osm = "openstreetmap" in attribution.lower()
    when = day.isoformat() if day is not None else "open network (no events)"
    return MapScene(
        title=title or f"Road network, {when}",
        subtitle=_subtitle(network, day, actor, run, value_name),
        bbox=extent, offsets=offsets, x=x, y=y, status=status[idx], front=front[idx], rank=rank[idx],
        controller=controller[idx], controllers=controllers, trucks=trucks[idx], value=value[idx],
        value_name=value_name, day=day, places=places, border_posts=posts,
        crossings=[c for c in crossings if _inside(c, extent)], sieges=[c for c in sieges if _inside(c, extent)],
        routes=drawn, outline=country_outline(), attribution=style.OSM_NOTICE if osm else attribution,
        arabic=arabic,
    )


def _subtitle(network: Network, day: Date | None, actor: str, run: str | Path | None, value_name: str) -> str:
    name = network.meta.get("network") or network.meta.get("name") or network.meta.get("source")
    parts = [str(name)] if name else []
    if day is not None:
        parts.append(f"events and ground in force for {actor} travel")
    if run is not None:
        parts.append(f"flows of {Path(run).name}")
    if value_name:
        parts.append(f"colour: {value_name}")
    return "; ".join(parts)


def _extent(network: Network, bbox: Sequence[float] | None) -> tuple[float, float, float, float]:
    if bbox is not None:
        if len(bbox) != 4:
            raise RoutesimError("--bbox takes four numbers: west south east north")
        w, s, e, n = (float(v) for v in bbox)
        if not (w < e and s < n):
            raise RoutesimError(f"--bbox {w} {s} {e} {n}: west must be less than east and south less than north")
        return (w, s, e, n)
    xs, ys = np.asarray(network.node_x), np.asarray(network.node_y)
    ring = np.concatenate(country_outline())
    ow, os_, oe, on = ring[:, 0].min(), ring[:, 1].min(), ring[:, 0].max(), ring[:, 1].max()
    inside = (xs >= ow) & (xs <= oe) & (ys >= os_) & (ys <= on)
    if inside.mean() > 0.5:
        pad = 0.15
        return (float(ow - pad), float(os_ - pad), float(oe + pad), float(on + pad))
    pad_x, pad_y = 0.03 * float(np.ptp(xs)) + 0.01, 0.03 * float(np.ptp(ys)) + 0.01
    return (float(xs.min() - pad_x), float(ys.min() - pad_y), float(xs.max() + pad_x), float(ys.max() + pad_y))


def _lines_in(offsets: np.ndarray, x: np.ndarray, y: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """Lines with a vertex inside ``box``, or whose bounding box crosses it."""
    w, s, e, n = box
    starts = offsets[:-1]
    lo_x = np.minimum.reduceat(x, starts)
    hi_x = np.maximum.reduceat(x, starts)
    lo_y = np.minimum.reduceat(y, starts)
    hi_y = np.maximum.reduceat(y, starts)
    return np.asarray((hi_x >= w) & (lo_x <= e) & (hi_y >= s) & (lo_y <= n))


def _take_lines(
    offsets: np.ndarray, x: np.ndarray, y: np.ndarray, idx: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lengths = offsets[idx + 1] - offsets[idx]
    new = np.zeros(len(idx) + 1, dtype=np.int64)
    np.cumsum(lengths, out=new[1:])
    # Vertex positions of the kept lines, without a Python loop over 80,000 lines.
    pos = np.repeat(offsets[idx] - new[:-1], lengths) + np.arange(new[-1])
    return new, np.asarray(x[pos], dtype=float), np.asarray(y[pos], dtype=float)


def _inside(p: MapPoint, box: tuple[float, float, float, float]) -> bool:
    return box[0] <= p.lon <= box[2] and box[1] <= p.lat <= box[3]


def _arabic_name(aliases: Sequence[str]) -> str:
    return next((a for a in aliases if _ARABIC.search(a)), "")


def _points(
    network: Network, box: tuple[float, float, float, float], *, wide: bool, arabic: bool
) -> tuple[list[MapPoint], list[MapPoint]]:
    """Places to label (cities; towns too on a smaller map) and border posts, inside ``box``."""
    kinds = {"city", "port"} if wide else {"city", "town", "port"}
    places, posts = [], []
    for p in network.places:
        if p.id.startswith("osm-") and (p.kind != "city" or _ARABIC.search(p.name)):
            # The 8,800 OSM villages would bury the map; an OSM city named only in Arabic repeats a curated one.
            continue
        point = MapPoint(p.name, p.lon, p.lat, p.kind, _arabic_name(p.aliases) if arabic else "")
        if not _inside(point, box):
            continue
        if p.kind == "crossing":
            posts.append(point)
        elif p.kind in kinds:
            places.append(point)
    return places, posts


def _line_pieces(network: Network, edge_index: Sequence[int]) -> list[np.ndarray]:
    """The edges of a path as ``(n, 2)`` lon/lat arrays, consecutive edges joined into one piece."""
    e = network.edges
    coords: list[tuple[float, float]] = []
    for k in edge_index:
        xy = e.coords(int(k))
        coords.extend(xy if not coords else xy[1:])
    return [np.asarray(coords, dtype=float)] if coords else []


def _route(network: Network, origin: str, destination: str, *, day: Date | None, actor: str, vehicle: str) -> MapRoute:
    state = network.state_at(day, actor=actor) if day is not None else network.open_state
    r = network.route(origin, destination, state=state, vehicle=vehicle)
    b = network.route(origin, destination, vehicle=vehicle)
    return MapRoute(
        label=f"{r.origin} → {r.destination} ({vehicle})", reachable=r.reachable,
        path=_line_pieces(network, r.edge_index), baseline=_line_pieces(network, b.edge_index),
        distance_km=r.distance_km, time_h=r.time_h, baseline_km=b.distance_km, baseline_h=b.time_h,
    )


def _segment_lines(network: Network, names: Sequence[str], n_lines: int, values: np.ndarray) -> np.ndarray:
    """Per line, the largest value of the segments given (segment ids of ``network``; others ignored)."""
    e = network.edges
    code = {str(s): i for i, s in enumerate(e.segment_names)}
    per_segment = np.full(len(e.segment_names), np.nan)
    for name, v in zip(names, values, strict=True):
        c = code.get(str(name))
        if c is not None and not np.isnan(v):
            per_segment[c] = v if np.isnan(per_segment[c]) else max(per_segment[c], v)
    return _edges_to_lines(network, per_segment[e.segment_code], n_lines)


def _edges_to_lines(network: Network, per_edge: np.ndarray, n_lines: int) -> np.ndarray:
    out = np.full(n_lines, -np.inf)
    np.fmax.at(out, network.edges.geom_line, np.where(np.isnan(per_edge), -np.inf, per_edge))
    return np.where(np.isinf(out), np.nan, out)


def _run_trucks(network: Network, run: str | Path, n_lines: int) -> np.ndarray:
    from routesim.io.results import read_table

    seg = read_table(Path(run), "segments.csv")
    column = "trucks" if "trucks" in seg.columns and seg["trucks"].sum() > 0 else "route_trucks"
    if column not in seg.columns or "segment" not in seg.columns:
        raise RoutesimError(f"{Path(run) / 'segments.csv'}: needs columns 'segment' and 'trucks'")
    known = set(network.edges.segment_ids)
    if not seg["segment"].astype(str).isin(known).any():
        raise RoutesimError(f"{run}: its segments are not of this network; pass the run's --network")
    values = seg[column].astype(float).to_numpy()
    return np.nan_to_num(_segment_lines(network, seg["segment"].astype(str).tolist(), n_lines, values))


def _criticality(network: Network, path: Path, column: str | None, n_lines: int) -> tuple[np.ndarray, str]:
    import pandas as pd

    from routesim.errors import InputFileError, Problem

    if not path.is_file():
        raise RoutesimError(f"{path}: file not found")
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise RoutesimError(f"{path}: unreadable CSV: {exc}") from None
    ids = {"segment", "u", "v", "key", "ref", "road", "rank", "name", "from", "to"}
    numeric = [c for c in frame.columns if c not in ids and pd.api.types.is_numeric_dtype(frame[c])]
    if column is None:
        if not numeric:
            raise InputFileError([Problem(str(path), 1, "columns", "no numeric value column to colour by")])
        # reopen.csv: the money a reopening saves; other tables put their main figure last.
        column = "saved_cost_usd" if "saved_cost_usd" in numeric else numeric[-1]
    if column not in frame.columns:
        import difflib

        close = difflib.get_close_matches(column, [str(c) for c in frame.columns], n=3)
        hint = f"; did you mean: {', '.join(close)}?" if close else f"; columns: {', '.join(map(str, frame.columns))}"
        raise InputFileError([Problem(str(path), 1, column, f"no such column{hint}")])
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    if "segment" in frame.columns:
        names = frame["segment"].astype(str).tolist()
        found = set(names) & set(network.edges.segment_ids)
        if not found:
            raise InputFileError([Problem(str(path), 2, "segment", "no segment id of this network")])
        return _segment_lines(network, names, n_lines, values), column
    if {"u", "v"} <= set(frame.columns):
        index = {str(n): i for i, n in enumerate(network.node_ids)}
        e = network.edges
        edge_of = {(int(a), int(b)): k for k, (a, b) in enumerate(zip(e.u.tolist(), e.v.tolist(), strict=True))}
        per_edge = np.full(e.n, np.nan)
        matched = 0
        for u, v, val in zip(frame["u"].astype(str), frame["v"].astype(str), values, strict=True):
            iu, iv = index.get(u), index.get(v)
            k = edge_of.get((iu, iv)) if iu is not None and iv is not None else None
            if k is not None:
                per_edge[k] = val if np.isnan(per_edge[k]) else max(per_edge[k], val)
                matched += 1
        if not matched:
            raise InputFileError([Problem(str(path), 2, "u", "no edge (u, v) of this network")])
        return _edges_to_lines(network, per_edge, n_lines), column
    if "closure" in frame.columns:
        return _closure_values(network, path, frame["closure"].astype(str).tolist(), values, n_lines), column
    raise InputFileError([Problem(str(path), 1, "columns",
                                  "needs a 'segment' column, 'u' and 'v' columns, or a 'closure' column (reopen.csv)")])


def _closure_values(network: Network, path: Path, closures: Sequence[str], values: np.ndarray,
                    n_lines: int) -> np.ndarray:
    """Per line, the value of the closures of ``routesim reopen`` (an event id, or ``ground:<edge>``) it is in."""
    from routesim.errors import InputFileError, Problem

    events = network.default_events
    per_edge = np.full(network.edges.n, np.nan)
    matched = 0
    for closure, val in zip(closures, values, strict=True):
        mask = np.zeros(network.edges.n, dtype=bool)
        if closure.startswith("ground:") and closure[7:].isdigit() and int(closure[7:]) < network.edges.n:
            mask[int(closure[7:])] = True
        elif events is not None and hasattr(events, "mask"):
            try:
                mask = np.asarray(events.mask(closure), dtype=bool)
            except KeyError:
                continue
        if mask.any():
            matched += 1
            per_edge[mask] = np.fmax(per_edge[mask], val)
    if not matched:
        raise InputFileError([Problem(str(path), 2, "closure", "no closure of this network's events or ground")])
    return _edges_to_lines(network, per_edge, n_lines)
