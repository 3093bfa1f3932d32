"""Parameter sweeps: a sweep file -> variants -> an executor -> tidy tables.

:func:`plan_sweep` reads a sweep file (:class:`routesim.models.sweep.Sweep`) and
expands its axes into variants, each a set of overrides of the base scenario
(:mod:`routesim.runner.overrides`). :func:`run_sweep` resolves each variant
(overrides applied, validated) and names it by the content hash of its resolved
scenario and of the files it reads; variants already done under that hash are
skipped, the others run on local processes or a Dask cluster
(:mod:`routesim.runner.sweep_workers`), and the tables are written
(:mod:`routesim.runner.sweep_tables`).

The result folder ``OUT/<name>/`` holds ``sweep.csv`` and ``sweep.parquet``,
``sensitivity.csv``, ``sweep.json`` (what ran, when, where), ``variants/`` (the
summary of each variant done, by hash: what a rerun skips) and, with
``outputs.runs``, ``runs/<hash>/``: each variant's result folder.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np

from routesim._util import yamlio
from routesim._util.files import atomic_path, write_json
from routesim._util.version import __version__
from routesim.errors import InputFileError, Problem, RoutesimError
from routesim.io.graphfiles import BUILTIN_NETWORKS
from routesim.io.results import ENGINES, write_table
from routesim.io.scenario_file import LoadedScenario, ScenarioDoc, read_scenario_doc
from routesim.models.sweep import Axis, Choice, Distribution, LogNormal, Normal, Samples, Sweep, Triangular, Uniform
from routesim.runner.overrides import Override, override_scenario
from routesim.runner.sweep_tables import VariantRow, normal_rows, sensitivity_table, sweep_table
from routesim.runner.sweep_workers import VariantOutcome, VariantTask, network_key, run_dask, run_local

__all__ = ["MAX_VARIANTS", "SweepPlan", "SweepReport", "Variant", "plan_sweep", "run_sweep", "variant_hash"]

#: A sweep larger than this is refused: its plan alone would not fit in memory.
MAX_VARIANTS = 1_000_000
#: Characters of the content hash that name a variant (its record and result folder).
HASH_CHARS = 16

Executor = Literal["local", "dask"]


@dataclass(frozen=True)
class Variant:
    """One combination of the axes: ``id`` (1-based, in axis order), its parameters and overrides."""

    id: int
    params: dict[str, Any]
    overrides: tuple[Override, ...]


@dataclass
class SweepPlan:
    """A read sweep file: the base scenario, the parameter columns and the variants."""

    sweep: Sweep
    path: Path
    name: str
    base: Path
    columns: list[str]
    variants: list[Variant]
    #: Columns drawn from continuous distributions (cut at their tails in ``sensitivity.csv``).
    continuous: list[str] = field(default_factory=list)
    #: The listed values of each column, for values with no order of their own.
    order: dict[str, list[Any]] = field(default_factory=dict)


@dataclass
class SweepReport:
    """What a sweep did: where its tables are, and how many variants ran, were skipped or failed."""

    directory: Path
    variants: int
    ran: int
    skipped: int
    failed: list[tuple[int, str]]
    warnings: list[str]
    seconds: float


def read_sweep(path: str | Path) -> tuple[Sweep, yamlio.Located]:
    """Parse and validate a sweep file.

    Raises
    ------
    InputFileError
        Every problem as ``file:line: field: problem``.
    """
    located = yamlio.load(path)
    if not isinstance(located.data, dict):
        raise InputFileError([Problem(str(path), 1, "", "a sweep file is a mapping (base, axes, metrics ...)")])
    return yamlio.validate(Sweep, located), located


def plan_sweep(path: str | Path) -> SweepPlan:
    """Read a sweep file and expand its axes into variants (the Cartesian product of the axes).

    Raises
    ------
    InputFileError
        A malformed sweep file, a missing base scenario, an unknown preset or
        a parameter given by two axes, located in the sweep file.
    """
    path = Path(path)
    sweep, located = read_sweep(path)
    base = path.parent / sweep.base
    if not base.is_file():
        raise InputFileError([located.problem(("base",), f"scenario file not found: {base}")])
    problems: list[Problem] = []
    columns: list[str] = []
    continuous: list[str] = []
    order: dict[str, list[Any]] = {}
    entries: list[list[tuple[dict[str, Any], list[Override]]]] = []
    for i, axis in enumerate(sweep.axes):
        try:
            axis_entries = _axis_entries(axis, i, sweep, located)
        except InputFileError as exc:
            problems += exc.problems
            continue
        axis_columns = list(axis_entries[0][0]) if axis_entries else []
        for col in axis_columns:
            if col in columns:
                problems.append(located.problem(("axes", i, axis.kind), f"{col!r} is already swept by another axis"))
            columns.append(col)
            order[col] = [e[0][col] for e in axis_entries]
        if axis.samples is not None:
            draw = axis.samples.draw
            continuous += [Override.from_key(k, None).column for k, d in draw.items() if not isinstance(d, Choice)]
            order.update({Override.from_key(k, None).column: d.values for k, d in draw.items()
                          if isinstance(d, Choice)})
        entries.append(axis_entries)
    if problems:
        raise InputFileError(problems)
    total = 1
    for axis_entries in entries:
        total *= len(axis_entries)
    if total > MAX_VARIANTS:
        raise InputFileError([located.problem(("axes",), f"{total:,} variants; at most {MAX_VARIANTS:,}")])
    fixed = [Override.from_key(k, v, file=str(path), line=located.line(("set", k)), relative_to=str(path.parent))
             for k, v in sweep.set.items()]
    variants = []
    for vid, combo in enumerate(itertools.product(*entries), start=1):
        params: dict[str, Any] = {}
        overrides: list[Override] = list(fixed)
        for p, ovs in combo:
            params.update(p)
            overrides += ovs
        variants.append(Variant(vid, params, tuple(overrides)))
    return SweepPlan(sweep, path, sweep.name or _stem(path), base, columns, variants, continuous, order)


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".yaml", ".yml"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def _axis_entries(axis: Axis, i: int, sweep: Sweep, located: yamlio.Located
                  ) -> list[tuple[dict[str, Any], list[Override]]]:
    """The entries of one axis: (parameters by column, overrides) for each of its values."""
    file = str(located.path)
    folder = str(located.path.parent)

    def make(kind: str, key: str, value: Any) -> Override:
        line = located.line(("axes", i, kind, key))
        if kind == "scale":
            return Override(key.removesuffix("*"), value, scale=True, file=file, line=line)
        return Override.from_key(key, value, file=file, line=line, relative_to=folder)

    if axis.grid is not None or axis.scale is not None:
        kind = "grid" if axis.grid is not None else "scale"
        spec: dict[str, list[Any]] = axis.grid if axis.grid is not None else dict(axis.scale or {})
        keys = list(spec)
        out = []
        for combo in itertools.product(*(spec[k] for k in keys)):
            ovs = [make(kind, k, v) for k, v in zip(keys, combo, strict=True)]
            out.append(({o.column: o.value for o in ovs}, ovs))
        return out
    if axis.zip is not None:
        keys = list(axis.zip)
        out = []
        for values in zip(*(axis.zip[k] for k in keys), strict=True):
            ovs = [make("zip", k, v) for k, v in zip(keys, values, strict=True)]
            out.append(({o.column: o.value for o in ovs}, ovs))
        return out
    if axis.samples is not None:
        return _sample_entries(axis.samples, file, lambda k: located.line(("axes", i, "samples", "draw", k)),
                               folder)
    assert axis.preset is not None
    column = axis.name or "preset"
    problems = []
    out = []
    for j, name in enumerate(axis.preset):
        if name not in sweep.presets:
            close = difflib.get_close_matches(name, list(sweep.presets), n=3, cutoff=0.6)
            hint = f"; did you mean: {', '.join(close)}?" if close else (
                f"; defined: {', '.join(sweep.presets)}" if sweep.presets else "; the file defines no presets")
            problems.append(located.problem(("axes", i, "preset", j), f"unknown preset {name!r}{hint}"))
            continue
        ovs = [Override.from_key(k, v, file=file, line=located.line(("presets", name, k)), relative_to=folder)
               for k, v in sweep.presets[name].items()]
        out.append(({column: name}, ovs))
    if problems:
        raise InputFileError(problems)
    return out


def _sample_entries(samples: Samples, file: str, line: Callable[[str], int | None], folder: str
                    ) -> list[tuple[dict[str, Any], list[Override]]]:
    rng = np.random.default_rng(samples.seed)
    draws = {key: _draw(dist, rng, samples.n) for key, dist in samples.draw.items()}
    out = []
    for j in range(samples.n):
        ovs = [Override.from_key(k, draws[k][j], file=file, line=line(k), relative_to=folder) for k in samples.draw]
        out.append(({o.column: o.value for o in ovs}, ovs))
    return out


def _draw(dist: Distribution, rng: np.random.Generator, n: int) -> list[Any]:
    """``n`` draws of one distribution, as plain Python values."""
    if isinstance(dist, Uniform):
        x = rng.uniform(dist.low, dist.high, n)
    elif isinstance(dist, Triangular):
        x = rng.triangular(dist.low, dist.mode, dist.high, n)
    elif isinstance(dist, Normal):
        x = rng.normal(dist.mean, dist.sd, n)
    elif isinstance(dist, LogNormal):
        x = dist.median * np.exp(dist.sigma * rng.standard_normal(n))
    else:
        assert isinstance(dist, Choice)
        weights = np.asarray(dist.weights if dist.weights is not None else [1.0] * len(dist.values), dtype=float)
        picks = rng.choice(len(dist.values), size=n, p=weights / weights.sum())
        return [dist.values[int(k)] for k in picks]
    return [float(v) for v in x]


def variant_hash(loaded: LoadedScenario, *, file_hashes: dict[str, str] | None = None) -> str:
    """Content hash of a resolved scenario: what it says (but its name) and the bytes of the files it reads.

    Two variants with the same hash run the same study, so a sweep runs it once.
    The routesim version is part of it: a new version reruns everything.

    Parameters
    ----------
    file_hashes
        Hashes of files already read, by path (filled in; a sweep reads each file once).
    """
    cache = {} if file_hashes is None else file_hashes
    sc = loaded.scenario
    refs = [*sc.events.files, *sc.events.control_files]
    refs += [spec.file for spec in (sc.costs.diesel, sc.costs.exchange_rate) if spec.file]
    if sc.network not in BUILTIN_NETWORKS:
        refs.append(sc.network)
    files = {ref: _path_hash(loaded.resolve(ref), cache) for ref in refs}
    payload = {
        "scenario": sc.model_dump(mode="json", exclude={"name", "description"}),
        "files": files,
        "routesim": __version__,
    }
    text = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:HASH_CHARS]


def _path_hash(path: Path, cache: dict[str, str]) -> str:
    key = str(path.resolve())
    if key not in cache:
        digest = hashlib.sha256()
        if path.is_file():
            digest.update(path.read_bytes())
        elif path.is_dir():
            for f in sorted(p for p in path.rglob("*") if p.is_file()):
                digest.update(f.relative_to(path).as_posix().encode() + b"\0" + f.read_bytes())
        else:
            digest.update(b"missing")
        cache[key] = digest.hexdigest()
    return cache[key]


@dataclass
class _Resolved:
    variant: Variant
    hash: str = ""
    error: str = ""


def run_sweep(
    path: str | Path,
    *,
    out: str | Path = "results",
    executor: Executor = "local",
    workers: int | None = None,
    address: str | None = None,
    client: Any = None,
    progress: bool = True,
) -> SweepReport:
    """Run every variant of a sweep file not done before, and write the sweep's tables.

    Parameters
    ----------
    path
        The sweep YAML (:class:`routesim.models.sweep.Sweep`).
    out
        Parent of the result folder ``OUT/<name>/`` (default ``results``).
    executor
        ``local``: processes on this machine (default); ``dask``: a Dask
        distributed cluster (``address`` or ``client``).
    workers
        Local processes (default: one per CPU available; 1 runs in this process).
    address
        The Dask scheduler, ``tcp://HOST:8786``.
    client
        An open ``distributed.Client`` (instead of ``address``; left open).
    progress
        A progress bar with the time left, on a terminal (never when stderr is not one).

    Returns
    -------
    SweepReport
        Failed variants are listed with their errors; they are in the tables too.

    Raises
    ------
    InputFileError
        For a malformed sweep file or base scenario (nothing is run).
    """
    t0 = time.perf_counter()
    started = datetime.now(UTC)
    plan = plan_sweep(path)
    target = Path(out) / plan.name
    records_dir = target / "variants"
    runs_dir = target / "runs" if plan.sweep.outputs.runs else None
    doc, files = read_scenario_doc(plan.base)
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.read_bytes())
    base_sha = digest.hexdigest()

    file_hashes: dict[str, str] = {}
    resolved: list[_Resolved] = []
    networks: dict[str, None] = {}
    for v in plan.variants:
        try:
            loaded = override_scenario(doc, v.overrides, path=plan.base, files=files, sha256=base_sha)
        except InputFileError as exc:
            resolved.append(_Resolved(v, error=" | ".join(str(p) for p in exc.problems)))
            continue
        resolved.append(_Resolved(v, hash=variant_hash(loaded, file_hashes=file_hashes)))
        networks[network_key(loaded)] = None

    def done(h: str) -> bool:
        return (records_dir / f"{h}.json").is_file() and (runs_dir is None or (runs_dir / h).is_dir())

    todo: list[_Resolved] = []
    seen: set[str] = set()
    for r in resolved:
        if r.hash and r.hash not in seen:
            seen.add(r.hash)
            if not done(r.hash):
                todo.append(r)
    skipped = len(seen) - len(todo)

    outcomes: dict[str, VariantOutcome] = {}
    if todo:
        n_workers = workers or _cpus()
        label = f"{plan.name}: {len(todo)} variant(s)" + (f", {skipped} done before" if skipped else "")
        with _Progress(label, len(todo), enabled=progress) as bar:
            def on_done(outcome: VariantOutcome) -> None:
                outcomes[outcome.key] = outcome
                if outcome.ok:
                    _write_record(records_dir / f"{outcome.key}.json", outcome)
                bar.advance()

            tasks = _tasks(todo, doc, files, base_sha, plan.base, runs_dir)
            if executor == "dask":
                run_dask(tasks, address=address, client=client, on_done=on_done)
            elif executor == "local":
                run_local(tasks, workers=min(n_workers, len(todo)), preload=list(networks), on_done=on_done)
            else:
                raise RoutesimError(f"unknown executor {executor!r}; use local or dask")

    rows: list[VariantRow] = []
    for r in resolved:
        v = r.variant
        if r.error:
            rows.append(VariantRow(v.id, v.params, "", False, [], r.error))
        elif r.hash in outcomes and not outcomes[r.hash].ok:
            rows.append(VariantRow(v.id, v.params, r.hash, False, [], outcomes[r.hash].error))
        else:
            rows.append(VariantRow(v.id, v.params, r.hash, True, _read_record(records_dir / f"{r.hash}.json")))
    keep = _metric_filter(plan.sweep.metrics)
    table = sweep_table(rows, plan.columns, keep=keep)
    warnings = _unmatched_metrics(plan.sweep.metrics, rows)
    with atomic_path(target / "sweep.csv") as tmp:
        write_table(table, tmp)
    with atomic_path(target / "sweep.parquet") as tmp:
        write_table(table, tmp)
    if plan.sweep.outputs.sensitivity:
        sens = sensitivity_table(table, plan.columns, continuous=plan.continuous, order=plan.order)
        with atomic_path(target / "sensitivity.csv") as tmp:
            write_table(sens, tmp)
    failed = [(row.id, row.error) for row in rows if not row.ok]
    seconds = time.perf_counter() - t0
    with atomic_path(target / "sweep.json") as tmp:
        write_json(tmp, {
            "sweep": str(plan.path),
            "base": str(plan.base),
            "base_sha256": base_sha,
            "routesim_version": __version__,
            "variants": len(plan.variants),
            "distinct_scenarios": len(seen),
            "ran": len(outcomes),
            "skipped": skipped,
            "failed": len(failed),
            "executor": executor,
            "workers": workers if executor == "local" else None,
            "address": address if executor == "dask" else None,
            "started": started.isoformat(),
            "finished": datetime.now(UTC).isoformat(),
            "duration_s": round(seconds, 3),
            "columns": plan.columns,
            "warnings": warnings,
        })
    return SweepReport(target, len(plan.variants), len(outcomes), skipped, failed, warnings, seconds)


def _tasks(todo: list[_Resolved], doc: ScenarioDoc, files: list[Path], base_sha: str, base: Path,
           runs_dir: Path | None) -> Iterator[VariantTask]:
    """Tasks built as the executor asks for them, so a large sweep holds few resolved scenarios at once."""
    for r in todo:
        loaded = override_scenario(doc, r.variant.overrides, path=base.resolve(), files=files, sha256=base_sha)
        sc = loaded.scenario
        update: dict[str, Any] = {"name": r.hash}
        if runs_dir is None:
            # Only the summary is kept: no trip table to write and delete.
            update["outputs"] = sc.outputs.model_copy(update={"trips": False})
        loaded.scenario = sc.model_copy(update=update)
        yield VariantTask(r.hash, loaded, None if runs_dir is None else str(runs_dir.resolve()))


def _write_record(path: Path, outcome: VariantOutcome) -> None:
    with atomic_path(path) as tmp:
        write_json(tmp, {"hash": outcome.key, "summary": normal_rows(outcome.summary),
                         "seconds": round(outcome.seconds, 3), "routesim_version": __version__})


def _read_record(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RoutesimError(f"{path}: unreadable variant record ({exc}); delete it to run the variant again"
                            ) from None
    return normal_rows(data["summary"])


def _metric_filter(metrics: list[str]) -> list[tuple[str | None, str]]:
    out: list[tuple[str | None, str]] = []
    for m in metrics:
        engine, dot, name = m.partition(".")
        out.append((engine, name) if dot and engine in ENGINES else (None, m))
    return out


def _unmatched_metrics(metrics: list[str], rows: list[VariantRow]) -> list[str]:
    have = {(r["engine"], r["metric"]) for row in rows if row.ok for r in row.summary}
    if not have:
        return []
    names = sorted({f"{e}.{m}" for e, m in have} | {m for _, m in have})
    warnings = []
    for text, (engine, metric) in zip(metrics, _metric_filter(metrics), strict=True):
        if not any((engine is None or engine == e) and metric == m for e, m in have):
            close = difflib.get_close_matches(text, names, n=3, cutoff=0.6)
            hint = f"; did you mean: {', '.join(close)}?" if close else ""
            warnings.append(f"metrics: {text!r} is in no variant's summary{hint}")
    return warnings


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class _Progress:
    """A rich progress bar with the time left, on a terminal only."""

    def __init__(self, label: str, total: int, *, enabled: bool) -> None:
        self.label, self.total = label, total
        self.enabled = enabled and sys.stderr.isatty()
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                                 console=Console(stderr=True), transient=True)
            self._bar.__enter__()
            self._task = self._bar.add_task(self.label, total=self.total)
        return self

    def advance(self) -> None:
        if self._bar is not None:
            self._bar.advance(self._task)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
