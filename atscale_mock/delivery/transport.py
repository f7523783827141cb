"""What every transport shares: the ``Request`` and ``Outcome`` records, the ``Sender``
protocol, and the httpx implementation (the pooled one is :mod:`.pool`). A sender makes
one attempt and classifies what happened; retries live in
:mod:`atscale_mock.delivery.retry`."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

from ..config import DEFAULT_TIMEOUT, RESPONSE_BODY_KEEP, RESPONSE_BODY_READ_CAP, USER_AGENT

if TYPE_CHECKING:  # httpx is imported when first used: `--help` stays fast
    import httpx


@dataclass(frozen=True, slots=True)
class Request:
    """One webhook delivery to make: the event's CLI name, where, the exact body."""

    event: str
    url: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()
    faults: tuple[str, ...] = ()  # what fault injection did to this delivery, if anything
    id: str = ""  # one id per delivery, shared by its attempts (in the log, for replay)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt got: a status, or an error class; never both."""

    status: int | None
    latency: float  # seconds
    error_class: str | None = None
    error: str | None = None
    body: str = ""
    retry_after: str | None = None
    location: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    #: the whole decoded body (up to RESPONSE_BODY_READ_CAP) when longer than ``body``
    #: keeps, for expectations on it; dropped once they are checked
    full_body: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Sender(Protocol):
    async def send(self, request: Request) -> Outcome: ...

    async def aclose(self) -> None: ...


def classify(exc: httpx.TransportError) -> tuple[str, str]:
    """An httpx transport error as (class, one-line message)."""
    import httpx

    text = str(exc) or exc.__class__.__name__
    lowered = text.lower()
    if isinstance(exc, httpx.TimeoutException):
        return "timeout", f"timed out ({exc.__class__.__name__})"
    if "ssl" in lowered or "certificate" in lowered:
        return "tls", f"TLS failed: {text}"
    if isinstance(exc, httpx.ConnectError):
        import socket

        if isinstance(exc.__cause__ or exc.__context__, socket.gaierror) or (
            "name or service not known" in lowered
            or "nodename nor servname" in lowered
            or "temporary failure in name resolution" in lowered
        ):
            return "dns", f"cannot resolve the host name: {text}"
        return "refused", f"connection failed: {text}"
    if isinstance(exc, httpx.RemoteProtocolError):
        if "disconnected" in lowered:
            return "reset", "the receiver closed the connection without answering"
        return "protocol", f"the answer is not valid HTTP: {text}"
    if isinstance(exc, httpx.ReadError | httpx.WriteError):
        return "reset", f"connection reset: {text}"
    return "transport", text


class HttpxSender:
    """POSTs with an ``httpx.AsyncClient``; redirects are reported, never followed."""

    def __init__(
        self,
        timeout: float = DEFAULT_TIMEOUT,
        verify: bool | str = True,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        import httpx

        _preload_transport()

        self._httpx = httpx
        if isinstance(verify, str):  # a CA bundle: httpx wants an SSLContext for it
            from .http1 import client_tls

            verify = client_tls(verify)  # type: ignore[assignment]
        self._client = httpx.AsyncClient(
            timeout=timeout,
            verify=verify,
            follow_redirects=False,
            transport=transport,
            headers={"User-Agent": USER_AGENT},
        )
        self._clock = clock
        self._deadline = timeout

    async def send(self, request: Request) -> Outcome:
        import asyncio

        headers = {"Content-Type": "application/json", **dict(request.headers)}
        start = self._clock()
        try:
            async with asyncio.timeout(self._deadline):
                return await self._post(request, headers, start)
        except TimeoutError:
            return Outcome(None, self._clock() - start, "timeout", "timed out (whole attempt)")
        except self._httpx.TransportError as exc:
            error_class, message = classify(exc)
            return Outcome(None, self._clock() - start, error_class, message)

    async def _post(self, request: Request, headers: dict[str, str], start: float) -> Outcome:
        """One POST; httpx's own timeouts are per read, the caller's deadline is whole."""
        async with self._client.stream(
            "POST", request.url, content=request.body, headers=headers
        ) as response:
            raw = await read_capped(response)
            encoding = response.headers.get("content-encoding", "")
            text = decoded_text(raw, encoding)
            return Outcome(
                status=response.status_code,
                latency=self._clock() - start,
                body=kept(text),
                full_body=text if len(text) > RESPONSE_BODY_KEEP else None,
                retry_after=response.headers.get("retry-after"),
                location=response.headers.get("location"),
            )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> HttpxSender:
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


def _preload_transport() -> None:
    """Import what httpx loads on its first request (httpcore, anyio's asyncio backend,
    h11) now, so that ~30 ms of imports is not measured as the first request's latency
    nor delays the sends scheduled after it."""
    import contextlib
    import importlib

    for name in ("h11", "httpcore", "httpcore._backends.anyio", "anyio._backends._asyncio"):
        with contextlib.suppress(ImportError):  # another httpx stack: nothing to preload
            importlib.import_module(name)


async def read_capped(response: httpx.Response, cap: int = RESPONSE_BODY_READ_CAP) -> bytes:
    """The body as sent (compressed or not), read until ``cap`` bytes have come (the
    last chunk is kept whole): a huge answer is never held in memory."""
    chunks: list[bytes] = []
    size = 0
    if response.is_stream_consumed:  # an in-process transport that read it already
        return response.content[:cap]
    async for chunk in response.aiter_raw():
        chunks.append(chunk)
        size += len(chunk)
        if size >= cap:
            break
    return b"".join(chunks)


def decoded_text(raw: bytes, encoding: str) -> str:
    """A response body as text: gzip or deflate undone (to at most
    RESPONSE_BODY_READ_CAP bytes: a compression bomb stays small), then UTF-8."""
    encoding = encoding.strip().lower()
    if encoding in ("gzip", "deflate"):
        import zlib

        try:
            wbits = 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS
            raw = zlib.decompressobj(wbits).decompress(raw, RESPONSE_BODY_READ_CAP)
        except zlib.error:
            pass
    return raw[:RESPONSE_BODY_READ_CAP].decode("utf-8", "replace")


def kept(text: str) -> str:
    """What logs and reports keep of a body: its first RESPONSE_BODY_KEEP characters."""
    return text[:RESPONSE_BODY_KEEP] + ("…" if len(text) > RESPONSE_BODY_KEEP else "")
