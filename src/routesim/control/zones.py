"""Zones of control on a network, front lines, crossings and sieges by date.

:class:`ControlMap` binds the control tables (:mod:`routesim.control.tables`)
to a network's nodes and answers, for a day and an actor, which edges the
ground makes impassable. The rule, the same on any network:

1. **Places.** On day D each place of ``control.csv`` has the controller of
   its latest row dated ≤ D (none before its first row).
2. **Zones.** Each node takes the controller of the nearest place held on D
   within ``reach_km`` (default 40 km, great-circle distance); farther from any
   held place a node has no controller and is open to all. Nodes inside a
   polygon of a control layer in force on D take its controller instead (the
   latest-dated layer where several overlap).
3. **Front lines.** An edge whose two ends have controllers that are hostile
   on D (different, and not ``allied`` in ``relations.csv``) is impassable.
4. **Crossings.** A front-line edge whose road passes within ``crossing_km``
   (default 5 km) of a crossing open on D, between the two sides, and open to the actor,
   is passable at the crossing's fee and delay.
5. **Sieges.** An edge with one end inside the circle of a siege in force on D
   and the other outside is impassable, unless its road passes within ``crossing_km`` of one of
   the siege's corridors (a crossing) open on D to the actor.

Events (:mod:`routesim.events`) apply first; the ground applies on top, so an
event that opens a road does not open a front line: only crossings do.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date as Date

import numpy as np

from routesim._util.geo import EARTH_RADIUS_KM
from routesim.control.tables import ACTORS, DEFAULT_ACTOR, ControlTables, Crossing, Relation, Siege, Zone
from routesim.errors import InputFileError, Problem
from routesim.network.graph import Network
from routesim.network.places import PlaceIndex
from routesim.network.spatial import points_in_rings

#: Default reach of a held place (km): nodes farther from every held place have no controller.
REACH_KM = 40.0
#: Default radius of a crossing (km): front-line edges this close to it may be crossed there.
CROSSING_KM = 5.0


def _unit(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Points on the unit sphere, so chord distances order as great-circle ones."""
    lo, la = np.radians(lon), np.radians(lat)
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


@dataclass(frozen=True)
class GroundState:
    """What the ground does to the edges on one day, for one actor.

    Attributes
    ----------
    closed
        ``(n_edges,)`` bool: front-line and siege edges no one may pass.
    delay_s, fee_usd
        Per-edge delay and fee at the crossings the actor may use.
    queue_tph
        Trucks per hour a crossing clears, where its capacity is known
        (``capacity_trucks_per_day`` / 24, one lane per direction; 0 elsewhere):
        a queue in the freight simulation.
    node_controller
        ``(n_nodes,)`` int: index into :attr:`ControlMap.controllers`, ``-1`` for none.
    crossing_of
        ``(n_edges,)`` int: index into the tables' crossings of the crossing an
        edge is passed by, ``-1`` for none.
    key
        Identifies the state (equal keys, equal arrays).
    """

    closed: np.ndarray
    delay_s: np.ndarray
    fee_usd: np.ndarray
    queue_tph: np.ndarray
    node_controller: np.ndarray
    crossing_of: np.ndarray
    key: tuple[object, ...]


