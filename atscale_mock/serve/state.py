"""The mock engine behind ``serve``: subscriptions, triggers, scenario runs and engine
faults. Every delivery goes through the library's one pipeline
(:func:`atscale_mock.api.deliver.adeliver`); every attempt lands in the journal and is
told to the console's listeners."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..api.deliver import adeliver
from ..delivery.pipeline import Pipeline
from ..delivery.retry import Attempt
from ..delivery.signing import new_message_id
from ..delivery.transport import Sender
from ..events.catalogue import Event
from ..events.make import batch_of, payload
from ..events.payload import encode, resolve_event
from ..events.versions import LATEST, Catalogue, catalogue
from .checks import Checks
from .destinations import Destinations
from .hops import FanOut, FaultySender
from .journal import Context, Journal
from .model import FaultRule, Subscription, Trigger
from .params import PostedEnvironment

FANOUT_URL = "http://127.0.0.1/_mock/fanout"  # nominal: a scenario run's hop never leaves
MAX_RUNS_KEPT = 100  # ended runs listed by GET /_mock/scenarios; older ones are forgotten
MIN_CYCLE = 0.5  # seconds a continuous run's cycle takes at least (an empty one spun)
SLOTS_PER_ORIGIN = 64  # attempts in flight to one receiver (the sender's pool size)


@dataclass
class Run:
    """A scenario run: ``continuous`` ones start again (next seed) until stopped."""

    id: str
    name: str
    continuous: bool = False
    status: str = "running"  # running, finished, failed, stopped
    started: float = field(default_factory=time.time)
    ended: float | None = None
    cycles: int = 0
    deliveries: int = 0
    error: str | None = None
    task: asyncio.Task[None] | None = None
    stopping: bool = False  # arun returns (marked interrupted) when cancelled

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "continuous": self.continuous,
            "status": self.status,
            "started": self.started,
            "ended": self.ended,
            "cycles": self.cycles,
            "deliveries": self.deliveries,
            "error": self.error,
        }


class ServeState:
    """State of one ``serve``: what is subscribed, what runs, what misbehaves."""

    def __init__(
        self,
        journal: Journal,
        scenarios: dict[str, Path] | None = None,
        verify: bool | str = True,
        on_error: Callable[[str], None] | None = None,
        scenario_env: Iterable[str] = (),
    ) -> None:
        self.journal = journal
        self.redactor = journal.redactor
        self.scenarios = dict(scenarios or {})
        self.verify = verify
        self.subs: dict[str, Subscription] = {}
        #: the AtScale version whose events it sends (serve --atscale-version)
        self.catalogue: Catalogue = catalogue(None)
        self.faults: dict[str, FaultRule] = {}
        self.runs: dict[str, Run] = {}
        self.listeners: set[asyncio.Queue[dict[str, Any]]] = set()
        self.on_error = on_error
        self._tasks: set[asyncio.Task[Any]] = set()
        self._pipelines: dict[float, Pipeline] = {}  # one per timeout, shared by deliveries
        #: where deliveries may go; set once serve knows its own address
        self.destinations: Destinations | None = None
        self.scenario_env = tuple(scenario_env)
        self._slots: dict[str, asyncio.Semaphore] = {}
        self.checks = Checks()  # POST /_mock/checks, each on a thread of its own
        # parsing a posted scenario: off the event loop, never on the journal's pool
        self._parse_pool = concurrent.futures.ThreadPoolExecutor(1, "serve-parse")

    @property
    def atscale_version(self) -> str | None:
        """The version serve was started with (None: the latest)."""
        return None if self.catalogue.version == LATEST else self.catalogue.version

    # subscriptions ---------------------------------------------------------------
    def subscribe(self, sub: Subscription) -> Subscription:
        if self.destinations is not None:
            self.destinations.check(sub.url)
        if sub.signing:
            self.redactor.add(sub.signing.secret)
        self.redactor.learn_headers(dict(sub.headers))
        self.subs[sub.id] = sub
        return sub

    def unsubscribe(self, sub_id: str) -> bool:
        return self.subs.pop(sub_id, None) is not None

    # triggers ----------------------------------------------------------------------
    def trigger(self, event: str, asked: Trigger) -> list[str]:
        """Build one payload of ``event`` and deliver it to every matching subscription;
        the delivery ids, at once (the deliveries go on in the background)."""
        ev = self.catalogue.require(resolve_event(event))
        body = payload(ev.name, seed=asked.seed, payload_options=asked.made)
        encode(body)  # a value JSON cannot carry is refused now (422), never journaled
        return self._launch(self._plan(ev, body))

    def lifecycle(self, asked: Trigger, prune: bool) -> dict[str, list[str]]:
        """batch-start, then its batch-result (then prune-result), naming one batch;
        each stage starts when the one before has been delivered."""
        start = payload("batch-start", seed=asked.seed, payload_options=asked.made)
        named = replace(asked.made, set={**asked.made.set, **batch_of(start)})
        stages = [
            ("batch-start", start),
            ("batch-result", payload("batch-result", seed=asked.seed, payload_options=named)),
        ]
        if prune:
            self.catalogue.require(resolve_event("prune-result"), "prune: ")
            pruned = payload("prune-result", seed=asked.seed, payload_options=named)
            stages.append(("prune-result", pruned))
        plans = [self._plan(resolve_event(name), body) for name, body in stages]

        async def in_order() -> None:
            for plan in plans:
                await asyncio.gather(*(self._track(self._deliver(*p)) for p in plan))

        self._track(in_order())
        return {name: [p[3] for p in plan] for (name, _), plan in zip(stages, plans, strict=True)}

    def replay(self, delivery_id: str) -> str:
        """Send a journaled delivery again: the same payload and ``webhook-id`` to the
        same subscription (a duplicate, as a retrying engine makes one)."""
        rows = self.journal.query(delivery_id=delivery_id, limit=1)
        if not rows:
            raise LookupError(f"no delivery {delivery_id!r}")
        row = rows[0]
        sub = self.subs.get(row["webhook_id"] or "")
        if sub is None:
            raise LookupError(f"webhook {row['webhook_id']!r} of that delivery is gone")
        ev = resolve_event(row["event"])
        new_id = uuid.uuid4().hex[:16]
        msg_id = row["message_id"] or new_message_id()
        body = row["payload"]
        self._launch([(sub, ev, body, new_id, msg_id, row["run_id"], _schema_ok(ev, body))])
        return new_id

    Plan = list[tuple[Subscription, Event, Any, str, str, str | None, bool]]

    def _plan(
        self, ev: Event, body: Any, msg_id: str | None = None, run_id: str | None = None
    ) -> ServeState.Plan:
        """One delivery per subscription that wants the event; the payload is checked
        against its schema once, whatever the number of subscriptions."""
        wanting = [sub for sub in list(self.subs.values()) if sub.wants(ev, body)]
        if not wanting:
            return []
        schema_ok = _schema_ok(ev, body)
        return [
            (sub, ev, body, uuid.uuid4().hex[:16], msg_id or new_message_id(), run_id, schema_ok)
            for sub in wanting
        ]

    def _launch(self, plan: ServeState.Plan) -> list[str]:
        for item in plan:
            self._track(self._deliver(*item))
        return [item[3] for item in plan]

    def _track(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _deliver(
        self,
        sub: Subscription,
        ev: Event,
        body: Any,
        delivery_id: str,
        msg_id: str,
        run_id: str | None,
        schema_ok: bool,
    ) -> None:
        faulty = FaultySender(self.faults, self.slot, sub, self._sender(sub.timeout))

        def on_attempt(attempt: Attempt) -> None:
            fault = faulty.acted.pop(attempt.request.id + f"#{attempt.attempt}", None)
            scheme = sub.signing.scheme if sub.signing else None
            context = Context(sub.id, run_id, scheme, schema_ok, fault)
            self._record(attempt, context)

        await adeliver(
            ev.name,
            body,
            to=sub.url,
            headers=sub.headers,
            sign=sub.signing,
            retries=sub.retry,
            timeout=sub.timeout,
            transport=faulty,
            on_attempt=on_attempt,
            delivery_id=delivery_id,
            msg_id=msg_id,
        )

    def _sender(self, timeout: float) -> Sender:
        pipeline = self._pipelines.get(timeout)
        if pipeline is None:
            pipeline = self._pipelines[timeout] = Pipeline(timeout, self.verify)
        return pipeline.sender

    def _record(self, attempt: Attempt, context: Context) -> None:
        row = self.journal.record(attempt, context)
        for queue in list(self.listeners):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(row)

    # scenario runs --------------------------------------------------------------
    async def start_run(
        self,
        source: str,
        *,
        name: str,
        seed: int | None = None,
        continuous: bool = False,
        time_scale: float | None = None,
    ) -> Run:
        """Load (now, so problems are answered at once, on a thread: a big scenario
        does not stall the loop) and start a scenario run. A posted scenario (``name``
        "inline") sees only the environment variables of ``scenario_env``."""
        from ..api.scenario import read

        environ = PostedEnvironment(self.scenario_env) if name == "inline" else None
        parse = functools.partial(
            read,
            source,
            time_scale=time_scale,
            environ=environ,
            atscale_version=self.atscale_version,
        )
        loaded = await asyncio.get_running_loop().run_in_executor(self._parse_pool, parse)
        for secret in loaded.secrets:
            self.redactor.add(secret)
        self._prune_runs()
        run = Run(uuid.uuid4().hex[:12], name, continuous)
        self.runs[run.id] = run
        run.task = self._track(self._run(run, loaded, seed))
        return run

    def _prune_runs(self) -> None:
        ended = [r for r in self.runs.values() if r.status != "running"]
        for run in ended[: max(0, len(ended) - MAX_RUNS_KEPT + 1)]:
            del self.runs[run.id]

    async def _run(self, run: Run, loaded: Any, seed: int | None) -> None:
        from ..api.scenario import arun

        hop = FanOut(self._plan, lambda item: self._track(self._deliver(*item)), run)
        try:
            while not run.stopping:
                began = time.monotonic()
                cycle_seed = None if seed is None else seed + run.cycles
                # the journal keeps every attempt: the run itself needs only counts
                await arun(
                    loaded, to=FANOUT_URL, seed=cycle_seed, transport=hop, keep_results=False
                )
                if run.stopping:
                    break
                await hop.settle()
                run.cycles += 1
                if not run.continuous:
                    break
                await asyncio.sleep(max(0.0, MIN_CYCLE - (time.monotonic() - began)))
            if run.stopping:
                raise asyncio.CancelledError
            run.status = "finished"
        except asyncio.CancelledError:
            run.status = "stopped"
            await hop.cancel()
            raise
        except Exception as exc:  # noqa: BLE001 - reported in the run's status
            run.status = "failed"
            run.error = self.redactor.text(str(exc))
        finally:
            run.ended = time.time()

    async def stop_run(self, run_id: str) -> Run:
        run = self.runs[run_id]
        if run.task is not None and not run.task.done():
            run.stopping = True
            run.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await run.task
        return run

    # control ----------------------------------------------------------------------
    async def reset(self) -> None:
        """Stop every run, check and delivery; forget subscriptions, faults, runs,
        journal."""
        self.checks.stop_all()
        await self.cancel_all()
        self.subs.clear()
        self.faults.clear()
        self.runs.clear()
        self.journal.reset()

    async def cancel_all(self) -> None:
        """Cancel every run and delivery in flight (their attempts are journaled as
        interrupted) and wait for them."""
        for _ in range(3):  # a cancelled run may have launched deliveries meanwhile
            tasks = [t for t in self._tasks if not t.done()]
            if not tasks:
                break
            for run in self.runs.values():
                run.stopping = True
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def close(self) -> None:
        self.checks.stop_all()
        await self.cancel_all()
        for pipeline in self._pipelines.values():
            await pipeline.aclose()
        self._pipelines.clear()
        self._parse_pool.shutdown(wait=False, cancel_futures=True)
        self.checks.close()

    def slot(self, url: str) -> asyncio.Semaphore:
        """The attempts in flight to ``url``'s origin are bounded by the sender's pool:
        one waits here, before its clock starts, never in the pool (where the wait
        counted against the receiver's time and 5,000 subscriptions timed out)."""
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}"
        sem = self._slots.get(key)
        if sem is None:
            if len(self._slots) > 10_000:
                self._slots.clear()
            sem = self._slots[key] = asyncio.Semaphore(SLOTS_PER_ORIGIN)
        return sem

    def in_flight(self) -> int:
        return sum(not t.done() for t in self._tasks)


def _schema_ok(ev: Event, body: Any) -> bool:
    from ..events.schema import validation_errors

    return not validation_errors(ev, body) if isinstance(body, dict) else False
