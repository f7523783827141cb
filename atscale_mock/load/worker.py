"""One worker's load run: open-loop (arrival-rate) or closed-loop (``--rate max``).

Open loop: every request has an intended send time from the schedule. Due requests
wait in a backlog until a connection is free (new connections open up to
``connections``); latency is measured from the intended time, so a slow receiver shows
as latency rather than as fewer requests (no coordinated omission), and the time from
the actual send is kept as service time. What is still in the backlog at the end was
not sent, and is reported as such.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from ..delivery.classify import classify_os_error
from .client import Connection, Target
from .config import WorkerConfig, WorkerResult
from .schedule import arrivals, delayed
from .stats import Interval, new_recorders
from .supply import RequestSupply
from .waker import Waker

LATE_AFTER = 0.010  # seconds of dispatch lag after which a request counts as late
TICK = 0.0002  # with a timerfd: the shortest sleep between two rounds of sends
SPIN = 0.001  # without: the last millisecond before a send is waited by yielding
#: arrivals one dispatch round takes in; the rest wait for the next round, after the
#: loop has read answers, opened connections and heard signals
MAX_PER_DISPATCH = 10_000
MAX_BACKLOG = 200_000  # requests waiting for a connection, at most (memory stays bounded)
GRACE = 1.0  # seconds the backlog may still be served after the schedule ends
FOLD_EVERY = 0.02  # seconds between folds of buffered latencies into the histograms
CONNECT_RETRY = 0.01  # seconds between attempts after a failed connect (closed loop)


class Worker:
    """Runs one worker's share of the load on the current event loop."""

    def __init__(
        self,
        config: WorkerConfig,
        on_snapshot: Callable[[dict[str, Any]], None],
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.c = config
        self.on_snapshot = on_snapshot
        self.clock = clock
        self.target = Target.parse(config.url, config.headers, config.verify)
        self.supply = RequestSupply(config, self.target)
        self.requests: list[bytes] = []  # without faults: requests prepared in batches
        self.idle: list[Connection] = []
        self.conns: set[Connection] = set()
        self.opening = 0
        self.backlog: deque[float] = deque()
        self.closed_loop = not config.phases
        self.stopping = False
        self.t0 = 0.0
        self.current = Interval(index=0)
        self.recorders = new_recorders()
        self.boundary = 0.0  # when the current interval ends (perf_counter time)
        self.result = WorkerResult()
        self.finished = False  # set at the very end: nothing is counted after it
        self.tasks: set[asyncio.Future[None]] = set()
        self.waker: Waker | None = None
        self.schedule: Iterator[float] = iter(())
        self.next_at: float | None = None  # the next arrival, from t0
        self.scheduled: asyncio.Future[None] | None = None  # with a waker: the schedule's end

    # -- payloads and intervals ----------------------------------------------------
    def hand_on(self) -> None:
        """Pass the current interval on, then reset the recorders for the next one (they
        are reused: an hdrh histogram holds a reference cycle, so fresh ones would wait for
        the collector, and memory would grow)."""
        self.on_snapshot(
            self.current.snapshot(
                self.recorders, encode=self.c.encode, closed_loop=self.closed_loop
            )
        )
        for recorder in self.recorders.values():
            recorder.reset()

    def interval_for(self, now: float) -> Interval:
        """The interval ``now`` falls in; finished intervals are handed on as snapshots."""
        if now < self.boundary:
            return self.current
        if self.finished:
            return Interval(index=-1)  # late callbacks after the end count nowhere
        index = int((now - self.t0) / self.c.interval)
        while index > self.current.index:
            self.hand_on()
            self.current = Interval(index=self.current.index + 1)
        self.boundary = self.t0 + (index + 1) * self.c.interval
        return self.current

    # -- sending and settling (the closed loop's hot path is Connection's) -------------
    def send(self, conn: Connection, intended: float, now: float) -> None:
        iv = self.current if now < self.boundary else self.interval_for(now)
        requests = self.requests
        request = requests.pop() if requests else self.next_request(iv)
        lag = now - intended
        iv.sent += 1
        iv.lag.append(lag)
        if lag > LATE_AFTER:
            iv.late += 1
        conn.send(request, intended, now)

    def next_request(self, iv: Interval) -> bytes:
        """The next request when the prepared ones have run out: a new batch, or with
        faults, the next faulted request (faults never use the prepared list)."""
        if self.supply.faulty:
            return self.supply.faulted(iv)
        self.requests = self.supply.batch()
        return self.requests.pop()

    def settled(self, conn: Connection, now: float, error: str | None) -> None:
        """The request on ``conn`` has ended: with ``error``, failed (counted here; a
        response was counted by the connection). The connection takes the next one."""
        if error is not None:
            iv = self.current if now < self.boundary else self.interval_for(now)
            iv.errors[error] += 1
            iv.latency.append(now - conn.intended)
            if not self.closed_loop:
                iv.service.append(now - conn.sent_at)
        if not self.stopping and not conn.closed:
            self.reuse(conn, now)

    def reuse(self, conn: Connection, now: float) -> None:
        if self.closed_loop:
            self.send(conn, now, now)
        elif self.backlog:
            self.send(conn, self.backlog.popleft(), now)
        else:
            self.idle.append(conn)

    def lost(self, conn: Connection) -> None:
        self.conns.discard(conn)
        if conn in self.idle:
            self.idle.remove(conn)
        self.replace_connection()

    def connect(self) -> None:
        """Start opening a connection (counted at once, so no more are started than wanted)."""
        if self.finished:
            return
        self.opening += 1
        task = asyncio.ensure_future(self.open_connection())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def open_connection(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            # awaited in place (not wrapped in a task by wait_for): a timeout that fires
            # before the connect starts leaves no coroutine that was never awaited
            async with asyncio.timeout(self.c.timeout):
                _, conn = await loop.create_connection(
                    lambda: Connection(self),
                    self.target.host,
                    self.target.port,
                    ssl=self.target.ssl,
                )
        except (OSError, TimeoutError) as exc:
            self.connect_failed(classify_os_error(exc)[0])
            self.replace_connection()
            return
        finally:
            self.opening -= 1
        self.result.connections_opened += 1
        self.conns.add(conn)
        if self.stopping:
            conn.close()
        else:
            self.reuse(conn, self.clock())

    def connect_failed(self, error: str) -> None:
        """A request that could not get a connection fails with the connect error."""
        now = self.clock()
        if self.closed_loop:
            intended = now
        elif self.backlog:
            intended = self.backlog.popleft()
        else:
            return
        iv = self.interval_for(now)
        iv.sent += 1
        iv.errors[error] += 1
        iv.latency.append(now - intended)

    # -- loops ---------------------------------------------------------------------
    async def sweep_timeouts(self) -> None:
        while True:
            now = self.clock()
            for conn in list(self.conns):
                if conn.busy and now - conn.sent_at > self.c.timeout:
                    conn.fail("timeout")
            self.interval_for(now).fold_pending(self.recorders)
            await asyncio.sleep(FOLD_EVERY)

    async def run(self) -> WorkerResult:
        self.t0 = self.clock()
        self.boundary = self.t0 + self.c.interval
        sweeper = asyncio.create_task(self.sweep_timeouts())
        try:
            if self.closed_loop:
                await self.closed()
            else:
                await self.open()
        except (asyncio.CancelledError, KeyboardInterrupt):
            # Ctrl-C lands here when it interrupts this coroutine's own code (a busy
            # dispatch round): settle like a cancellation, and return normally
            self.result.interrupted = True
        finally:
            self.stopping = True
            self.result.not_sent = len(self.backlog) + self.result.skipped
            await self.drain()
            sweeper.cancel()
            for task in list(self.tasks):
                task.cancel()
            await asyncio.gather(sweeper, *self.tasks, return_exceptions=True)
            for conn in list(self.conns):
                conn.close()
            self.hand_on()
            self.finished = True
            self.supply.unsent(len(self.requests))
            self.result.events = dict(self.supply.events)
        return self.result

    async def drain(self) -> None:
        """Let requests in flight settle (up to the timeout); then close everything."""
        busy = [c.sent_at for c in self.conns if c.busy]
        deadline = max(busy, default=self.clock()) + self.c.timeout + FOLD_EVERY
        while any(c.busy for c in self.conns) and self.clock() < deadline:
            try:
                await asyncio.sleep(0.005)
            except asyncio.CancelledError:
                self.result.interrupted = True
                break
        now = self.clock()
        for conn in list(self.conns):
            if conn.busy:  # past its own deadline it timed out; else the run was cut
                conn.fail("timeout" if now - conn.sent_at >= self.c.timeout else "interrupted")

    async def closed(self) -> None:
        for _ in range(self.c.connections):
            self.connect()
        await asyncio.sleep(self.c.duration)

    def replace_connection(self) -> None:
        """Closed loop: a lost or failed connection is replaced (after a pause on failure)."""
        if self.closed_loop and not self.stopping:
            asyncio.get_running_loop().call_later(CONNECT_RETRY, self.connect)

    async def open(self) -> None:
        schedule = arrivals(self.c.phases)
        f = self.c.faults
        if f.delay or f.jitter:  # delivery delays shift each intended time (counted)
            schedule = delayed(schedule, f.delay, f.jitter, self.supply.rng)
        self.schedule = schedule
        self.next_at = next(schedule, None)
        # Busy-waiting the last millisecond before each send keeps it on time to a tenth
        # of that, even on a virtual machine whose idle CPUs wake late, but takes a core:
        # a worker does so while the machine has a core for each worker and one more (for
        # the receiver, or the parent). Otherwise it sleeps on a timerfd (sub-millisecond,
        # no busy-waiting), which keeps the monotonic clock's time: only with the real one.
        waker = None
        if not self.c.spin and self.clock is time.perf_counter:
            waker = Waker.create(self.tick)
        if waker is None:
            while self.dispatch():
                await self.sleep_until(self.t0 + self.next_at)  # type: ignore[operator]
        else:
            self.waker = waker
            self.scheduled = scheduled = asyncio.get_running_loop().create_future()
            try:
                self.tick()
                await scheduled
            finally:
                waker.close()
        grace = self.clock() + min(self.c.timeout, GRACE)
        while self.backlog and self.clock() < grace:  # served as connections free up
            await asyncio.sleep(0.001)
        # what is still waiting now is reported as not sent

    def dispatch(self) -> bool:
        """Queue the requests that have fallen due, send as many as connections are free
        for, open connections for the rest; False once the schedule has ended."""
        now = self.clock()
        next_at, schedule, backlog = self.next_at, self.schedule, self.backlog
        budget = MAX_PER_DISPATCH  # a rate beyond this machine must not starve the loop
        while next_at is not None and self.t0 + next_at <= now and budget:
            budget -= 1
            if len(backlog) < MAX_BACKLOG:
                backlog.append(self.t0 + next_at)
            else:  # memory stays bounded: what cannot even wait is not sent
                self.result.skipped += 1
            next_at = next(schedule, None)
        self.next_at = next_at
        while backlog and self.idle:
            self.send(self.idle.pop(), backlog.popleft(), self.clock())
        wanted = min(len(backlog), self.c.connections - len(self.conns) - self.opening)
        for _ in range(max(0, wanted)):
            self.connect()
        if backlog and wanted <= 0 and self.conns:  # due, but every connection is busy
            self.result.pool_exhausted += 1
        return next_at is not None

    def tick(self) -> None:
        """One round on the timerfd: dispatch, then arm it for the next arrival (no
        sooner than TICK from now: at high rates each round sends what fell due since)."""
        scheduled = self.scheduled
        assert scheduled is not None and self.waker is not None
        try:
            if self.dispatch():
                self.waker.arm(max(self.t0 + self.next_at - self.clock(), TICK))  # type: ignore[operator]
            elif not scheduled.done():
                scheduled.set_result(None)
        except Exception as exc:  # to the awaiting task, not to the loop's handler
            if not scheduled.done():
                scheduled.set_exception(exc)

    async def sleep_until(self, when: float) -> None:
        """Without a timerfd: wait by a timer for all but the last millisecond, and by
        yielding to the loop for that."""
        delay = when - self.clock() - SPIN
        if delay > 0:
            await asyncio.sleep(delay)
        else:  # behind schedule: still yield once, so connections open, answers are
            await asyncio.sleep(0)  # read and a signal is heard (never a tight loop)
        while self.clock() < when:
            await asyncio.sleep(0)
