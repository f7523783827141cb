"""The one HTTP/1.1 client connection of ``send``/``run``/``replay`` (``pool.py``) and
``load`` (``load/client.py``): an ``asyncio.Protocol`` whose responses ``httptools``
parses, the split of a webhook URL into what a request needs, and the one TLS context
builder for ``--insecure`` / ``--ca-bundle``. Each user adds what it does on a response
(``pool`` keeps headers and a bounded body; ``load`` counts and writes the next one)."""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlsplit


def client_tls(verify: bool | str = True) -> ssl.SSLContext:
    """A client TLS context: the system's trust store, a CA bundle (``verify`` a path),
    or no verification at all (``verify=False``, ``--insecure``)."""
    context = ssl.create_default_context(cafile=verify if isinstance(verify, str) else None)
    if verify is False:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


# what stays as it is in a request target: RFC 3986's reserved and unreserved characters,
# and '%' (a path already percent-encoded is not encoded twice)
_TARGET_SAFE = "/?#[]@!$&'()*+,;=:%-._~"


def request_target(path: str) -> bytes:
    """A URL's path and query as the bytes of an HTTP request line: characters HTTP
    does not allow there (non-ASCII text from a filled ``{placeholder}``, a space) are
    percent-encoded as UTF-8, as browsers and httpx do."""
    return quote(path, safe=_TARGET_SAFE).encode("ascii")


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A webhook URL as a request needs it."""

    secure: bool
    host: str  # as a socket wants it: no brackets around an IPv6 address
    port: int
    host_header: str  # the Host header: brackets for IPv6, the port when the URL has one
    path: str  # path and query as the URL has them ({org_id}-style placeholders intact)
    target: bytes  # the request line's path and query, percent-encoded where it must be
    auth: bytes  # Basic credentials from the URL's userinfo, as httpx sends them (or b"")

    @classmethod
    def parse(cls, url: str) -> Endpoint:
        parts = urlsplit(url)
        secure = parts.scheme == "https"
        host = parts.hostname or ""
        shown = f"[{host}]" if ":" in host else host
        if parts.port:
            shown += f":{parts.port}"
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        auth = b""
        if parts.username is not None:
            import base64

            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            auth = b"Basic " + base64.b64encode(pair.encode())
        port = parts.port or (443 if secure else 80)
        return cls(secure, host, port, shown, path, request_target(path), auth)


class Http1Connection(asyncio.Protocol):
    """One keep-alive connection, one request in flight at a time: the transport, the
    response parser (its callbacks are the subclass's ``on_*`` methods), and how it
    ends. A subclass says what a response that is not HTTP means (``bad_response``)."""

    def __init__(self) -> None:
        import httptools

        self.parser = httptools.HttpResponseParser(self)
        self._parse_error = httptools.HttpParserError
        self.transport: asyncio.Transport | None = None
        self.closed = False

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def feed(self, data: bytes) -> bool:
        """Parse the bytes that arrived; False (and ``bad_response``) if they are not
        HTTP."""
        try:
            self.parser.feed_data(data)
        except self._parse_error as exc:
            self.bad_response(exc)
            return False
        return True

    def bad_response(self, exc: Exception) -> None:  # pragma: no cover - overridden
        self.abort()

    def abort(self) -> None:
        """Drop the connection at once (no FIN dance: the receiver sees a reset)."""
        if self.transport is not None and not self.closed:
            self.transport.abort()
        self.closed = True
