"""Ctrl-C and worker processes: the command stops its workers, which print nothing.

A terminal sends SIGINT to every process of the foreground job, so the worker
processes of ``routesim run --workers 2`` get Ctrl-C as well as the command.
Left with Python's default handler, each would print a ``KeyboardInterrupt``
traceback of whatever it was importing or computing, and a worker that dies
while its pool is still starting others breaks the pool in ways that raise
more errors (a parent blocked writing to a dead worker's pipe, closed
descriptors in the next start).

So the command alone handles Ctrl-C. Workers are started inside
:func:`deaf_workers`: SIGINT is blocked in the starting thread for the moment
it takes to start them, and a new process inherits the blocked signal, so
Ctrl-C cannot reach a worker's start-up; the worker's initializer then ignores
it for good (:func:`quiet_worker_interrupts`). The command, on
``KeyboardInterrupt``, terminates its workers and drops their queued work
(:func:`stop_workers_on_interrupt`) instead of waiting for them, reports
``routesim: interrupted`` and exits with 130. A Ctrl-C that reaches the command
while the workers start is delivered as soon as they have started.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import NoReturn

#: Set to the process id of a process while it starts workers; the workers inherit it.
PARENT_VARIABLE = "ROUTESIM_WORKER_PARENT"


def _can_mask() -> bool:
    return hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread()


@contextmanager
def deaf_workers() -> Iterator[None]:
    """Start worker processes in this block: they begin with Ctrl-C blocked (see the module notes).

    Without ``pthread_sigmask`` (not POSIX), or outside the main thread, the
    block changes nothing.
    """
    if not _can_mask():
        yield
        return
    os.environ[PARENT_VARIABLE] = str(os.getpid())
    # Blocking the signal in this thread is not enough for this process: another thread may take it, and
    # Python then raises KeyboardInterrupt here, in the middle of starting a worker. So it is deferred.
    caught: list[int] = []
    handler = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        signal.signal(signal.SIGINT, handler)
    if caught:
        if callable(handler):
            handler(signal.SIGINT, None)
        elif handler == signal.SIG_DFL:
            raise KeyboardInterrupt


def quiet_worker_interrupts() -> bool:
    """In a worker started by :func:`deaf_workers`, ignore Ctrl-C from now on: its parent stops it.

    Call it from the initializer of a process pool. Elsewhere (a command itself,
    a user's own processes) it does nothing and Ctrl-C stays a ``KeyboardInterrupt``.

    Returns
    -------
    bool
        Whether this is such a worker (SIGINT is now ignored).
    """
    if os.environ.get(PARENT_VARIABLE) != str(os.getppid()) or not _can_mask():
        return False
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A Ctrl-C that came while the signal was blocked is pending: unblocked now, it is ignored.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    return True


@contextmanager
def stop_workers_on_interrupt(pool: ProcessPoolExecutor) -> Iterator[ProcessPoolExecutor]:
    """On ``KeyboardInterrupt`` in the block, terminate ``pool``'s workers and cancel its queued work.

    Enter it inside the pool's own ``with``, so the pool's shutdown that follows
    finds the workers gone instead of waiting for their work to finish.
    """
    try:
        yield pool
    except KeyboardInterrupt:
        # concurrent.futures has no public call that stops running work; its process table is the only handle.
        processes = dict(getattr(pool, "_processes", None) or {})
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes.values():
            if process.is_alive():
                process.terminate()
        for process in processes.values():
            process.join(timeout=5)
        raise


def exit_interrupted(status: int, *, grace_s: float = 2.0) -> NoReturn:
    """Exit after Ctrl-C with ``status``, even when a pool's thread cannot finish.

    A worker terminated while it was sending its result leaves the pool's
    manager thread waiting for the rest of the message forever, and Python waits
    for that thread before it exits. So threads get ``grace_s`` seconds (default
    2) to end; if one is still running then, the process ends at once, its
    output flushed (temporary files are gone by now: the writers' ``finally``
    blocks have run), after what a normal exit does first and cannot block on
    (the pool's semaphores unlinked).
    """
    deadline = time.monotonic() + grace_s
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join(max(0.0, deadline - time.monotonic()))
    if any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        # What a normal exit would do first and that cannot block: unlink the pool's semaphores (else the
        # resource tracker warns of leaked ones), flush the output.
        import multiprocessing.util

        try:
            multiprocessing.util._run_finalizers(0)  # type: ignore[attr-defined]
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)
    sys.exit(status)
