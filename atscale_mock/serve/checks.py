"""``POST /_mock/checks``: each check on a thread of its own, never on the pool the
journal's queries use, at most :data:`MAX_CHECKS` at once (:class:`Busy` past that,
answered 429). A check stops within 50 ms when its client hangs up, on reset and at
shutdown (:class:`CheckStopped`, answered 503): nothing keeps serve from exiting."""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import threading
from collections.abc import Awaitable, Callable
from typing import Any

MAX_CHECKS = 2  # checks running at once; more get 429


class Busy(Exception):
    """Every check slot is taken: the caller is told to try again (429)."""


class CheckStopped(Exception):
    """A check was stopped before its end (reset, shutdown): no scorecard (503)."""


class Checks:
    """The checks one serve runs."""

    def __init__(self) -> None:
        self.running: set[threading.Event] = set()  # the stop flags of running checks
        self._pool = concurrent.futures.ThreadPoolExecutor(MAX_CHECKS, "serve-check")

    async def run(
        self, options: dict[str, Any], gone: Callable[[], Awaitable[bool]] | None = None
    ) -> Any:
        """:func:`atscale_mock.check` with ``options``: its scorecard. Busy when
        MAX_CHECKS run already; CheckStopped when ``gone()`` says the caller hung up, or
        :meth:`stop_all` was called."""
        from ..api.check import check

        if len(self.running) >= MAX_CHECKS:
            raise Busy(f"{MAX_CHECKS} checks are running; try again when one ends")
        stop = threading.Event()
        self.running.add(stop)
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._pool, functools.partial(check, **options, stop=stop))
        try:
            while True:
                done, _ = await asyncio.wait({future}, timeout=0.25)
                if done:
                    break
                if gone is not None and await gone():
                    stop.set()
                    await asyncio.wait({future})
                    raise CheckStopped("the client hung up")
            if stop.is_set():  # reset or shutdown: nobody wants a partial card
                raise CheckStopped("stopped: serve was reset or is shutting down")
            return future.result()
        except asyncio.CancelledError:
            stop.set()
            raise
        finally:
            self.running.discard(stop)

    def stop_all(self) -> None:
        for stop in list(self.running):
            stop.set()

    def close(self) -> None:
        self.stop_all()
        self._pool.shutdown(wait=False, cancel_futures=True)
