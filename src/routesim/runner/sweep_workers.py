"""Running the variants of a sweep: one task per variant, on local processes or a Dask cluster.

A task carries a variant's validated scenario (a few kilobytes), never the
network: each worker process loads a network the first time a task names it
and keeps it (:func:`worker_network`, keyed by the network's name or file), so
a sweep of a thousand variants loads the network once per worker. A task
returns the variant's summary rows, or its error: a variant that fails is
reported, and does not stop the others.

The executors keep a bounded number of tasks in flight (twice the number of
worker threads; on Dask at least :data:`DASK_MIN_IN_FLIGHT`), so the memory a
sweep takes does not grow with its size.
"""

from __future__ import annotations

import multiprocessing
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from routesim._util.interrupts import deaf_workers, quiet_worker_interrupts, stop_workers_on_interrupt
from routesim._util.version import __version__
from routesim.errors import InputFileError, RoutesimError
from routesim.io.graphfiles import BUILTIN_NETWORKS, load_network
from routesim.io.scenario_file import LoadedScenario
from routesim.network.graph import Network
from routesim.runner.run import run_scenario
from routesim.runner.validate import check, scenario_network

__all__ = ["VariantOutcome", "VariantTask", "network_key", "run_dask", "run_local", "run_variant", "worker_network"]


@dataclass
class VariantTask:
    """One variant to run: its content hash (``key``) and validated scenario.

    ``runs_dir``: keep the variant's result folder there (``runs_dir/<name>/``;
    on several machines, a folder they all see); ``None`` keeps only its summary.
    """

    key: str
    loaded: LoadedScenario
    runs_dir: str | None = None
    #: The routesim version of the machine that planned the sweep; a worker with another refuses the task.
    version: str = __version__


@dataclass
class VariantOutcome:
    """What a task gives back: the summary rows of the run, or why it failed."""

    key: str
    ok: bool
    summary: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""
    seconds: float = 0.0


#: Networks loaded in this process, by :func:`network_key`.
_NETWORKS: dict[str, Network] = {}
# Dask runs tasks in threads; the network's route caches are not made for
# concurrent use, so a worker process runs one variant at a time.
_LOCK = threading.Lock()


def network_key(loaded: LoadedScenario) -> str:
    """What identifies a scenario's network in a worker: a built-in name, or the file's resolved path."""
    name = loaded.scenario.network
    return name if name in BUILTIN_NETWORKS else str(loaded.resolve(name).resolve())


def worker_network(loaded: LoadedScenario) -> Network:
    """The scenario's network, loaded once per process and kept for the next tasks.

    Raises
    ------
    InputFileError
        When the network cannot be loaded (located at the scenario's ``network`` key).
    """
    key = network_key(loaded)
    if key not in _NETWORKS:
        _NETWORKS[key] = scenario_network(loaded)
    loaded.network = _NETWORKS[key]
    return loaded.network


def preload_networks(keys: Iterable[str]) -> None:
    """Load networks into this process ahead of its first task (a process-pool initializer).

    A network that fails to load is left for the task, which reports it located.
    Ctrl-C is left to the parent, which stops the workers (:mod:`routesim._util.interrupts`).
    """
    quiet_worker_interrupts()
    for key in keys:
        if key in _NETWORKS:
            continue
        try:
            _NETWORKS[key] = load_network(key if key in BUILTIN_NETWORKS else Path(key))
        except RoutesimError:
            continue


def run_variant(task: VariantTask) -> VariantOutcome:
    """Check one variant against its network and run it; any error becomes a failed outcome.

    The run uses one process (``workers=1``): the sweep is what runs in parallel.
    Without ``runs_dir`` the result folder goes to a temporary folder, removed after.
    """
    t0 = time.perf_counter()
    if task.version != __version__:
        return VariantOutcome(task.key, False, error=f"the worker runs routesim {__version__}, the sweep "
                              f"was planned with {task.version}: install the same version on every machine")
    try:
        with _LOCK:
            loaded = task.loaded
            net = worker_network(loaded)
            problems = check(loaded, net)
            if problems:
                raise InputFileError(problems)
            if task.runs_dir is not None:
                _, summary = run_scenario(loaded, out=task.runs_dir, progress=False, workers=1)
            else:
                with tempfile.TemporaryDirectory(prefix="routesim-variant-") as tmp:
                    _, summary = run_scenario(loaded, out=tmp, progress=False, workers=1)
    except RoutesimError as exc:
        return VariantOutcome(task.key, False, error=_one_line(str(exc)), seconds=time.perf_counter() - t0)
    except Exception as exc:  # a sweep reports a broken variant and goes on with the others
        return VariantOutcome(task.key, False, error=_one_line(f"{type(exc).__name__}: {exc}"),
                              seconds=time.perf_counter() - t0)
    return VariantOutcome(task.key, True, summary=summary, seconds=time.perf_counter() - t0)


