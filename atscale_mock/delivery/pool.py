"""The default transport of ``send``, ``run`` and ``replay``: HTTP/1.1 keep-alive
connections on ``asyncio`` protocols, responses parsed by ``httptools`` (the parser load
uses), a bounded pool per origin, and one deadline per attempt (connect, write and the
whole response).

Why not httpx here: under a held rate, httpcore's pool spends its time assigning queued
requests to connections (the cost grows with queued requests x connections); at 2,000
deliveries/s it managed about 210/s and failed requests with ``PoolTimeout``
(bench/RESULTS.md). httpx stays the transport for what it does best: an in-process
ASGI/WSGI app and proxies (:func:`atscale_mock.delivery.pipeline.make_sender`).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from ..config import DEFAULT_TIMEOUT, RESPONSE_BODY_KEEP, RESPONSE_BODY_READ_CAP, USER_AGENT
from ..errors import UsageError
from .classify import classify_os_error
from .headers import FRAMING, check_header
from .http1 import Endpoint, Http1Connection, client_tls
from .transport import Outcome, Request, decoded_text, kept

DEFAULT_MAX_CONNECTIONS = 64  # per origin; more requests than this wait for a free one
MAX_RESPONSE_HEAD = 64 * 1024  # bytes of status line and headers at most; more is refused


@dataclass(frozen=True, slots=True)
class Origin:
    scheme: str
    host: str
    port: int


@dataclass(frozen=True, slots=True)
class _Parsed:
    origin: Origin
    target: bytes  # request line's path and query
    host: bytes  # Host header value
    auth: bytes = b""  # Basic credentials from the URL's userinfo, as httpx sends them


class _Failed(Exception):
    def __init__(self, error_class: str, message: str) -> None:
        super().__init__(message)
        self.error_class = error_class
        self.message = message


class _Conn(Http1Connection):
    """A pooled connection: keeps the status, the headers a report needs and a bounded
    body of each answer, and wakes the request waiting for it."""

    def __init__(self) -> None:
        super().__init__()
        self.waiter: asyncio.Future[None] | None = None
        self.got_bytes = False
        self.reset()

    def reset(self) -> None:
        self.status = 0
        self.headers: dict[str, str] = {}
        self.body: list[bytes] = []
        self.size = 0
        self.complete = False
        self.truncated = False
        self.keep_alive = True
        self.head_done = False
        self.head_size = 0
        self.framed = False  # a Content-Length or chunked body: not ended by the close
        self._name = b""

    # asyncio.Protocol
    def data_received(self, data: bytes) -> None:
        if self.waiter is None or self.complete:  # bytes nobody asked for: out of step
            self.keep_alive = False
            self.abort()
            return
        self.got_bytes = True
        if not self.head_done:
            self.head_size += len(data)
        if not self.feed(data):
            return
        if not self.head_done and self.head_size > MAX_RESPONSE_HEAD:
            self._finish(
                _Failed("protocol", f"the answer's header is over {MAX_RESPONSE_HEAD} bytes")
            )
            self.abort()

    def eof_received(self) -> None:
        """The receiver closed its side: the end of a close-delimited body (HTTP/1.0, or
        1.1 with neither Content-Length nor chunked), as RFC 9112 section 6.3 says. Our
        own abort (a timeout, a cut-off body) never comes here."""
        if self.head_done and not self.complete and not self.framed:
            self.complete = True
            self.keep_alive = False
            self._finish(None)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self._finish(
                _Failed("reset", "the receiver closed the connection without answering")
                if not self.got_bytes
                else _Failed("reset", "connection reset before the answer was complete")
            )

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        if self.complete:
            return
        key = name.decode("latin-1").lower()
        if key in ("retry-after", "location", "content-encoding", "content-type"):
            self.headers[key] = value.decode("latin-1")
        elif key == "content-length" or (key == "transfer-encoding" and b"chunked" in value):
            self.framed = True

    def on_headers_complete(self) -> None:
        if self.complete:
            return
        self.head_done = True
        self.status = self.parser.get_status_code()
        self.keep_alive = self.parser.should_keep_alive()

    def on_body(self, body: bytes) -> None:
        if self.truncated or self.complete:
            return
        self.body.append(body)
        self.size += len(body)
        if self.size >= RESPONSE_BODY_READ_CAP:  # never hold a huge answer: stop reading
            self.truncated = True
            self.keep_alive = False
            self._finish(None)
            self.abort()

    def on_message_complete(self) -> None:
        if self.complete:  # a second answer to one request: the connection is out of step
            self.keep_alive = False
            return
        self.complete = True
        self._finish(None)

    # ours
    def start(self, data: bytes, waiter: asyncio.Future[None]) -> None:
        self.reset()
        self.got_bytes = False
        self.waiter = waiter
        assert self.transport is not None
        self.transport.write(data)

    def _finish(self, exc: BaseException | None) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            if exc is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(exc)

    def bad_response(self, exc: Exception) -> None:
        self._finish(_Failed("protocol", f"the answer is not valid HTTP: {exc}"))
        self.abort()


class _Pool:
    """Connections to one origin: idle ones reused last-in first-out, at most ``limit``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.idle: list[_Conn] = []
        self.count = 0
        self.waiting: deque[asyncio.Future[None]] = deque()

    def release(self, conn: _Conn | None) -> None:
        if conn is not None and not conn.closed and conn.keep_alive:
            self.idle.append(conn)
        else:
            if conn is not None:
                conn.abort()
            self.count -= 1
        while self.waiting:
            waiter = self.waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                break


