"""The transports between serve's engine and the network: :class:`FaultySender`, the
engine's own misbehaviour (``POST /_mock/faults``) around the real sender, with one
slot per attempt in flight to a receiver; and :class:`FanOut`, the transport of a
scenario run, which hands each delivery to the engine's subscriptions. Both are given
what they need of the engine as values and callables: nothing here imports it."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from ..delivery.transport import Outcome, Request, Sender
from ..events.catalogue import Event
from ..events.payload import resolve_event
from .model import FaultRule, Subscription


class Counted(Protocol):
    """The run a FanOut counts deliveries for."""

    id: str
    deliveries: int


#: the engine's plan for one payload: a delivery per subscription that wants it
Planner = Callable[[Event, Any, "str | None", "str | None"], list[Any]]


class FaultySender:
    """The engine's own misbehaviour (``POST /_mock/faults``) around the real sender."""

    def __init__(
        self,
        faults: Mapping[str, FaultRule],
        slot: Callable[[str], asyncio.Semaphore],
        sub: Subscription,
        inner: Sender,
    ) -> None:
        self.faults = faults  # the engine's, live: a rule added later applies at once
        self.slot = slot
        self.sub = sub
        self.inner = inner
        self.acted: dict[str, str] = {}
        self._attempts: dict[str, int] = {}

    def _rule(self) -> FaultRule | None:
        now = time.time()
        for rule in list(self.faults.values()):
            if rule.webhook_id not in (None, self.sub.id):
                continue
            if rule.live(now):
                rule.used += 1
                return rule
        return None

    async def send(self, request: Request) -> Outcome:
        n = self._attempts[request.id] = self._attempts.get(request.id, 0) + 1
        rule = self._rule()
        if rule is None:
            async with self.slot(request.url):
                return await self.inner.send(request)
        self.acted[f"{request.id}#{n}"] = rule.describe()
        if rule.action == "drop":
            return Outcome(None, 0.0, "engine_fault", f"{rule.describe()} (not sent)")
        if rule.action == "delay":
            await asyncio.sleep(rule.delay)
            async with self.slot(request.url):
                return await self.inner.send(request)
        async with self.slot(request.url):
            real = await self.inner.send(request)
        got = real.status if real.status is not None else real.error_class
        said = f"{rule.describe()}; the receiver answered {got}"
        if rule.status is not None:  # the status the engine pretends it got, as a status
            return Outcome(rule.status, real.latency, None, said, real.body)
        return Outcome(None, real.latency, "engine_fault", said, real.body)

    async def aclose(self) -> None:
        return None


class FanOut:
    """The transport of a scenario run inside ``serve``: each delivery the run makes is
    handed to the engine, which sends that payload to every matching subscription. A
    hand-off (``hands_off``): the run's dispatch loop gives it each delivery once,
    without a retry loop of its own; each subscription's delivery has one."""

    hands_off = True

    def __init__(
        self, plan: Planner, launch: Callable[[Any], asyncio.Task[Any]], run: Counted
    ) -> None:
        self.plan = plan
        self.launch = launch
        self.run = run
        self.tasks: list[asyncio.Task[Any]] = []

    async def send(self, request: Request) -> Outcome:
        try:
            body = json.loads(request.body)
        except ValueError:
            return Outcome(422, 0.0, body="a malformed body is not fanned out")
        ev = resolve_event(request.event)
        msg_id = next((v for k, v in request.headers if k.lower() == "webhook-id"), None)
        plan = self.plan(ev, body, msg_id, self.run.id)
        for item in plan:
            self.tasks.append(self.launch(item))
        self.run.deliveries += len(plan)
        return Outcome(202, 0.0)

    async def settle(self) -> None:
        """Wait for the deliveries this cycle launched."""
        tasks, self.tasks = self.tasks, []
        await asyncio.gather(*tasks, return_exceptions=True)

    async def cancel(self) -> None:
        tasks, self.tasks = self.tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def aclose(self) -> None:
        return None
