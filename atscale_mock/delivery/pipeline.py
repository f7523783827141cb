"""The one place deliveries are set up: a :class:`Pipeline` holds the sender a call sends
through (made by :func:`make_sender`, called nowhere else) and makes the dispatch loops
over it (:meth:`Pipeline.loop`, the only maker of a :class:`Dispatcher`). ``send``,
``replay``, ``serve``'s deliveries, a scenario run and ``check`` all come through here,
so a timeout, a TLS setting, a retry or a signature means the same on every way in
(``load`` keeps its own hot loop for throughput, with the same records)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from ..config import DEFAULT_TIMEOUT
from .dispatch import DEFAULT_MAX_IN_FLIGHT, Dispatcher, Timing
from .retry import OnAttempt, Retry
from .signing import Signing
from .transport import Outcome, Request, Sender


class Pipeline:
    """One call's transport (its sender, from :func:`make_sender`) and the dispatch loops
    over it (:meth:`loop`): the only place either is made. Open one per call (``async
    with``, or :meth:`aclose`); a caller's own sender given as ``transport`` is used and
    left open."""

    def __init__(
        self,
        timeout: float = DEFAULT_TIMEOUT,
        verify: bool | str = True,
        transport: Any = None,
        url: str = "",
        max_connections: int | None = None,
    ) -> None:
        self.sender = make_sender(timeout, verify, transport, url, max_connections)

    def loop(
        self,
        retry: Retry,
        signing: Signing | None = None,
        on_attempt: OnAttempt | None = None,
        *,
        concurrent: bool = True,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        rng: random.Random | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        timing: Timing | None = None,
    ) -> Dispatcher:
        """The dispatch loop for one source of deliveries, over this pipeline's sender."""
        return Dispatcher(
            self.sender,
            retry,
            signing,
            on_attempt,
            concurrent=concurrent,
            max_in_flight=max_in_flight,
            rng=rng or random.Random(),
            monotonic=monotonic,
            timing=timing or Timing(),
        )

    async def aclose(self) -> None:
        await self.sender.aclose()

    async def __aenter__(self) -> Pipeline:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def make_sender(
    timeout: float = DEFAULT_TIMEOUT,
    verify: bool | str = True,
    transport: Any = None,
    url: str = "",
    max_connections: int | None = None,
) -> Sender:
    """The transport for a run: the pooled asyncio client (it holds a rate), or httpx
    where httpx serves better: a given httpx transport (an in-process ASGI/WSGI app,
    a mock) or a proxy configured in the environment for ``url``. A :class:`Sender` of
    the caller's is used as it is and left open (the caller closes it).
    ``max_connections`` per origin (the pooled client's default unless given): a burst
    of N concurrent requests wants N, or its requests wait for a free connection."""
    if transport is not None and hasattr(transport, "send") and hasattr(transport, "aclose"):
        return Borrowed(transport)
    if transport is not None or _proxied(url):
        from .transport import HttpxSender

        return HttpxSender(timeout=timeout, verify=verify, transport=transport)
    from .pool import DEFAULT_MAX_CONNECTIONS, PoolSender

    return PoolSender(
        timeout=timeout, verify=verify, max_connections=max_connections or DEFAULT_MAX_CONNECTIONS
    )


class Borrowed:
    """A caller's sender, used for one run and left open for the caller to close."""

    def __init__(self, sender: Sender) -> None:
        self.borrowed = sender

    async def send(self, request: Request) -> Outcome:
        return await self.borrowed.send(request)

    async def aclose(self) -> None:
        return None


def _proxied(url: str) -> bool:
    import urllib.request

    proxies = urllib.request.getproxies()
    if not proxies:
        return False
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname or ""
    if host and urllib.request.proxy_bypass(host):
        return False
    return bool(proxies.get(urlsplit(url).scheme or "http") or proxies.get("all"))