@dataclass
class ControlMap:
    """The control tables bound to a network (see the module docstring for the rule).

    Parameters
    ----------
    network
        The network whose nodes get controllers.
    tables
        From :func:`routesim.control.read_control`.
    places
        Where place names are looked up (default the network's own places).
    reach_km, crossing_km
        See the module docstring.
    """

    network: Network
    tables: ControlTables
    places: PlaceIndex | None = None
    reach_km: float = REACH_KM
    crossing_km: float = CROSSING_KM
    _cache: dict[tuple[object, ...], GroundState] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        places = self.places if self.places is not None else self.network.places
        self.controllers: list[str] = self.tables.controllers
        self._code = code = {c: i for i, c in enumerate(self.controllers)}
        points: dict[str, int] = {}
        lon: list[float] = []
        lat: list[float] = []
        self._dates: list[list[Date]] = []
        self._held: list[list[int]] = []
        problems = []
        for h in sorted(self.tables.held, key=lambda h: (h.place, h.date)):
            if h.place not in points:
                if h.lat is not None and h.lon is not None:
                    x, y = h.lon, h.lat
                else:
                    found = places.find(h.place)
                    if found is None:
                        close = places.suggest(h.place)
                        hint = f"; close matches: {', '.join(close)}" if close else ""
                        problems.append(Problem(h.file, h.line, "place", f"unknown place {h.place!r}{hint}"))
                        continue
                    x, y = found.lon, found.lat
                points[h.place] = len(lon)
                lon.append(x)
                lat.append(y)
                self._dates.append([])
                self._held.append([])
            i = points[h.place]
            self._dates[i].append(h.date)
            self._held[i].append(code[h.controller])
        if problems:
            raise InputFileError(problems)
        self.point_names = list(points)
        self.point_lon, self.point_lat = np.asarray(lon), np.asarray(lat)
        self._nodes = _unit(np.asarray(self.network.node_x), np.asarray(self.network.node_y))
        self._candidates = self._nearest_points()
        e = self.network.edges
        self._u, self._v = np.asarray(e.u), np.asarray(e.v)
        # Edges near each crossing, found on first use: a query meets only the crossings of its day.
        self._near: dict[int, np.ndarray] = {}
        self._siege_cut = []
        for s in self.tables.sieges:
            inside = self._in_circle(self._nodes, s.lat, s.lon, s.radius_km)
            self._siege_cut.append(inside[self._u] != inside[self._v])
        self._crossing_index = {c.id: i for i, c in enumerate(self.tables.crossings)}
        nx_, ny_ = np.asarray(self.network.node_x), np.asarray(self.network.node_y)
        self._zone_order = sorted(range(len(self.tables.zones)), key=lambda i: self.tables.zones[i].date)
        self._zone_inside = [points_in_rings(nx_, ny_, [np.asarray(r) for r in z.rings]) for z in self.tables.zones]

    def _nearest_points(self) -> np.ndarray:
        """Per node, the nearest control point within reach (``n_points``: none).

        Which points are held changes by date, where they are does not: finding
        the nearest once leaves each day a lookup (:meth:`node_controllers`
        searches again only for nodes whose nearest point has no row yet).
        Brute force by chunks of nodes over a few hundred points costs less
        than importing a spatial index.
        """
        n_points = len(self.point_lon)
        out = np.full(len(self._nodes), n_points, dtype=np.int64)
        if not n_points:
            return out
        pts = _unit(self.point_lon, self.point_lat)
        limit = np.cos(self.reach_km / EARTH_RADIUS_KM)
        for a in range(0, len(self._nodes), 8192):
            c = self._nodes[a:a + 8192] @ pts.T  # cosine of the angle: larger is nearer
            best = np.argmax(c, axis=1)
            near = c[np.arange(len(c)), best] >= limit
            out[a:a + 8192] = np.where(near, best, n_points)
        return out

    def _nearest_live(self, nodes: np.ndarray, live: np.ndarray, held: np.ndarray) -> np.ndarray:
        """Controller of the nearest live point within reach of each of ``nodes`` (``-1``: none)."""
        c = self._nodes[nodes] @ _unit(self.point_lon[live], self.point_lat[live]).T
        best = np.argmax(c, axis=1)
        ok = c[np.arange(len(nodes)), best] >= np.cos(self.reach_km / EARTH_RADIUS_KM)
        return np.where(ok, held[live[best]], -1)

    def _near_crossing(self, i: int) -> np.ndarray:
        """Edges whose road passes within ``crossing_km`` of crossing ``i``."""
        if i not in self._near:
            c = self.tables.crossings[i]
            # The road geometry, not only its ends: a crossing lies on a road, often between junctions.
            area = {"area": {"lat": c.lat, "lon": c.lon, "radius_km": self.crossing_km}}
            self._near[i] = np.asarray(self.network.select(area), dtype=bool)
        return self._near[i]

    @staticmethod
    def _in_circle(points: np.ndarray, lat: float, lon: float, radius_km: float) -> np.ndarray:
        """Which unit-sphere ``points`` lie within ``radius_km`` of (lat, lon)."""
        return np.asarray(points @ _unit(np.array([lon]), np.array([lat]))[0] >= np.cos(radius_km / EARTH_RADIUS_KM))

    # -- by date -----------------------------------------------------------------------
    def held_on(self, day: Date) -> np.ndarray:
        """Controller index of every control point on ``day`` (``-1``: no row yet)."""
        out = np.full(len(self._dates), -1, dtype=np.int64)
        for i, dates in enumerate(self._dates):
            k = bisect.bisect_right(dates, day)
            if k:
                out[i] = self._held[i][k - 1]
        return out

    def controller_of(self, place: str, day: Date) -> str | None:
        """Who held a place of the table on ``day`` (``None``: no row yet or not in the table)."""
        if place not in self.point_names:
            return None
        c = int(self.held_on(day)[self.point_names.index(place)])
        return self.controllers[c] if c >= 0 else None

    def hostile(self, day: Date) -> np.ndarray:
        """``(k, k)`` bool: controllers at war on ``day`` (every pair unless allied)."""
        k = len(self.controllers)
        out = ~np.eye(k, dtype=bool)
        code = self._code
        for r in self.tables.relations:
            if r.active_on(day) and r.a in code and r.b in code:
                out[code[r.a], code[r.b]] = out[code[r.b], code[r.a]] = not r.allied
        return out

    def node_controllers(self, held: np.ndarray, zones: tuple[int, ...] = ()) -> np.ndarray:
        """Controller of every node given the points' controllers and the layers in force (rule 2)."""
        out = np.full(len(self._nodes), -1, dtype=np.int64)
        live = np.flatnonzero(held >= 0)
        if len(live):
            alive = np.zeros(len(held) + 1, dtype=bool)
            alive[live] = True
            near = self._candidates
            found = alive[near]
            out[found] = held[near[found]]
            # A node whose nearest point has no row yet may still have a held point in reach.
            full = ~found & (near != len(held))
            if full.any():
                out[full] = self._nearest_live(np.flatnonzero(full), live, held)
        code = self._code
        for i in self._zone_order:
            if i in zones:
                out[self._zone_inside[i]] = code[self.tables.zones[i].controller]
        return out

    def ground(self, day: Date, *, actor: str = DEFAULT_ACTOR) -> GroundState:
        """The ground's effect on the edges on ``day`` for ``actor`` (cached per distinct situation)."""
        if actor not in ACTORS:
            raise ValueError(f"unknown actor {actor!r}; expected one of {', '.join(ACTORS)}")
        held = self.held_on(day)
        hostile = self.hostile(day)
        crossings = tuple(i for i, c in enumerate(self.tables.crossings) if c.active_on(day) and actor in c.actors)
        sieges = tuple(i for i, s in enumerate(self.tables.sieges) if s.active_on(day))
        zones = tuple(i for i, z in enumerate(self.tables.zones) if z.active_on(day))
        key = (held.tobytes(), hostile.tobytes(), crossings, sieges, zones, actor)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        node = self.node_controllers(held, zones)
        cu, cv = node[self._u], node[self._v]
        both = (cu >= 0) & (cv >= 0)
        front = np.zeros(len(self._u), dtype=bool)
        front[both] = hostile[cu[both], cv[both]]
        delay = np.zeros(len(self._u))
        fee = np.zeros(len(self._u))
        queue = np.zeros(len(self._u))
        crossing_of = np.full(len(self._u), -1, dtype=np.int64)
        code = self._code
        for i in crossings:
            c = self.tables.crossings[i]
            sides = [code[s] for s in c.sides if s in code]
            # The few front-line edges near the crossing, then their sides: not a scan of every edge.
            near = np.flatnonzero(front & self._near_crossing(i))
            near = near[np.isin(cu[near], sides) & np.isin(cv[near], sides)]
            at = np.zeros(len(front), dtype=bool)
            at[near] = True
            front &= ~at
            crossing_of[at] = i
            delay[at] += (c.delay_min or 0.0) * 60.0
            fee[at] += c.fee_usd or 0.0
            if c.capacity_trucks_per_day:
                queue[at] = c.capacity_trucks_per_day / 24.0
        closed = front
        for i in sieges:
            cut = self._siege_cut[i].copy()
            for cid in self.tables.sieges[i].corridors:
                j = self._crossing_index[cid]
                if j in crossings:
                    at = cut & self._near_crossing(j)
                    cut &= ~at
                    crossing_of[at] = j
                    c = self.tables.crossings[j]
                    delay[at] += (c.delay_min or 0.0) * 60.0
                    fee[at] += c.fee_usd or 0.0
                    if c.capacity_trucks_per_day:
                        queue[at] = c.capacity_trucks_per_day / 24.0
            closed = closed | cut
        state = GroundState(closed, delay, fee, queue, node, crossing_of, key)
        while len(self._cache) >= 16:  # ~4 MB each on the default network: keep the latest few
            self._cache.pop(next(iter(self._cache)))
        self._cache[key] = state
        return state

    def boundaries(self, start: Date, end: Date) -> list[Date]:
        """Days in ``(start, end)`` on which control, a relation, a crossing or a siege changes."""
        days = {d for dates in self._dates for d in dates}
        dated: list[Relation | Crossing | Siege | Zone] = [
            *self.tables.relations, *self.tables.crossings, *self.tables.sieges, *self.tables.zones]
        for r in dated:
            days.add(r.date)
            if r.end is not None:
                days.add(r.end)
        return sorted(d for d in days if start < d < end)

    # -- explaining routes ---------------------------------------------------------------
    def explain(
        self, day: Date, edges: Sequence[int], origin: int, destination: int, *, reachable: bool,
        actor: str = DEFAULT_ACTOR, baseline: Sequence[int] = (),
    ) -> dict[str, object]:
        """What the ground did to a route: ``zones`` crossed and ``crossings`` used, or ``why`` there is none.

        ``baseline``: the edges of the route on the open network, to name whose ground blocks it.
        """
        if not reachable:
            why = self.why_unreachable(day, origin, destination, actor=actor, baseline=baseline)
            return {"actor": actor, "why": why}
        path = np.asarray(edges, dtype=np.int64)
        return {"actor": actor, "zones": self.zones_along(day, path, actor=actor),
                "crossings": self.crossings_along(day, path, actor=actor)}

    def zones_along(self, day: Date, edges: np.ndarray, *, actor: str = DEFAULT_ACTOR) -> list[str]:
        """Controllers of the ground a path of edge indices crosses, in order (``-`` for no one's)."""
        if not len(edges):
            return []
        node = self.ground(day, actor=actor).node_controller
        seq = node[np.r_[self._u[edges[0]], self._v[edges]]]
        runs = seq[np.r_[True, seq[1:] != seq[:-1]]]
        return [self.controllers[c] if c >= 0 else "-" for c in runs.tolist()]

    def crossings_along(self, day: Date, edges: np.ndarray, *, actor: str = DEFAULT_ACTOR) -> list[dict[str, object]]:
        """The crossings a path of edge indices passes, in order, with their fee and delay per truck."""
        of = self.ground(day, actor=actor).crossing_of[edges] if len(edges) else np.zeros(0, dtype=np.int64)
        out: list[dict[str, object]] = []
        for i in of[of >= 0].tolist():
            c = self.tables.crossings[i]
            if not out or out[-1]["id"] != c.id:
                out.append({"id": c.id, "name": c.name, "sides": "|".join(c.sides), "fee_usd": c.fee_usd,
                            "delay_min": c.delay_min})
        return out

    def why_unreachable(
        self, day: Date, origin: int, destination: int, *, actor: str = DEFAULT_ACTOR, baseline: Sequence[int] = (),
    ) -> str:
        """A plain reason why no road joins two nodes on ``day``: a siege, a front line, or closed roads."""
        g = self.ground(day, actor=actor)
        for end, node in (("destination", destination), ("origin", origin)):
            for s in self.tables.sieges:
                if s.active_on(day) and self._in_circle(self._nodes[node], s.lat, s.lon, s.radius_km):
                    open_to = [cid for cid in s.corridors if self._open_to(cid, day, actor)]
                    return (f"the {end} is besieged ({s.name}, from {s.date}"
                            f"{f' to {s.end}' if s.end else ''}); corridors open to {actor}: "
                            f"{', '.join(open_to) or 'none'}")
        a, b = int(g.node_controller[origin]), int(g.node_controller[destination])
        if a >= 0 and b >= 0 and a != b and self.hostile(day)[a, b]:
            return (f"behind a front line: the origin is held by {self.controllers[a]}, the destination by "
                    f"{self.controllers[b]}, and no road crosses between them through a crossing open to {actor}")
        if a >= 0 and len(baseline):
            hostile = self.hostile(day)[a]
            held = {z for z in self.zones_along(day, np.asarray(baseline, dtype=np.int64), actor=actor) if z != "-"}
            enemies = sorted(z for z in held if hostile[self.controllers.index(z)])
            if enemies:
                return (f"the direct road runs through ground held by {', '.join(enemies)} (hostile to "
                        f"{self.controllers[a]}, who holds the origin), and no other road is open to {actor}")
        return "no open road: closures and front lines cut every path"

    def _open_to(self, crossing_id: str, day: Date, actor: str) -> bool:
        c = self.tables.crossings[self._crossing_index[crossing_id]]
        return c.active_on(day) and actor in c.actors

