"""Criticality of links: the best alternative when a link, or a group of links, is closed.

Single-link redundancy (as in RA2CE, Deltares): every link is closed alone on
the network of a state (closures in force stay closed) and the best path
between its two ends is searched without it. A *link* is a road section
between junctions by default (consecutive segments joined at nodes with only
two neighbours), or one directed edge (:func:`edge_links`). Multi-link
redundancy closes a group (a road, a ``ROAD:FROM:TO`` section, an area) and
asks the same of each of its links.

With demand (flows of a scenario), :class:`DemandRoutes` routes each flow once
on the state, then closes only the links its route uses, one at a time, and
reroutes the flows that used it: extra vehicle-km, truck-hours, fuel and USD per
day, and the trips left without a route, costed by
:func:`routesim.demand.trip_costs` as in :func:`routesim.analysis.route_impact`.

Searches: one bidirectional Dijkstra per link between its ends on a CSR of
the edges built once per network, blocked edges weighted ``inf`` in place
(:class:`routesim.network.pathfinding.LinkSearch`); demand reroutes are
contraction-hierarchy queries on the state's weighting with the link closed
as a small patch (:meth:`routesim.network.core.RoutingCore.compile` with ``base``).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numba import njit

from routesim._util.files import atomic_path
from routesim.demand.costs import DailyPrices, trip_costs
from routesim.demand.flows import Flow
from routesim.io.results import write_table
from routesim.models.selectors import Selector, describe
from routesim.models.vehicles import vehicle_index
from routesim.network.core import CompiledWeights
from routesim.network.graph import Network
from routesim.network.pathfinding import LinkSearch
from routesim.network.state import NetworkState

#: Columns of the single-link table, in order (see ``docs/criticality.md``).
LINK_COLUMNS: tuple[str, ...] = (
    "link", "group", "segment", "ref", "highway", "from", "to", "length_km", "time_h", "closed", "connected", "cut",
    "alt_km", "alt_time_h", "detour_km", "extra_time_h",
)
#: Columns added with demand, per day.
DEMAND_COLUMNS: tuple[str, ...] = (
    "flows", "trucks_per_day", "extra_vehicle_km", "extra_truck_hours", "extra_fuel_l", "extra_cost_usd",
    "trips_unserved", "od_disconnected", "rank",
)


@dataclass(frozen=True)
class Links:
    """Links to close one at a time: edges ``edges[ptr[i]:ptr[i + 1]]`` of link ``i``,
    searched from node ``start[i]`` to node ``end[i]``; ``forward`` marks the edges that
    lead from start to end (the link's own length and time)."""

    kind: str
    ptr: np.ndarray
    edges: np.ndarray
    forward: np.ndarray
    start: np.ndarray
    end: np.ndarray
    ids: np.ndarray

    def __len__(self) -> int:
        return len(self.start)

    def edges_of(self, i: int) -> np.ndarray:
        return self.edges[self.ptr[i] : self.ptr[i + 1]]

    def owner(self) -> np.ndarray:
        """Link of each entry of :attr:`edges`."""
        return np.repeat(np.arange(len(self)), np.diff(self.ptr))

    def link_of_edge(self, n_edges: int) -> np.ndarray:
        """Link of each edge of the network (``-1``: in none)."""
        out = np.full(n_edges, -1, dtype=np.int64)
        out[self.edges] = self.owner()
        return out

    def subset(self, keep: np.ndarray) -> Links:
        """The links where ``keep`` (boolean per link) is true, in order."""
        keep = np.asarray(keep, dtype=bool)
        take = keep[self.owner()]
        sizes = np.diff(self.ptr)[keep]
        return Links(self.kind, np.r_[0, np.cumsum(sizes)].astype(np.int64), self.edges[take], self.forward[take],
                     self.start[keep], self.end[keep], self.ids[keep])

    def touching(self, mask: np.ndarray) -> Links:
        """The links with an edge in ``mask`` (boolean per network edge)."""
        hit = np.zeros(len(self), dtype=bool)
        hit[self.owner()[np.asarray(mask, dtype=bool)[self.edges]]] = True
        return self.subset(hit)


_SECTIONS: weakref.WeakKeyDictionary[Network, Links] = weakref.WeakKeyDictionary()
_SEARCH: weakref.WeakKeyDictionary[Network, LinkSearch] = weakref.WeakKeyDictionary()


def link_search(network: Network) -> LinkSearch:
    """The network's :class:`LinkSearch` (built once per network)."""
    found = _SEARCH.get(network)
    if found is None:
        e = network.edges
        found = _SEARCH[network] = LinkSearch(network.core.n_nodes, e.u, e.v)
    return found


def edge_links(network: Network) -> Links:
    """Every directed edge as a link of its own (RA2CE's unit), searched from its tail to its head."""
    e = network.edges
    n = e.n
    idx = np.arange(n, dtype=np.int64)
    return Links("edge", np.arange(n + 1, dtype=np.int64), idx, np.ones(n, dtype=bool),
                 np.asarray(e.u, dtype=np.int64), np.asarray(e.v, dtype=np.int64), idx.astype(str).astype(object))


def sections(network: Network) -> Links:
    """Road sections between junctions (built once per network).

    Segments are joined at nodes with exactly two distinct neighbours (a bend,
    a change of name or class), so a section runs from junction (or dead end)
    to junction; both directions of a two-way road are one link, searched in
    the direction of its first edge from a junction. Closed rings without a
    junction are left out.
    """
    found = _SECTIONS.get(network)
    if found is not None:
        return found
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    e = network.edges
    n_nodes = network.core.n_nodes
    u = np.asarray(e.u, dtype=np.int64)
    v = np.asarray(e.v, dtype=np.int64)
    a, b = np.minimum(u, v), np.maximum(u, v)
    pairs = np.unique((a * n_nodes + b)[a != b])
    degree = np.bincount(pairs // n_nodes, minlength=n_nodes) + np.bincount(pairs % n_nodes, minlength=n_nodes)
    bend = degree == 2
    # Vertices: edges, then nodes, then segments; an edge joins its bend ends and its segment.
    m = e.n
    rows = [np.arange(m), np.arange(m)[bend[u]], np.arange(m)[bend[v]]]
    cols = [m + n_nodes + np.asarray(e.segment_code, dtype=np.int64), m + u[bend[u]], m + v[bend[v]]]
    size = m + n_nodes + len(e.segment_names)
    graph = coo_matrix((np.ones(sum(len(r) for r in rows)), (np.concatenate(rows), np.concatenate(cols))),
                       shape=(size, size))
    _, label = connected_components(graph, directed=False)
    comp = label[:m]
    order = np.lexsort((np.arange(m), comp))
    comp_sorted = comp[order]
    starts = np.flatnonzero(np.r_[True, comp_sorted[1:] != comp_sorted[:-1]])
    ptr = np.r_[starts, m].astype(np.int64)
    start, end, forward, ok = _orient(ptr, order, u, v, bend)
    links = Links("section", ptr, order.astype(np.int64), forward, start, end,
                  np.array([f"s{i}" for i in range(len(start))], dtype=object))
    links = links.subset(ok)
    _SECTIONS[network] = links
    return links


@njit(cache=True)
def _orient(ptr, edges, u, v, bend):  # pragma: no cover - compiled
    """Start, end and forward edges of each section: from the tail of its first edge
    that leaves a junction, along the chain to the next junction."""
    k = len(ptr) - 1
    start = np.full(k, -1, np.int64)
    end = np.full(k, -1, np.int64)
    forward = np.zeros(len(edges), np.bool_)
    ok = np.zeros(k, np.bool_)
    for i in range(k):
        lo, hi = ptr[i], ptr[i + 1]
        first = -1
        for j in range(lo, hi):
            if not bend[u[edges[j]]]:
                first = j
                break
        if first < 0:
            continue
        s = u[edges[first]]
        x = v[edges[first]]
        prev = s
        forward[first] = True
        steps = 0
        while bend[x] and steps <= hi - lo:
            nxt = -1
            for j in range(lo, hi):
                e = edges[j]
                if u[e] == x and v[e] != prev and not forward[j]:
                    nxt = j
                    break
            if nxt < 0:
                break
            forward[nxt] = True
            prev = x
            x = v[edges[nxt]]
            steps += 1
        if bend[x]:
            for j in range(lo, hi):
                forward[j] = False
            continue
        start[i] = s
        end[i] = x
        ok[i] = True
    return start, end, forward, ok


def _weights(network: Network, state: NetworkState, vehicle: str, weight: str) -> tuple[np.ndarray, np.ndarray]:
    """Cost minimised (``inf`` where unusable) and the travel time in seconds, per edge."""
    time_s = network.weights(state, vehicle=vehicle, weight="time")
    cost = time_s if weight == "time" else network.edges.length_m
    return np.where(state.usable(vehicle), cost, np.inf), np.asarray(time_s, dtype=np.float64)


def single_link(
    network: Network,
    state: NetworkState,
    *,
    links: Links | None = None,
    vehicle: str = "truck",
    weight: str = "time",
    closed: np.ndarray | None = None,
    group: str = "",
) -> pd.DataFrame:
    """Best alternative of every link closed alone (:data:`LINK_COLUMNS`).

    Parameters
    ----------
    state
        The network state: its closures stay closed.
    links
        Default: :func:`sections` of the network.
    vehicle, weight
        Who travels (default ``truck``) and what is minimised (default ``time``;
        ``distance`` is RA2CE's ``length`` weighing).
    closed
        Edges closed on top of the state for every search (a multi-link group:
        each link is then searched with the whole group closed).
    group
        Label written in the ``group`` column.

    Returns
    -------
    pandas.DataFrame
        One row per link: its own length and time along its edges, whether it is
        already closed in the state, whether its ends stay connected without it,
        and the alternative's km and hours with the detour against the link.
    """
    vehicle_index(vehicle)
    links = sections(network) if links is None else links
    e = network.edges
    cost, time_s = _weights(network, state, vehicle, weight)
    if closed is not None:
        cost = np.where(closed, np.inf, cost)
    own = links.edges
    fwd = links.forward
    owner = links.owner()
    n = len(links)
    length_m = np.bincount(owner[fwd], weights=e.length_m[own[fwd]], minlength=n)
    own_t = np.bincount(owner[fwd], weights=time_s[own[fwd]], minlength=n)
    usable = state.usable(vehicle)
    shut = np.bincount(owner[fwd], weights=(~usable[own[fwd]]).astype(float), minlength=n) > 0
    query = ~shut
    alt_cost = np.full(n, np.nan)
    alt_m = np.full(n, np.nan)
    alt_s = np.full(n, np.nan)
    if query.any():
        sub = links.subset(query)
        c, a, b, _ = link_search(network).alternatives(
            cost, sub.start, sub.end, sub.ptr, sub.edges, sums=(e.length_m, time_s))
        alt_cost[query], alt_m[query], alt_s[query] = c, a, b
    connected = np.isfinite(alt_cost)
    cut = _why_cut(network, links, np.isfinite(cost), ~connected & ~shut)
    first = own[links.ptr[:-1]]
    ends, pos = np.unique(np.r_[links.start, links.end], return_inverse=True)
    labels = np.array([network.node_label(int(x)) for x in ends], dtype=object)
    frame = pd.DataFrame({
        "link": links.ids,
        "group": group,
        "segment": e.segment[first],
        "ref": e.ref[first],
        "highway": e.highway[first],
        "from": labels[pos[:n]],
        "to": labels[pos[n:]],
        "length_km": length_m / 1000.0,
        "time_h": np.where(shut, np.nan, own_t / 3600.0),
        "closed": shut,
        "connected": connected,
        "cut": cut,
        "alt_km": alt_m / 1000.0,
        "alt_time_h": alt_s / 3600.0,
    })
    frame["detour_km"] = frame["alt_km"] - frame["length_km"]
    frame["extra_time_h"] = frame["alt_time_h"] - frame["time_h"]
    return frame[list(LINK_COLUMNS)]


def _why_cut(network: Network, links: Links, usable: np.ndarray, cut: np.ndarray) -> np.ndarray:
    """Why a link's ends lose every path: ``start`` (no other usable edge leaves its start, e.g. a
    carriageway just after a slip road joins it), ``end`` (none other enters its end), ``network``
    (every path runs through it: a bridge of the network); ``""`` where they stay connected."""
    e = network.edges
    n = network.core.n_nodes
    owner = links.owner()
    mine = links.edges
    ok = usable[mine]
    own_out = np.bincount(owner[ok & (e.u[mine] == links.start[owner])], minlength=len(links))
    own_in = np.bincount(owner[ok & (e.v[mine] == links.end[owner])], minlength=len(links))
    other_out = np.bincount(e.u[usable], minlength=n)[links.start] - own_out
    other_in = np.bincount(e.v[usable], minlength=n)[links.end] - own_in
    why = np.where(other_out <= 0, "start", np.where(other_in <= 0, "end", "network")).astype(object)
    why[~cut] = ""
    return why


# -- demand ------------------------------------------------------------------------------


@dataclass
class _FlowRoute:
    flow: Flow
    source: int
    target: int
    edges: np.ndarray | None
    km: float
    hours: float
    fuel_l: float
    cost_usd: float


class DemandRoutes:
    """The flows routed once on a state; what closing or opening edges does to them, per day.

    Parameters
    ----------
    network, state
        The network and its state (closures in force).
    flows
        Directed flows (:func:`routesim.demand.scenario_flows`).
    prices
        Prices of the day costed (:meth:`routesim.demand.DailyPrices.over` of that day).
    value_of_time_usd_h
        Cost of a truck hour (default 0), as in a scenario's ``costs``.
    day
        Index of the day in ``prices`` (default 0).
    """

    vehicle = "truck"

    def __init__(self, network: Network, state: NetworkState, flows: Sequence[Flow], *, prices: DailyPrices,
                 value_of_time_usd_h: float = 0.0, day: int = 0) -> None:
        self.network = network
        self.state = state
        self.prices = prices
        self.vot = float(value_of_time_usd_h)
        self.day = int(day)
        self.time_s = np.asarray(network.weights(state, vehicle=self.vehicle, weight="time"), dtype=np.float64)
        self.usable = state.usable(self.vehicle)
        # A full weighting of the state, so that one closed link is a patch of a few pairs on it.
        self.root: CompiledWeights = network.core.compile(self.time_s, self.usable)
        self.routes: list[_FlowRoute] = []
        for f in flows:
            s, t = network.node_index(f.origin), network.node_index(f.destination)
            _, path = self.root.path(s, t)
            self.routes.append(self._describe(f, s, t, path))

    def _describe(self, flow: Flow, s: int, t: int, path: list[int] | None) -> _FlowRoute:
        if path is None:
            return _FlowRoute(flow, s, t, None, float("nan"), float("nan"), float("nan"), float("nan"))
        e = np.asarray(path, dtype=np.int64)
        km = float(self.network.edges.length_m[e].sum() / 1000.0)
        hours = float(self.time_s[e].sum() / 3600.0)
        c = trip_costs(km=km, litres_per_km=flow.truck.litres_per_km(flow.load_factor), hours=hours, day=self.day,
                       prices=self.prices, fees_usd=float(self.state.fee_usd[e].sum()) + flow.fee_usd_per_trip,
                       fees_syp=float(self.state.fee_syp[e].sum()), value_of_time_usd_h=self.vot)
        return _FlowRoute(flow, s, t, e, km, hours, float(np.sum(c.fuel_l)), float(np.sum(c.total_usd)))

    def users(self, link_of_edge: np.ndarray) -> dict[int, list[int]]:
        """Flows (indices into :attr:`routes`) whose route uses each link."""
        out: dict[int, list[int]] = {}
        for i, r in enumerate(self.routes):
            if r.edges is None:
                continue
            for link in np.unique(link_of_edge[r.edges]).tolist():
                if link >= 0:
                    out.setdefault(int(link), []).append(i)
        return out

    def change(self, edges: np.ndarray, *, usable: bool, flows: Sequence[int] | None = None) -> dict[str, Any]:
        """Per-day effect on the flows of making ``edges`` unusable (``usable=False``) or usable.

        Returns
        -------
        dict
            ``flows`` (flows rerouted or newly routed), ``trucks_per_day`` (their trucks),
            ``delta_vehicle_km``, ``delta_truck_hours``, ``delta_fuel_l``, ``delta_cost_usd``
            (new minus now, over the trips that run both ways), ``lost_trips`` and
            ``lost_od`` (trips and flows that lose their route), ``gained_trips`` and
            ``gained_od`` (that get one).
        """
        mask = self.usable.copy()
        mask[np.asarray(edges, dtype=np.int64)] = usable
        variant = self.network.core.compile(self.time_s, mask, base=self.root)
        ids = range(len(self.routes)) if flows is None else flows
        out: dict[str, Any] = dict.fromkeys(
            ("trucks_per_day", "delta_vehicle_km", "delta_truck_hours", "delta_fuel_l", "delta_cost_usd",
             "lost_trips", "gained_trips"), 0.0)
        out["flows"], out["lost_od"], out["gained_od"] = [], [], []
        for i in ids:
            r = self.routes[i]
            _, path = variant.path(r.source, r.target)
            new = self._describe(r.flow, r.source, r.target, path)
            same = (new.edges is None and r.edges is None) or (
                new.edges is not None and r.edges is not None and np.array_equal(new.edges, r.edges))
            if same:
                continue
            k = r.flow.trucks_per_day
            out["flows"].append(r.flow.id)
            out["trucks_per_day"] += k
            if new.edges is None:
                out["lost_trips"] += k
                out["lost_od"].append(r.flow.id)
            elif r.edges is None:
                out["gained_trips"] += k
                out["gained_od"].append(r.flow.id)
            else:
                out["delta_vehicle_km"] += k * (new.km - r.km)
                out["delta_truck_hours"] += k * (new.hours - r.hours)
                out["delta_fuel_l"] += k * (new.fuel_l - r.fuel_l)
                out["delta_cost_usd"] += k * (new.cost_usd - r.cost_usd)
        return out


def demand_losses(frame: pd.DataFrame, links: Links, demand: DemandRoutes, *,
                  closed: np.ndarray | None = None) -> pd.DataFrame:
    """Add :data:`DEMAND_COLUMNS` to a :func:`single_link` table of ``links`` and rank it.

    Only the links some flow's route uses are closed and rerouted (the others
    cost the demand nothing). ``closed``: edges of a group closed for every
    reroute (default none). Ranked by extra USD per day, then trips left
    without a route; rank 0 for links that cost nothing.
    """
    n_edges = demand.network.edges.n
    base_mask = np.zeros(n_edges, dtype=bool) if closed is None else np.asarray(closed, dtype=bool)
    users = demand.users(links.link_of_edge(n_edges))
    cols: dict[str, np.ndarray] = {c: np.zeros(len(links)) for c in DEMAND_COLUMNS}
    cols["flows"] = np.zeros(len(links), dtype=object)
    cols["flows"][:] = ""
    cols["od_disconnected"] = np.zeros(len(links), dtype=np.int64)
    for link, flows in users.items():
        edges = np.union1d(links.edges_of(link), np.flatnonzero(base_mask))
        ch = demand.change(edges, usable=False, flows=flows)
        cols["flows"][link] = ";".join(ch["flows"])
        cols["trucks_per_day"][link] = ch["trucks_per_day"]
        cols["extra_vehicle_km"][link] = ch["delta_vehicle_km"]
        cols["extra_truck_hours"][link] = ch["delta_truck_hours"]
        cols["extra_fuel_l"][link] = ch["delta_fuel_l"]
        cols["extra_cost_usd"][link] = ch["delta_cost_usd"]
        cols["trips_unserved"][link] = ch["lost_trips"]
        cols["od_disconnected"][link] = len(ch["lost_od"])
    out = frame.copy()
    for c in DEMAND_COLUMNS:
        if c != "rank":
            out[c] = cols[c]
    out["rank"] = rank_by(out["extra_cost_usd"].to_numpy(), out["trips_unserved"].to_numpy())
    return by_rank(out)


def by_rank(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows by rank, rank 0 (no value) last, in their order."""
    last = np.iinfo(np.int64).max
    key = np.where(frame["rank"].to_numpy() == 0, last, frame["rank"].to_numpy())
    return frame.iloc[np.argsort(key, kind="stable")].reset_index(drop=True)


def rank_by(value: np.ndarray, second: np.ndarray) -> np.ndarray:
    """1 for the largest ``value`` (ties: larger ``second``), 2, ...; 0 where both are 0."""
    order = np.lexsort((-second, -value))
    order = order[~((np.abs(value[order]) < 1e-6) & (second[order] == 0))]
    rank = np.zeros(len(value), dtype=np.int64)
    rank[order] = np.arange(1, len(order) + 1)
    return rank


# -- groups ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    """A multi-link closure: a label, its edges and the selector they came from."""

    label: str
    mask: np.ndarray
    selector: Selector = ""


def groups_from(network: Network, selectors: Sequence[Selector]) -> list[Group]:
    """Resolve group selectors (``"M5"``, ``"M5:Hama:Aleppo"``, ``{"area": ...}``, ``{"polygon": ...}``)."""
    return [Group(describe(sel) if not isinstance(sel, str) else sel, network.select(sel), sel) for sel in selectors]


def multi_link(network: Network, state: NetworkState, groups: Sequence[Group], *, links: Links | None = None,
               vehicle: str = "truck", weight: str = "time",
               demand: DemandRoutes | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Multi-link redundancy: each group closed whole.

    Returns
    -------
    (links, groups)
        Per link of each group, the :func:`single_link` columns with the group
        closed; per group: ``group``, ``links``, ``km`` (length of line closed),
        ``links_disconnected`` (links whose ends lose every path),
        ``max_detour_km``; for a ``ROAD:FROM:TO`` group the best route FROM -> TO
        on the state (``route_km``, ``route_time_h``) and with the group closed
        (``connected``, ``alt_km``, ``alt_time_h``, ``detour_km``, ``extra_time_h``);
        and with ``demand`` the per-day losses of closing it
        (:data:`DEMAND_COLUMNS` but ``rank`` first).
    """
    links = sections(network) if links is None else links
    e = network.edges
    per_link = []
    rows = []
    for g in groups:
        sub = links.touching(g.mask)
        table = single_link(network, state, links=sub, vehicle=vehicle, weight=weight, closed=g.mask, group=g.label)
        per_link.append(table)
        idx = np.flatnonzero(g.mask)
        one_per_segment = idx[np.unique(e.segment_code[idx], return_index=True)[1]]
        km_line = float(e.length_m[one_per_segment].sum() / 1000.0)
        row: dict[str, Any] = {
            "group": g.label, "edges": int(g.mask.sum()), "links": len(sub), "km": km_line,
            "links_disconnected": int((~table["connected"] & ~table["closed"]).sum()),
            "max_detour_km": float(table["detour_km"].max()) if table["detour_km"].notna().any() else float("nan"),
        }
        row.update(_ends_alternative(network, state, g, vehicle=vehicle, weight=weight))
        if demand is not None:
            ch = demand.change(np.flatnonzero(g.mask), usable=False)
            row.update({
                "flows": ";".join(ch["flows"]), "trucks_per_day": ch["trucks_per_day"],
                "extra_vehicle_km": ch["delta_vehicle_km"], "extra_truck_hours": ch["delta_truck_hours"],
                "extra_fuel_l": ch["delta_fuel_l"], "extra_cost_usd": ch["delta_cost_usd"],
                "trips_unserved": ch["lost_trips"], "od_disconnected": len(ch["lost_od"]),
            })
        rows.append(row)
    groups_frame = pd.DataFrame(rows)
    if demand is not None and len(groups_frame):
        groups_frame.insert(0, "rank", rank_by(groups_frame["extra_cost_usd"].to_numpy(),
                                             groups_frame["trips_unserved"].to_numpy()))
        groups_frame = by_rank(groups_frame)
    frame = pd.concat(per_link, ignore_index=True) if per_link else pd.DataFrame(columns=list(LINK_COLUMNS))
    return frame, groups_frame


def _ends_alternative(network: Network, state: NetworkState, group: Group, *, vehicle: str,
                      weight: str) -> dict[str, Any]:
    """For a ``ROAD:FROM:TO`` group: the best route FROM -> TO with the group open and closed."""
    parts = group.selector.split(":") if isinstance(group.selector, str) else []
    keys = ("from", "to", "route_km", "route_time_h", "connected", "alt_km", "alt_time_h", "detour_km",
            "extra_time_h")
    if len(parts) != 3:
        return dict.fromkeys(keys)
    a, b = parts[1].strip(), parts[2].strip()
    base = network.route(a, b, vehicle=vehicle, weight=weight, state=state)
    cut = network.route(a, b, vehicle=vehicle, weight=weight, state=state.with_closed(group.mask))
    return dict(zip(keys, (base.origin, base.destination, base.distance_km, base.time_h, cut.reachable,
                           cut.distance_km, cut.time_h, cut.distance_km - base.distance_km,
                           cut.time_h - base.time_h), strict=True))


# -- output ------------------------------------------------------------------------------


def link_lines(network: Network, links: Links, order: Sequence[str]) -> list[Any]:
    """Shapely geometry (the forward edges, as lines) of the links with ids ``order``."""
    import shapely

    pos = {str(k): i for i, k in enumerate(links.ids)}
    e = network.edges
    out = []
    for lid in order:
        i = pos[str(lid)]
        lo, hi = links.ptr[i], links.ptr[i + 1]
        parts = [e.coords(int(x)) for x, f in zip(links.edges[lo:hi], links.forward[lo:hi], strict=True) if f]
        parts = [p for p in parts if len(p) >= 2]
        out.append(shapely.MultiLineString(parts) if parts else None)
    return out


def group_lines(network: Network, mask: np.ndarray) -> Any:
    """Shapely geometry of a group: one line per segment it closes."""
    import shapely

    e = network.edges
    idx = np.flatnonzero(mask)
    _, first = np.unique(e.segment_code[idx], return_index=True)
    parts = [p for p in (e.coords(int(x)) for x in idx[first]) if len(p) >= 2]
    return shapely.MultiLineString(parts) if parts else None


def segment_table(network: Network, links: Links, frame: pd.DataFrame, values: Sequence[str]) -> pd.DataFrame:
    """One row per segment of each link of ``frame``: ``segment``, ``link`` and the link's ``values``
    (the last one last, the column ``routesim map --criticality`` colours by default)."""
    e = network.edges
    pos = {str(k): i for i, k in enumerate(links.ids)}
    rows_link, rows_seg = [], []
    for row, lid in enumerate(frame["link"].tolist()):
        i = pos[str(lid)]
        for code in np.unique(e.segment_code[links.edges_of(i)]).tolist():
            rows_link.append(row)
            rows_seg.append(str(e.segment_names[code]))
    take = frame.iloc[rows_link].reset_index(drop=True)
    out = pd.DataFrame({"segment": rows_seg, "link": take["link"]})
    for col in values:
        out[col] = take[col].to_numpy()
    return out


def write_layers(frame: pd.DataFrame, geometry: Sequence[Any], directory: Path, stem: str) -> list[Path]:
    """``stem.csv`` and ``stem.gpkg`` (layer ``stem``, EPSG:4326) in ``directory``, each written atomically."""
    import geopandas as gpd

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    csv = directory / f"{stem}.csv"
    gpkg = directory / f"{stem}.gpkg"
    with atomic_path(csv) as tmp:
        write_table(frame, tmp)
    gdf = gpd.GeoDataFrame(frame.reset_index(drop=True), geometry=list(geometry), crs="EPSG:4326")
    for col in gdf.columns:
        if gdf[col].dtype == bool:
            gdf[col] = gdf[col].astype(np.int8)
    with atomic_path(gpkg) as tmp:
        tmp.unlink()
        gdf.to_file(tmp, layer=stem, driver="GPKG")
    return [csv, gpkg]
