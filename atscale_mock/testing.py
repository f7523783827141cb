"""Test doubles for code that uses atscale-mock's delivery pipeline, importable on
purpose (``from atscale_mock.testing import FakeSender``); nothing in the product uses
them."""

from __future__ import annotations

from .delivery.transport import Outcome, Request


class FakeSender:
    """An in-memory sender for tests: answers from a script, records every request."""

    def __init__(
        self, outcomes: list[Outcome] | None = None, default: Outcome | None = None
    ) -> None:
        self.script = list(outcomes or [])
        self.default = default or Outcome(status=200, latency=0.001)
        self.requests: list[Request] = []

    async def send(self, request: Request) -> Outcome:
        self.requests.append(request)
        return self.script.pop(0) if self.script else self.default

    async def aclose(self) -> None:
        return None
