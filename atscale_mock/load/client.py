"""A minimal HTTP/1.1 keep-alive client for load: an ``asyncio.Protocol`` per connection,
``httptools`` to parse responses, one request in flight per connection, TLS through the
event loop. httpx stays the client of ``send`` and ``run``; it cannot keep up here
(bench/RESULTS.md)."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ..config import USER_AGENT
from ..delivery.http1 import Endpoint, Http1Connection, client_tls
from .stats import Interval


@dataclass(frozen=True, slots=True)
class Target:
    host: str
    port: int
    path: str
    ssl: ssl.SSLContext | None
    head: bytes  # request line and fixed headers, ending before Content-Length

    @classmethod
    def parse(
        cls, url: str, headers: tuple[tuple[str, str], ...] = (), verify: bool | str = True
    ) -> Target:
        end = Endpoint.parse(url)
        lines = [
            f"POST {end.target.decode()} HTTP/1.1",
            f"Host: {end.host_header}",
            f"User-Agent: {USER_AGENT}",
        ]
        skip = ("host", "content-length", "content-type")
        lines += [f"{k}: {v}" for k, v in headers if k.lower() not in skip]
        if end.auth and not any(k.lower() == "authorization" for k, _ in headers):
            lines.append(f"Authorization: {end.auth.decode()}")
        context = client_tls(verify) if end.secure else None
        head = ("\r\n".join(lines) + "\r\n").encode("latin-1")
        return cls(end.host or "127.0.0.1", end.port, end.path, context, head)

    def request(
        self,
        body: bytes,
        content_type: str = "application/json",
        extra: dict[str, str] | None = None,
        path: bytes | None = None,
    ) -> bytes:
        """A whole request; ``extra`` headers (a signature) and another ``path`` (URL
        placeholders filled in) make it apart from the prepared ones."""
        if content_type == "application/json" and not extra and path is None:
            return self.json_head + b"%d\r\n\r\n%s" % (len(body), body)
        head = self.head
        if path is not None:
            line_end = head.index(b"\r\n")
            head = b"POST " + path + b" HTTP/1.1" + head[line_end:]
        lines = b"".join(f"{k}: {v}\r\n".encode("latin-1") for k, v in (extra or {}).items())
        return (
            head
            + lines
            + b"Content-Type: %s\r\nContent-Length: %d\r\n\r\n"
            % (content_type.encode("latin-1"), len(body))
            + body
        )

    @property
    def json_head(self) -> bytes:
        return self.head + b"Content-Type: application/json\r\nContent-Length: "


class Owner(Protocol):
    """What a connection reports to: the worker (``worker.Worker``)."""

    clock: Callable[[], float]
    boundary: float
    current: Interval
    closed_loop: bool
    stopping: bool
    requests: list[bytes]

    def interval_for(self, now: float) -> Interval: ...
    def next_request(self, iv: Interval) -> bytes: ...
    def settled(self, conn: Connection, now: float, error: str | None) -> None: ...
    def lost(self, conn: Connection) -> None: ...


class Connection(Http1Connection):
    """One keep-alive connection with one request in flight at a time.

    The closed loop's whole per-request work happens in ``on_message_complete``: count
    the response, keep its latency, write the next prepared request. Otherwise (open
    loop, errors, a connection the server closes) the owner decides what comes next."""

    def __init__(self, owner: Owner) -> None:
        super().__init__()
        self.w = owner
        self.busy = False
        self.sent_at = 0.0
        self.intended = 0.0

    # -- asyncio.Protocol ----------------------------------------------------------
    def data_received(self, data: bytes) -> None:
        self.feed(data)

    def bad_response(self, exc: Exception) -> None:
        self.fail("protocol")

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.busy:
            self.busy = False
            self.w.settled(self, self.w.clock(), "reset")
        self.w.lost(self)

    # -- httptools callbacks --------------------------------------------------------
    def on_message_complete(self) -> None:
        """A response has arrived: count it, and in a closed loop send the next request
        (the hot path: keep it lean)."""
        if not self.busy:
            return
        w = self.w
        now = w.clock()
        iv = w.current if now < w.boundary else w.interval_for(now)
        parser = self.parser
        iv.statuses[parser.get_status_code()] += 1
        iv.latency.append(now - self.intended)
        keep_alive = parser.should_keep_alive()
        if w.closed_loop and keep_alive and not w.stopping:
            # closed loop: the service time is the latency (only the latency is kept)
            requests = w.requests
            iv.sent += 1
            self.intended = self.sent_at = now
            self.transport.write(requests.pop() if requests else w.next_request(iv))  # type: ignore[union-attr]
            return
        self.busy = False
        if not w.closed_loop:
            iv.service.append(now - self.sent_at)
        if keep_alive:
            w.settled(self, now, None)  # open loop: it takes the next due request
        else:
            self.close()

    # -- ours ----------------------------------------------------------------------
    def send(self, request: bytes, intended: float, now: float) -> None:
        self.busy = True
        self.intended = intended
        self.sent_at = now
        self.transport.write(request)  # type: ignore[union-attr]

    def fail(self, error_class: str) -> None:
        """Settle the request in flight as failed and drop the connection."""
        busy, self.busy = self.busy, False
        self.close()  # first, so the owner does not hand it the next request
        if busy:
            self.w.settled(self, self.w.clock(), error_class)

    def close(self) -> None:
        self.abort()


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's loop where it is installed (about 3x the plain loop's throughput)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on POSIX
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()