def _one_line(text: str) -> str:
    return " | ".join(line.strip() for line in text.splitlines() if line.strip())


OnDone = Callable[[VariantOutcome], None]

#: Tasks kept in flight on a Dask cluster at least, however few workers it has yet.
DASK_MIN_IN_FLIGHT = 16


def run_local(tasks: Iterable[VariantTask], *, workers: int, preload: Iterable[str] = (), on_done: OnDone) -> None:
    """Run ``tasks`` in ``workers`` processes of this machine, calling ``on_done`` as each finishes.

    One worker runs the tasks in this process. More start as fresh (``spawn``)
    processes that load the networks named by ``preload`` once, in their
    initializer. A worker process that dies fails the tasks it leaves unfinished.
    """
    if workers <= 1:
        for task in tasks:
            on_done(run_variant(task))
        return
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=preload_networks,
                             initargs=(tuple(preload),)) as pool, stop_workers_on_interrupt(pool):
        pending: dict[Future[VariantOutcome], str] = {}
        source = iter(tasks)
        with deaf_workers():  # the first submissions start the workers: they leave Ctrl-C to this process
            for task in _take(source, 2 * workers):
                pending[pool.submit(run_variant, task)] = task.key
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                key = pending.pop(fut)
                on_done(_outcome(fut, key))
            for task in _take(source, 2 * workers - len(pending)):
                try:
                    pending[pool.submit(run_variant, task)] = task.key
                except RuntimeError as exc:  # a broken pool refuses new tasks
                    on_done(VariantOutcome(task.key, False, error=f"worker process died: {exc}"))


def _outcome(fut: Future[VariantOutcome], key: str) -> VariantOutcome:
    try:
        return fut.result()
    except Exception as exc:  # the worker process died (killed, out of memory)
        return VariantOutcome(key, False, error=_one_line(f"worker process died: {type(exc).__name__}: {exc}"))


def _take(source: Iterator[VariantTask], n: int) -> list[VariantTask]:
    out = []
    for _ in range(max(0, n)):
        task = next(source, None)
        if task is None:
            break
        out.append(task)
    return out


def run_dask(tasks: Iterable[VariantTask], *, address: str | None = None, client: Any = None,
             on_done: OnDone) -> None:
    """Run ``tasks`` on a Dask distributed cluster, calling ``on_done`` as each finishes.

    Parameters
    ----------
    address
        The scheduler (``tcp://HOST:8786``), when ``client`` is not given.
    client
        A ``distributed.Client`` to use (left open); default: one connected to ``address``, closed after.

    Raises
    ------
    RoutesimError
        When Dask is not installed or the scheduler cannot be reached.
    """
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise RoutesimError("the dask executor needs Dask: pip install 'routesim[dask]'") from None
    own = client is None
    if own:
        if not address:
            raise RoutesimError("the dask executor needs --address tcp://HOST:8786 (the scheduler)")
        try:
            client = Client(address, timeout="20s", set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise RoutesimError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    try:
        source = iter(tasks)
        pending = as_completed()
        keys: dict[str, str] = {}

        def top_up() -> None:
            # Workers may join while the sweep runs (a batch queue starting jobs): the window follows them.
            window = max(DASK_MIN_IN_FLIGHT, 2 * sum(client.nthreads().values()))
            for task in _take(source, window - len(keys)):
                fut = client.submit(run_variant, task, key=f"routesim-variant-{task.key}", pure=False)
                keys[fut.key] = task.key
                pending.add(fut)

        top_up()
        for fut in pending:
            key = keys.pop(fut.key)
            try:
                outcome = fut.result()
            except Exception as exc:  # the task's worker died (KilledWorker) or the task was cancelled
                outcome = VariantOutcome(key, False, error=_one_line(f"dask: {type(exc).__name__}: {exc}"))
            fut.release()
            on_done(outcome)
            top_up()
    finally:
        if own:
            client.close()
