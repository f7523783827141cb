"""What stands between the control API and the web pages a user has open: an ASGI
middleware in front of every request of ``serve``.

* **Host** must name this server: an IP literal (a DNS name cannot rebind to one),
  ``localhost``, or a name given with ``--allow-host``. DNS rebinding (a page whose name
  resolves to 127.0.0.1 after it loaded) is refused with 421, so it cannot read the
  journal.
* **Cross-origin writes** are refused with 403: a POST, PUT, PATCH or DELETE to
  ``/_mock`` whose ``Origin`` is not this server's own (or whose ``Sec-Fetch-Site`` says
  ``cross-site``). A body must say ``application/json`` or ``application/yaml``
  (415 otherwise): the types a page can send without a CORS preflight (text/plain,
  forms) are never accepted.
* **Loops** are refused with 508: a ``/_mock`` request made by atscale-mock's own sender
  (its ``User-Agent``) is a delivery that reached a control API, this serve's or
  another's (see :mod:`.destinations`), and would start more deliveries.
* **Bodies** are bounded (413 past ``max_body`` bytes, counted as they arrive, with or
  without a Content-Length).
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from ..config import USER_AGENT

MAX_BODY = 16 * 1024 * 1024  # bytes: a scenario of 100,000 steps is about 5 MB
#: text/plain (or no type) is what a browser may send cross-site without asking first, so
#: it is refused: a scenario's YAML comes as application/yaml (or x-yaml, or text/yaml)
BODY_TYPES = ("application/json", "application/yaml", "application/x-yaml", "text/yaml")
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _hostname(host: str) -> str:
    """``[::1]:80`` -> ``::1``, ``Example.COM:80`` -> ``example.com``."""
    try:
        name = urlsplit("//" + host).hostname
    except ValueError:
        return ""
    return (name or "").lower().rstrip(".")


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _has_body(headers: dict[str, str]) -> bool:
    return headers.get("content-length", "0") not in ("", "0") or "transfer-encoding" in headers


class BrowserGuard:
    """The checks above, in front of ``app``."""

    def __init__(self, app: Any, allow_hosts: Iterable[str] = (), max_body: int = MAX_BODY):
        self.app = app
        self.allowed = {"localhost"} | {_hostname(h) or h.lower() for h in allow_hosts}
        self.max_body = max_body

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        refusal = self.refusal(scope, headers)
        if refusal is not None:
            await _answer(send, *refusal)
            return
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_body:
            await _answer(send, 413, f"the body is over {self.max_body} bytes")
            return
        if not _has_body(headers):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        seen = 0
        while True:  # the body read whole before the app sees it, bounded as it arrives
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.max_body:
                await _answer(send, 413, f"the body is over {self.max_body} bytes")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Any:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def refusal(self, scope: Any, headers: dict[str, str]) -> tuple[int, str] | None:
        host = _hostname(headers.get("host", ""))
        if not host or not (_is_ip(host) or host in self.allowed):
            return 421, (
                f"Host {headers.get('host', '')!r} does not name this server; "
                "start serve with --allow-host NAME to accept it"
            )
        if not scope["path"].startswith("/_mock"):
            return None
        agent = headers.get("user-agent", "")
        if agent == USER_AGENT or agent.startswith(USER_AGENT + "/"):
            return 508, (
                "a delivery of atscale-mock reached serve's control API (a subscription "
                "pointing at a serve): refused, it would start more deliveries"
            )
        if scope["method"] not in _WRITES:
            return None
        origin = headers.get("origin")
        if origin is not None and _origin(origin) != _origin_of(scope, headers):
            return 403, f"cross-origin request from {origin!r} refused"
        if headers.get("sec-fetch-site") == "cross-site":
            return 403, "cross-site request refused"
        has_body = _has_body(headers)
        kind = headers.get("content-type", "").split(";")[0].strip().lower()
        if has_body and kind not in BODY_TYPES:
            return 415, (
                f"Content-Type {kind or 'none'!r} is not accepted: send application/json "
                "(or application/yaml for a scenario)"
            )
        return None


def _origin(text: str) -> str:
    try:
        parts = urlsplit(text)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return "invalid"
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


def _origin_of(scope: Any, headers: dict[str, str]) -> str:
    scheme = scope.get("scheme", "http")
    return _origin(f"{scheme}://{headers.get('host', '')}")


async def _answer(send: Any, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
