"""Send probes through the one dispatch loop, synchronously: the battery and the fuzzer
each hand over a list of prepared requests and get every attempt back. One sender (the
pooled client, or the in-process app transport) stays open for the whole check; each
call runs on the prober's own event loop, so it works from plain code, a hypothesis
test function and a worker thread alike."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from ..delivery.dispatch import Job, Prepared
from ..delivery.pipeline import Pipeline
from ..delivery.retry import Attempt, OnAttempt, Retry
from ..delivery.signing import Signing

POLL = 0.05  # seconds between looks at the stop flag and the deadline while sending


class Stopped(KeyboardInterrupt):
    """The check's ``stop`` flag was set (Ctrl-C or SIGTERM seen by the CLI's handler,
    serve's reset, a client that hung up, shutdown): what was in flight is recorded as
    interrupted. A KeyboardInterrupt, so every layer that keeps a partial result on
    Ctrl-C keeps it here too."""


class OutOfTime(BaseException):  # noqa: N818 - a signal between layers, not an error
    """The prober's ``deadline`` passed mid-send (``fuzz_time`` spent). A BaseException,
    so hypothesis does not take it for a failure of the payload and shrink it."""


class Prober:
    """``with Prober(url, ...) as p: p.send([prepared, ...])``; interrupted by Ctrl-C, the
    attempts in flight are recorded as interrupted and KeyboardInterrupt goes on up."""

    def __init__(
        self,
        url: str,
        *,
        signer: Signing | None,
        timeout: float,
        verify: bool | str = True,
        transport: Any = None,
        on_attempt: OnAttempt | None = None,
        stop: threading.Event | None = None,
        max_connections: int | None = None,
    ) -> None:
        self.url = url
        self.signer = signer
        self.on_attempt = on_attempt
        self.sent = 0  # attempts made, all calls together
        #: set from anywhere (a signal handler, another thread): sending stops within POLL
        self.stop = stop if stop is not None else threading.Event()
        #: a time.monotonic() past which send raises OutOfTime, or None
        self.deadline: float | None = None
        self._loop = asyncio.new_event_loop()
        self._pipeline = self._loop.run_until_complete(
            _open(timeout, verify, transport, url, max_connections)
        )

    def __enter__(self) -> Prober:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._loop.is_closed():
            return
        try:
            self._loop.run_until_complete(self._pipeline.aclose())
        finally:
            self._loop.close()

    def send(self, probes: Sequence[Prepared], *, concurrent: bool = False) -> list[list[Attempt]]:
        """Deliver each probe once (no retries: a check judges the first answer), one
        after another or all at once; the attempts of each, in the probes' order."""
        got: dict[int, list[Attempt]] = {}

        def done(key: int) -> Callable[[Prepared, list[Attempt], float], None]:
            return lambda _p, attempts, _lag: got.__setitem__(key, list(attempts))

        jobs = [Job(None, _const(p), done(i)) for i, p in enumerate(probes)]
        dispatcher = self._pipeline.loop(
            Retry(retries=0),
            self.signer,
            self._count,
            concurrent=concurrent,
            max_in_flight=max(1, len(probes)),
        )
        self._check_flags()
        task = self._loop.create_task(dispatcher.run(jobs))
        try:
            self._loop.run_until_complete(self._watch(task))
        except BaseException:
            task.cancel()
            self._loop.run_until_complete(asyncio.gather(task, return_exceptions=True))
            raise
        return [got.get(i, []) for i in range(len(probes))]

    def _check_flags(self) -> None:
        if self.stop.is_set():
            raise Stopped
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise OutOfTime

    async def _watch(self, task: asyncio.Task[Any]) -> None:
        """Until ``task`` ends; sooner when the stop flag is set or the deadline passes
        (the caller cancels the task: its attempts are recorded as interrupted)."""
        while True:
            done, _ = await asyncio.wait({task}, timeout=POLL)
            if done:
                task.result()
                return
            self._check_flags()

    def _count(self, attempt: Attempt) -> None:
        self.sent += 1
        if self.on_attempt is not None:
            self.on_attempt(attempt)


async def _open(
    timeout: float, verify: bool | str, transport: Any, url: str, max_connections: int | None
) -> Pipeline:
    """The pipeline, made inside the prober's loop (its pool belongs to that loop)."""
    return Pipeline(timeout, verify, transport, url, max_connections)


def _const(prepared: Prepared) -> Callable[[], Prepared]:
    return lambda: prepared
