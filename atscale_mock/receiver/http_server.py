"""A small HTTP/1.1 server on asyncio with hard limits, for the built-in receiver: it
must keep answering legitimate webhooks while a hostile or broken client misbehaves.

- Requests are parsed by httptools (the C parser uvicorn uses): a bad or negative
  ``Content-Length``, a smuggled header or garbage is a 400 and a closed connection.
- Headers must arrive within ``header_timeout`` and fit in ``max_header_bytes``
  (else 408/431); a body within ``body_timeout`` and ``max_body`` bytes, chunked or
  not (else 408/413). Nothing a header says makes it read more.
- Idle keep-alive connections close after ``idle_timeout``; past ``max_connections``,
  the oldest connection not in the middle of being answered is closed to make room.
- Only complete requests reach the handler; requests on one connection are answered in
  order. Runs on its own thread and event loop, or on the caller's loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

#: status and JSON body; or status, body and the headers to send instead of a JSON
#: Content-Type (a proxied answer's own)
Answer = tuple[int, bytes] | tuple[int, bytes, tuple[tuple[str, str], ...]]
#: (method, path, headers, body, seconds the request took to arrive) -> an Answer
Handler = Callable[[str, str, dict[str, str], bytes, float], Awaitable[Answer]]

_REASONS = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    408: "Request Timeout",
    413: "Content Too Large",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


@dataclass(frozen=True, slots=True)
class Limits:
    max_body: int = 16 * 1024 * 1024
    max_header_bytes: int = 64 * 1024
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    idle_timeout: float = 15.0
    max_connections: int = 1000


@dataclass
class Counters:
    """What the server refused, by reason (for the receiver's summary)."""

    refused: dict[str, int] = field(default_factory=dict)

    def add(self, reason: str) -> None:
        self.refused[reason] = self.refused.get(reason, 0) + 1


def response(
    status: int,
    body: bytes,
    close: bool = False,
    headers: tuple[tuple[str, str], ...] = (),
) -> bytes:
    """An HTTP/1.1 answer. 1xx, 204 and 304 carry no body and no Content-Length (RFC
    9110 sections 6.4.1 and 8.6): a client reads the bytes after them as the next answer.
    ``headers`` replace the JSON Content-Type (framing headers are always the server's)."""
    reason = _REASONS.get(status, "Status")
    head = f"HTTP/1.1 {status} {reason}\r\nServer: atscale-mock-receiver\r\n"
    for name, value in headers or (("Content-Type", "application/json"),):
        head += f"{name}: {value}\r\n"
    if status in (204, 304) or 100 <= status < 200:
        body = b""
    else:
        head += f"Content-Length: {len(body)}\r\n"
    if close:
        head += "Connection: close\r\n"
    return head.encode() + b"\r\n" + body


class _Request:
    __slots__ = ("method", "url", "headers", "body", "size", "keep_alive", "began", "took")

    def __init__(self) -> None:
        self.began = time.monotonic()
        self.took = 0.0  # seconds from its first byte to its last, once complete
        self.method = ""
        self.url = b""
        self.headers: list[tuple[str, str]] = []
        self.body: list[bytes] = []
        self.size = 0
        self.keep_alive = True


class _Connection(asyncio.Protocol):
    def __init__(self, server: HttpServer) -> None:
        import httptools

        self.server = server
        self.limits = server.limits
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.request: _Request | None = None
        self.header_bytes = 0
        self.ready: asyncio.Queue[_Request | None] = asyncio.Queue()
        self.busy = False  # a complete request is being answered
        self.timer: asyncio.TimerHandle | None = None
        self.worker: asyncio.Task[None] | None = None

    # asyncio.Protocol --------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.server.opened(self)
        self._arm(self.limits.idle_timeout, "idle")
        self.worker = asyncio.get_running_loop().create_task(self._answer_in_order())

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.closed(self)
        self._disarm()
        self.ready.put_nowait(None)

    def data_received(self, data: bytes) -> None:
        import httptools

        if self.transport is None or self.transport.is_closing():
            return  # refused: the rest of what the client sends is ignored
        try:
            self.parser.feed_data(data)
        except _Refused:
            pass
        except httptools.HttpParserUpgrade:
            self._refuse(400, "upgrade", raise_=False)
        except httptools.HttpParserError:
            if self.transport is not None and not self.transport.is_closing():
                self._refuse(400, "malformed", raise_=False)

    # httptools callbacks ---------------------------------------------------------------
    def on_message_begin(self) -> None:
        self.request = _Request()
        self.header_bytes = 0
        self._arm(self.limits.header_timeout, "header timeout")

    def on_url(self, url: bytes) -> None:
        assert self.request is not None
        self.request.url += url
        self._count_header(len(url))

    def on_header(self, name: bytes, value: bytes) -> None:
        assert self.request is not None
        self._count_header(len(name) + len(value))
        self.request.headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        req = self.request
        assert req is not None
        req.method = self.parser.get_method().decode("latin-1")
        req.keep_alive = self.parser.should_keep_alive()
        length = next((v for k, v in req.headers if k.lower() == "content-length"), None)
        if length is not None and length.strip().isdigit() and int(length) > self.limits.max_body:
            self._refuse(413, "body too large")
        self._arm(self.limits.body_timeout, "body timeout")

    def on_body(self, body: bytes) -> None:
        req = self.request
        assert req is not None
        req.size += len(body)
        if req.size > self.limits.max_body:
            self._refuse(413, "body too large")
        req.body.append(body)

    def on_message_complete(self) -> None:
        req, self.request = self.request, None
        assert req is not None
        req.took = time.monotonic() - req.began
        self._disarm()
        self.ready.put_nowait(req)
        if not req.keep_alive:
            assert self.transport is not None
            self.transport.pause_reading()

    # answering ------------------------------------------------------------------
    async def _answer_in_order(self) -> None:
        while True:
            req = await self.ready.get()
            if req is None or self.transport is None or self.transport.is_closing():
                return
            self.busy = True
            answer: Answer
            try:
                answer = await self.server.handler(
                    req.method,
                    req.url.decode("latin-1"),
                    dict(req.headers),
                    b"".join(req.body),
                    req.took,
                )
            except Exception:  # noqa: BLE001 - a handler bug answers 500, never kills the server
                answer = 500, b'{"error": "receiver error"}'
            finally:
                self.busy = False
            if self.transport.is_closing():
                return
            extra = answer[2] if len(answer) == 3 else ()
            self.transport.write(
                response(answer[0], answer[1], close=not req.keep_alive, headers=extra)
            )
            if not req.keep_alive:
                self.transport.close()
                return
            if self.request is None and self.ready.empty():
                self._arm(self.limits.idle_timeout, "idle")

    # limits ------------------------------------------------------------------------
    def _count_header(self, n: int) -> None:
        self.header_bytes += n
        if self.header_bytes > self.limits.max_header_bytes:
            self._refuse(431, "headers too large")

    def _arm(self, seconds: float, reason: str) -> None:
        self._disarm()
        loop = asyncio.get_running_loop()
        self.timer = loop.call_later(seconds, self._expire, reason)

    def _disarm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _expire(self, reason: str) -> None:
        if reason == "idle":
            self.server.counters.add("idle")
            self.close()
        elif not self.busy:
            self._refuse(408, reason, raise_=False)

    def _refuse(self, status: int, reason: str, raise_: bool = True) -> None:
        """Answer ``status`` and close: the rest of what the client sends is ignored."""
        self.server.counters.add(reason)
        self.request = None
        if self.transport is not None and not self.transport.is_closing():
            body = b'{"error": "%s"}' % reason.encode()
            self.transport.write(response(status, body, close=True))
            self.transport.close()
        self._disarm()
        if raise_:
            raise _Refused

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()
        self._disarm()

    @property
    def evictable(self) -> bool:
        return not self.busy and self.ready.empty()


class _Refused(Exception):
    """Raised out of a parser callback to stop parsing a refused request."""


class HttpServer:
    """Serves ``handler(method, path, headers, body, arrived_in) -> Answer``."""

    def __init__(self, handler: Handler, limits: Limits | None = None) -> None:
        self.handler = handler
        self.limits = limits or Limits()
        self.counters = Counters()
        self.connections: dict[_Connection, None] = {}  # insertion order: oldest first
        self._server: asyncio.base_events.Server | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.address: tuple[str, int] = ("", 0)

    def opened(self, conn: _Connection) -> None:
        if len(self.connections) >= self.limits.max_connections:
            victim = next((c for c in self.connections if c.evictable), None)
            if victim is not None:
                self.counters.add("evicted")
                victim.close()
                self.connections.pop(victim, None)
        self.connections[conn] = None

    def closed(self, conn: _Connection) -> None:
        self.connections.pop(conn, None)

    async def start(self, sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        self.loop = loop
        self._server = await loop.create_server(lambda: _Connection(self), sock=sock, backlog=1024)

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
        for conn in list(self.connections):
            conn.close()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    def start_thread(self, sock: socket.socket) -> None:
        """Serve on a thread of its own with its own event loop."""
        loop = asyncio.new_event_loop()
        started = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(self.start(sock))
            started.set()
            loop.run_forever()
            loop.run_until_complete(self.aclose())
            loop.close()

        self._thread = threading.Thread(target=run, name="atscale-mock-receiver", daemon=True)
        self._thread.start()
        started.wait(10)

    def stop_thread(self) -> None:
        if self._thread is None or self.loop is None:
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self._thread = None


def listen(host: str, port: int) -> socket.socket:
    """A bound, listening socket on ``host`` (IPv4, IPv6 such as ``::1``, or a name)."""
    bare = host.strip("[]")
    infos = socket.getaddrinfo(bare, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    sock.listen(1024)
    sock.setblocking(False)
    return sock


def url_of(sock: socket.socket) -> str:
    """``http://host:port`` of a listening socket (an IPv6 host in brackets)."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def raise_fd_limit() -> None:
    """Many idle connections must not exhaust file descriptors before the connection
    cap evicts them: lift the soft limit to the hard one."""
    with contextlib.suppress(ImportError, ValueError, OSError):
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < hard:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
