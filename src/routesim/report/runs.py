"""Result folders as a report reads them: the scenario, its tables, and the dates roads closed or reopened."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date as Date
from pathlib import Path
from typing import Any

import pandas as pd

from routesim._util.dates import parse_date
from routesim.errors import RoutesimError
from routesim.io.results import read_table, run_name
from routesim.network.graph import Network


@dataclass
class RunFolder:
    """One result folder of ``routesim run``.

    Attributes
    ----------
    path, name
        The folder and the scenario's name.
    scenario
        The resolved scenario of the manifest (``extends`` merged).
    manifest
        ``manifest.json`` as read.
    summary, od, segments
        The tables of the same names.
    daily
        ``daily.csv``, or ``None`` for a run without simulation.
    """

    path: Path
    name: str
    scenario: dict[str, Any]
    manifest: dict[str, Any]
    summary: pd.DataFrame
    od: pd.DataFrame
    segments: pd.DataFrame
    daily: pd.DataFrame | None

    @property
    def period(self) -> tuple[Date, Date]:
        """First day and the day after the last."""
        p = self.scenario.get("period") or {}
        if p.get("start") and p.get("end"):
            return parse_date(p["start"]), parse_date(p["end"])
        day = parse_date(self.scenario.get("date") or "2010-01-01")
        return day, day

    @property
    def map_date(self) -> Date:
        """The day a map of the run shows: the scenario's ``date``, else the first day of its period."""
        return parse_date(self.scenario["date"]) if self.scenario.get("date") else self.period[0]

    @property
    def network(self) -> str:
        return str(self.scenario.get("network") or "syria")


def load_run(path: str | Path) -> RunFolder:
    """Read a result folder (see :class:`RunFolder`); a missing or partial folder is an error naming it."""
    folder = Path(path)
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        raise RoutesimError(f"{folder}: not a complete routesim result (no manifest.json)")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RoutesimError(f"{manifest_path}: unreadable manifest: {exc}") from None
    daily = read_table(folder, "daily.csv") if (folder / "daily.csv").is_file() else None
    return RunFolder(
        path=folder, name=run_name(folder), scenario=dict(manifest.get("resolved_scenario") or {}),
        manifest=manifest, summary=read_table(folder, "summary.csv"), od=read_table(folder, "od.csv"),
        segments=read_table(folder, "segments.csv"), daily=daily,
    )


def run_network(path: str | Path) -> str:
    """The network a result folder was run on (its scenario's ``network``, default ``syria``)."""
    return load_run(path).network


@dataclass(frozen=True)
class Mark:
    """A date to mark on a chart: an event closing roads, or one ending (reopening)."""

    day: Date
    kind: str
    event: str


def event_marks(network: Network, start: Date, end: Date) -> list[Mark]:
    """Closures starting and reopenings (a closure ending, an ``open`` event starting) within ``[start, end)``.

    The events are the network's default events (the built-in library for a
    built-in network); the ground's changes are not marked (there are hundreds).
    """
    source = network.default_events
    events = getattr(source, "events", None) or []
    marks = []
    for ev in events:
        if ev.action == "close" and start <= ev.date < end:
            marks.append(Mark(ev.date, "closed", ev.id))
        if ev.action == "close" and ev.end is not None and start <= ev.end < end:
            marks.append(Mark(ev.end, "reopened", ev.id))
        if ev.action == "open" and start <= ev.date < end:
            marks.append(Mark(ev.date, "reopened", ev.id))
    return sorted(marks, key=lambda m: (m.day, m.kind, m.event))


def daily_means(daily: pd.DataFrame) -> pd.DataFrame:
    """``daily.csv`` averaged over replications, indexed by date."""
    frame = daily.copy()
    frame["date"] = pd.to_datetime(frame["date"])
    numeric = [c for c in frame.columns if c not in ("date", "replication")]
    return frame.groupby("date")[numeric].mean()