class PoolSender:
    """POSTs over pooled keep-alive connections; redirects are reported, never followed.
    ``timeout`` bounds each attempt as a whole (waiting for a connection included)."""

    def __init__(
        self,
        timeout: float = DEFAULT_TIMEOUT,
        verify: bool | str = True,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.timeout = timeout
        self.verify = verify
        self.max_connections = max_connections
        self._clock = clock
        self._pools: dict[Origin, _Pool] = {}
        self._parsed: dict[str, _Parsed] = {}
        self._ssl: ssl.SSLContext | None = None

    def _parse(self, url: str) -> _Parsed:
        parsed = self._parsed.get(url)
        if parsed is None:
            end = Endpoint.parse(url)
            origin = Origin("https" if end.secure else "http", end.host, end.port)
            parsed = _Parsed(origin, end.target, end.host_header.encode("idna"), end.auth)
            if len(self._parsed) < 4096:
                self._parsed[url] = parsed
        return parsed

    def _context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = client_tls(self.verify)
        return self._ssl

    async def send(self, request: Request) -> Outcome:
        start = self._clock()
        try:
            async with asyncio.timeout(self.timeout):
                return await self._attempt(request, start)
        except TimeoutError:
            return Outcome(None, self._clock() - start, "timeout", "timed out (whole attempt)")
        except _Failed as failed:
            return Outcome(None, self._clock() - start, failed.error_class, failed.message)

    async def _attempt(self, request: Request, start: float) -> Outcome:
        parsed = self._parse(request.url)
        pool = self._pools.get(parsed.origin)
        if pool is None:
            pool = self._pools[parsed.origin] = _Pool(self.max_connections)
        data = _encode(request, parsed)
        for _ in range(2):  # a reused connection the receiver had closed: once more, new
            conn, reused = await self._acquire(pool, parsed.origin)
            waiter = asyncio.get_running_loop().create_future()
            try:
                conn.start(data, waiter)
                await waiter
            except _Failed as failed:
                pool.release(None)
                conn.abort()
                if reused and not conn.got_bytes and failed.error_class == "reset":
                    continue
                raise
            except BaseException:
                pool.release(None)
                conn.abort()
                raise
            latency = self._clock() - start
            outcome = _outcome(conn, latency)
            pool.release(conn)
            return outcome
        raise _Failed("reset", "the receiver closed the connection without answering")

    async def _acquire(self, pool: _Pool, origin: Origin) -> tuple[_Conn, bool]:
        while True:
            while pool.idle:
                conn = pool.idle.pop()
                if not conn.closed:
                    return conn, True
                pool.count -= 1
            if pool.count < pool.limit:
                pool.count += 1
                try:
                    return await self._connect(origin), False
                except BaseException:
                    pool.release(None)
                    raise
            waiter = asyncio.get_running_loop().create_future()
            pool.waiting.append(waiter)
            await waiter

    async def _connect(self, origin: Origin) -> _Conn:
        loop = asyncio.get_running_loop()
        context = self._context() if origin.scheme == "https" else None
        try:
            _, conn = await loop.create_connection(
                _Conn,
                origin.host,
                origin.port,
                ssl=context,
                server_hostname=origin.host if context else None,
            )
        except (OSError, ssl.SSLError, ssl.CertificateError) as exc:
            error_class, message = classify_os_error(exc)
            raise _Failed(error_class, message) from None
        return conn

    async def aclose(self) -> None:
        """Close the idle connections; one in use is closed by its cancelled attempt."""
        for pool in self._pools.values():
            for conn in pool.idle:
                conn.abort()
        self._pools.clear()

    async def __aenter__(self) -> PoolSender:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def _encode(request: Request, parsed: _Parsed) -> bytes:
    headers = {"Content-Type": "application/json", **dict(request.headers)}
    lines = [b"POST " + parsed.target + b" HTTP/1.1", b"Host: " + parsed.host]
    lines.append(b"User-Agent: " + USER_AGENT.encode())
    if parsed.auth and not any(k.lower() == "authorization" for k in headers):
        lines.append(b"Authorization: " + parsed.auth)
    for name, value in headers.items():
        if name.lower() == "user-agent" or name.lower() in FRAMING:
            continue
        try:  # checked where they came in; again here, as the last step before the wire
            check_header(name, value)
        except UsageError as exc:
            raise _Failed("request", f"not sent: {exc.message}") from None
        lines.append(f"{name}: {value}".encode())
    lines.append(b"Content-Length: %d" % len(request.body))
    return b"\r\n".join(lines) + b"\r\n\r\n" + request.body


def _outcome(conn: _Conn, latency: float) -> Outcome:
    raw = b"".join(conn.body)
    encoding = conn.headers.get("content-encoding", "") if conn.complete else ""
    text = decoded_text(raw, encoding)
    return Outcome(
        status=conn.status,
        latency=latency,
        body=kept(text),
        full_body=text if len(text) > RESPONSE_BODY_KEEP else None,
        retry_after=conn.headers.get("retry-after"),
        location=conn.headers.get("location"),
    )
