"""Checking a scenario against the network it names, before anything runs."""

from __future__ import annotations

from pathlib import Path

from routesim.control import ControlMap, read_control
from routesim.demand.prices import Series
from routesim.errors import InputFileError, Problem, RoutesimError, SelectorError, UnknownPlaceError
from routesim.events.effects import effect_names
from routesim.events.eventset import load_events
from routesim.events.files import unknown_action
from routesim.io.graphfiles import BUILTIN_NETWORKS, load_network
from routesim.io.scenario_file import LoadedScenario, read_scenario
from routesim.models.scenario import closure_event
from routesim.network.graph import Network


def scenario_network(loaded: LoadedScenario) -> Network:
    """The network a scenario names (``syria`` or a file relative to the scenario), loaded once.

    Raises
    ------
    InputFileError
        Located at the scenario's ``network`` key when the network cannot be loaded.
    """
    if loaded.network is not None:
        return loaded.network
    sc, doc = loaded.scenario, loaded.doc
    source = sc.network if sc.network in BUILTIN_NETWORKS else loaded.resolve(sc.network)
    if isinstance(source, Path) and not source.is_file():
        raise InputFileError([doc.problem(("network",), f"network file not found: {source}")])
    try:
        loaded.network = load_network(source)
    except RoutesimError as exc:
        raise InputFileError([doc.problem(("network",), str(exc))]) from None
    return loaded.network


def load_scenario(path: str | Path, *, check_network: bool = True) -> LoadedScenario:
    """Read, merge (``extends``) and validate a scenario file.

    Parameters
    ----------
    path
        The scenario YAML.
    check_network
        Also load the network it names and check places, selectors and file
        references against it (default ``True``); the network stays with the
        result (``.network``), so a run does not load it again.

    Raises
    ------
    InputFileError
        Every problem as ``file:line: field: problem``.
    """
    loaded = read_scenario(path)
    if check_network:
        problems = check(loaded, scenario_network(loaded))
        if problems:
            raise InputFileError(problems)
    return loaded


def check(loaded: LoadedScenario, net: Network) -> list[Problem]:
    """Semantic checks against ``net``: files exist and are valid (event files with
    their includes, control files, price CSVs), places and selectors resolve,
    actions are registered, dates lie in the period."""
    sc, doc = loaded.scenario, loaded.doc
    problems: list[Problem] = []
    files = []
    for i, f in enumerate(sc.events.files):
        if not loaded.resolve(f).is_file():
            problems.append(doc.problem(("events", "files", i), f"file not found: {loaded.resolve(f)}"))
        else:
            files.append(loaded.resolve(f))
    if files:
        # What the run reads: the files and their includes, selectors resolved on the network.
        try:
            load_events(net, files, builtin=False, control=False)
        except InputFileError as exc:
            problems.extend(exc.problems)
    for i, f in enumerate(sc.events.control_files):
        path = loaded.resolve(f)
        if not path.exists():
            problems.append(doc.problem(("events", "control_files", i), f"not found: {path}"))
            continue
        try:
            ControlMap(net, read_control([path], builtin=False))
        except InputFileError as exc:
            problems.extend(exc.problems)
    for name in ("diesel", "exchange_rate"):
        spec = getattr(sc.costs, name)
        if spec.file and not loaded.resolve(spec.file).is_file():
            problems.append(doc.problem(("costs", name, "file"), f"file not found: {loaded.resolve(spec.file)}"))
        elif spec.file:
            try:
                Series.from_csv(loaded.resolve(spec.file))
            except InputFileError as exc:
                problems.extend(exc.problems)
    for i, d in enumerate(sc.demand):
        nodes = []
        for key in ("origin", "destination"):
            try:
                nodes.append(net.node_index(getattr(d, key)))
            except UnknownPlaceError as exc:
                problems.append(doc.problem(("demand", i, key), str(exc)))
        if len(nodes) == 2 and nodes[0] == nodes[1]:
            problems.append(doc.problem(("demand", i, "destination"), f"same place as the origin ({d.origin})"))
    seen: set[str] = set()
    for i, d in enumerate(sc.demand):
        names = [] if d.id is None else [d.id, *([f"{d.id}-back"] if d.both_directions else [])]
        clash = [x for x in names if x in seen]
        if clash:
            problems.append(doc.problem(("demand", i, "id"), f"flow id {clash[0]!r} is already used"))
        seen.update(names)
    for i, c in enumerate(sc.closures):
        try:
            net.select(closure_event(c, i, sc).selector())
        except SelectorError as exc:
            problems.append(doc.problem(("closures", i, "where"), str(exc)))
        for key in ("date", "end"):
            day = getattr(c, key)
            if day is not None and not (sc.start <= day <= sc.end):
                problems.append(doc.problem(("closures", i, key), f"{day} is outside the period {sc.start} – {sc.end}"))
        if c.date and c.end and c.end <= c.date:
            problems.append(doc.problem(("closures", i, "end"), "must be after date"))
    for i, ev in enumerate(sc.events.inline):
        if ev.action not in effect_names():
            problems.append(doc.problem(("events", "inline", i, "action"), unknown_action(ev.action)))
        try:
            net.select(ev.selector())
        except SelectorError as exc:
            problems.append(doc.problem(("events", "inline", i, "where"), str(exc)))
    problems += what_if_problems(loaded, net)
    return problems


def what_if_problems(loaded: LoadedScenario, net: Network) -> list[Problem]:
    """Holds whose selectors do not resolve, ``exclude``/``shift`` entries that match no library or
    file event, and diesel ``kind``s a price file cannot give."""
    from routesim.demand.prices import scenario_prices
    from routesim.events.files import builtin_library_path, edit_records, read_event_files
    from routesim.models.scenario import hold_event

    sc, doc = loaded.scenario, loaded.doc
    problems: list[Problem] = []
    for i, h in enumerate(sc.events.holds):
        try:
            net.select(hold_event(h, i, sc).selector())
        except SelectorError as exc:
            problems.append(doc.problem(("events", "holds", i, "where"), str(exc)))
    if sc.events.exclude or sc.events.shift:
        paths = [builtin_library_path()] if sc.events.builtin else []
        records, _ = read_event_files([*paths, *(loaded.resolve(f) for f in sc.events.files)])
        _, unmatched = edit_records(records, exclude=sc.events.exclude, shift=sc.events.shift)
        problems += [doc.problem(loc, msg) for loc, msg in unmatched]
    if sc.costs.diesel.kind is not None:
        try:
            scenario_prices(loaded)
        except InputFileError as exc:
            # bad rows and missing files are reported by the checks of the files themselves
            problems.extend(p for p in exc.problems if p.field.endswith("kind"))
        except OSError:
            pass
    return problems
