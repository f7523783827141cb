"""Delivery to an app object in the same process, with no server: an ASGI app
(FastAPI, Starlette, Django's ASGIHandler) through httpx's ASGI transport, a WSGI app
(Flask, Django's WSGIHandler) through httpx's WSGI transport on a worker thread. The
request is the same one the network would carry (headers, signature, faults)."""

from __future__ import annotations

import inspect
from typing import Any

import httpx

IN_PROCESS_BASE = "http://testserver"


def is_app(to: object) -> bool:
    """Whether ``to`` is an app object rather than a URL or "local"."""
    return not isinstance(to, str) and callable(to)


def is_asgi(app: Any) -> bool:
    call = app if inspect.isfunction(app) or inspect.ismethod(app) else app.__call__
    return inspect.iscoroutinefunction(call)


class _WSGIAsync(httpx.AsyncBaseTransport):
    """httpx's WSGI transport is synchronous: run it on a worker thread."""

    def __init__(self, app: Any) -> None:
        self._sync = httpx.WSGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        import asyncio

        body = await request.aread()
        copy = httpx.Request(request.method, request.url, headers=request.headers, content=body)
        response = await asyncio.to_thread(self._sync.handle_request, copy)
        content = await asyncio.to_thread(response.read)
        return httpx.Response(response.status_code, headers=response.headers, content=content)


def app_transport(app: Any) -> httpx.AsyncBaseTransport:
    """The httpx transport that delivers to ``app`` in process."""
    if is_asgi(app):
        return httpx.ASGITransport(app=app)
    return _WSGIAsync(app)


def app_url(path: str) -> str:
    return IN_PROCESS_BASE + (path if path.startswith("/") else "/" + path)
