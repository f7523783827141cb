"""Run a load test with one or more worker processes and merge what they measure.

Each worker gets an equal share of the rate and the connections and its own seed, and
streams one snapshot per interval (counters and encoded histograms) to the parent,
which merges them into :class:`~atscale_mock.load.stats.Totals`. Ctrl-C and SIGTERM
stop every worker; what they measured up to then is kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from .config import LoadConfig, WorkerConfig, WorkerResult
from .stats import Totals
from .worker import Worker

__all__ = ["LoadConfig", "LoadResult", "run_load"]


@dataclass
class LoadResult:
    config: LoadConfig
    totals: Totals
    elapsed: float
    workers: list[WorkerResult] = field(default_factory=list)

    @property
    def interrupted(self) -> bool:
        return any(w.interrupted for w in self.workers)

    @property
    def not_sent(self) -> int:
        return sum(w.not_sent for w in self.workers)

    @property
    def pool_exhausted(self) -> int:
        return sum(w.pool_exhausted for w in self.workers)

    @property
    def events(self) -> dict[str, int]:
        """Requests written, by event, over every worker."""
        total: Counter[str] = Counter()
        for w in self.workers:
            total.update(w.events)
        return dict(total)


Progress = Callable[[Totals, float], None]


def run_load(
    config: LoadConfig, progress: Progress | None = None, freeze_gc: bool = False
) -> LoadResult:
    from ..receiver.http_server import raise_fd_limit

    raise_fd_limit()  # every connection is a descriptor (workers inherit the limit)
    totals = Totals(interval=config.interval, workers=config.processes)
    start = time.perf_counter()

    def on_snapshot(snap: dict[str, Any]) -> None:
        totals.add(snap)
        if progress:
            progress(totals, time.perf_counter() - start)

    if config.processes == 1:
        worker = replace(config.worker(0), encode=False)
        results = [_run_worker_here(worker, on_snapshot, freeze_gc=freeze_gc)]
    else:
        results = _run_processes(config, on_snapshot)
    return LoadResult(config, totals, time.perf_counter() - start, results)


def _run_worker_here(
    config: WorkerConfig,
    on_snapshot: Callable[[dict[str, Any]], None],
    own: bool = False,
    freeze_gc: bool = False,
) -> WorkerResult:
    """Run one worker on a new event loop. In the caller's process (``own`` False) it
    touches neither signals nor the collector: Ctrl-C (KeyboardInterrupt) cancels the
    worker, which settles and returns what it measured. In a worker process of ours
    (``own``), SIGINT and SIGTERM cancel it. Setup objects (templates, Faker's data)
    are frozen out of the collector's work for shorter pauses in a worker process, or
    when the caller asks (``freeze_gc``: the CLI, which owns its process)."""
    from .client import new_event_loop

    loop = new_event_loop()
    try:
        worker = Worker(config, on_snapshot)
        task = loop.create_task(worker.run())
        if own or freeze_gc:
            gc.collect()
            gc.freeze()
        if own:
            cancelled: list[bool] = []

            def stop() -> None:  # once: a second cancel would cut the settling short
                if not cancelled:
                    cancelled.append(True)
                    task.cancel()

            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                    loop.add_signal_handler(sig, stop)
            # the parent forked this process with both signals blocked; they are taken
            # once the worker's first step has run (inside its try: a signal then
            # settles it; before, it would cancel a coroutine never started)
            loop.call_soon(_unblock_signals)
        restore = None if own else _cancel_on_sigint(loop, task)
        try:
            return loop.run_until_complete(task)
        except KeyboardInterrupt:
            if task.done():  # it settled as the interrupt went by: do not run the loop again
                worker.result.interrupted = True
                return worker.result
            task.cancel()
            return loop.run_until_complete(task)
        finally:
            if restore is not None:
                signal.signal(signal.SIGINT, restore)
    finally:
        if own or freeze_gc:
            gc.unfreeze()
        loop.close()


def _cancel_on_sigint(loop: asyncio.AbstractEventLoop, task: asyncio.Task[Any]) -> Any:
    """What ``asyncio.run`` does for Ctrl-C, for this loop: the first SIGINT cancels the
    worker (it settles and returns what it measured), a second raises KeyboardInterrupt.
    A KeyboardInterrupt raised wherever the signal lands could be swallowed (a
    finaliser runs at that moment, say) and leave the run going. Only when SIGINT has
    its default handler, on the main thread; the caller restores the one returned."""
    import threading

    from ..interrupts import held, is_holding

    if threading.current_thread() is not threading.main_thread():
        return None
    current = signal.getsignal(signal.SIGINT)
    if current is not signal.default_int_handler and not is_holding(current):
        return None
    heard = [0]

    def on_sigint(signum: int, frame: Any) -> None:
        heard[0] += 1
        if heard[0] == 1 and not task.done():
            loop.call_soon_threadsafe(task.cancel)
            return
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_sigint)
    if held(current):  # Ctrl-C during start-up: the worker's first step, then settle
        on_sigint(signal.SIGINT, None)
    return signal.default_int_handler


_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _block_signals() -> Any:
    """Block SIGINT and SIGTERM in this thread (a child forked now inherits the mask);
    the previous mask, or None where there are no masks."""
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - Windows
        return None
    return signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)


def _unblock_signals() -> None:
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)


def _child(config: WorkerConfig, queue: Any) -> None:
    """A worker process: stream snapshots, then its result."""
    try:
        result = _run_worker_here(config, lambda snap: queue.put(("snap", snap)), own=True)
    except BaseException as exc:  # reported to the parent, never a traceback here
        queue.put(("error", f"{type(exc).__name__}: {exc}"))
        return
    queue.put(("done", result))


def _run_processes(
    config: LoadConfig, on_snapshot: Callable[[dict[str, Any]], None]
) -> list[WorkerResult]:
    import multiprocessing as mp

    ctx: Any = mp.get_context("fork" if os.name == "posix" else "spawn")
    queue = ctx.Queue()
    procs = [
        ctx.Process(target=_child, args=(config.worker(i), queue), daemon=True)
        for i in range(config.processes)
    ]
    heard = _ParentSignals(procs)
    previous = _block_signals()  # until every worker has started: none is half-made
    try:
        for p in procs:
            p.start()
        heard.install()  # a signal pending since is delivered to it below
    finally:
        if previous is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    results: list[WorkerResult] = []
    errors: list[str] = []
    deadline = time.monotonic() + config.duration + config.timeout + 30
    try:
        while len(results) + len(errors) < len(procs) and time.monotonic() < deadline:
            try:
                kind, value = queue.get(timeout=0.5)
            except Exception:  # queue.Empty: check that the workers are alive
                if not any(p.is_alive() for p in procs) and queue.empty():
                    break
                continue
            if kind == "snap":
                on_snapshot(value)
            elif kind == "done":
                results.append(value)
            else:
                errors.append(value)
    finally:
        heard.restore()
        for p in procs:
            p.join(timeout=5)
            if p.is_alive():
                p.kill()
    interrupted = heard.count > 0
    if interrupted:
        for r in results:
            r.interrupted = True
    if errors:
        from ..errors import AtscaleMockError

        raise AtscaleMockError("a load worker failed: " + "; ".join(errors))
    return results


class _ParentSignals:
    """While the workers run, SIGINT (and SIGTERM or --max-time, which the CLI turns
    into it) is heard, not raised where it lands: the first is passed on to the
    workers as SIGTERM (each settles and sends what it measured), a second raises
    KeyboardInterrupt. A KeyboardInterrupt in the middle of a queue read or a progress
    redraw lost the summary."""

    def __init__(self, procs: list[Any]) -> None:
        self.procs = procs
        self.count = 0
        self.previous: Any = None
        self.installed = False

    def install(self) -> None:
        import threading

        from ..interrupts import held, is_holding

        if threading.current_thread() is not threading.main_thread():
            return
        self.previous = signal.signal(signal.SIGINT, self.heard)
        self.installed = True
        if is_holding(self.previous):  # the CLI held signals since start-up
            pending = held(self.previous)
            self.previous = signal.default_int_handler
            if pending:
                self.heard(signal.SIGINT, None)

    def heard(self, signum: int, frame: Any) -> None:
        self.count += 1
        if self.count > 1:
            raise KeyboardInterrupt
        for p in self.procs:
            if p.is_alive() and p.pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(p.pid, signal.SIGTERM)

    def restore(self) -> None:
        if self.installed:
            signal.signal(signal.SIGINT, self.previous)
            self.installed = False
