"""Delivery to an app object in the same process, with no server: an ASGI app
(FastAPI, Starlette, Django's ASGIHandler) or a WSGI app (Flask, Django's WSGIHandler).
The request is the same one the network would carry (headers, signature, faults).

An app under test may be hostile or simply buggy, so it is held to what a real server
would hold it to:

* it runs off the caller's event loop (an ASGI app on an event loop of its own, a WSGI
  app on a worker thread, both daemon threads), so the attempt's deadline holds even
  for an app that blocks (``time.sleep`` in an ``async def``) and a hung app never
  keeps the process from exiting;
* its answer is read to at most ``RESPONSE_BODY_READ_CAP`` bytes (an endless stream
  ends there, as over the network);
* an exception, or an ASGI app that returns without answering, is a 500 (what uvicorn
  and gunicorn answer), so retries and expectations apply as to any 5xx; an app still
  silent at the deadline is a timeout, always (never a 500 by a race);
* when the transport closes, what still runs on the app's loop is cancelled and given
  ``CLOSE_GRACE`` seconds; a loop whose tasks will not end is left running on its
  daemon thread rather than closed under them (a task collected later on a closed loop
  fails in its ``finally``: "Event loop is closed", an unraisable exception that fails a
  pytest session).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import io
import threading
import time
from typing import Any
from urllib.parse import unquote

import httpx

from ..config import DEFAULT_TIMEOUT, RESPONSE_BODY_READ_CAP

IN_PROCESS_BASE = "http://testserver"
CLOSE_GRACE = 1.0  # seconds tasks on a closing app loop get to end once cancelled
_SILENT = object()  # _call_asgi's answer when the app said nothing by the deadline

Answer = tuple[int, list[tuple[bytes, bytes]], bytes]


def is_app(to: object) -> bool:
    """Whether ``to`` is an app object rather than a URL or "local"."""
    return not isinstance(to, str) and callable(to)


def is_asgi(app: Any) -> bool:
    call = app if inspect.isfunction(app) or inspect.ismethod(app) else app.__call__
    return inspect.iscoroutinefunction(call)


def _crashed(exc: BaseException | None) -> Answer:
    what = f"{type(exc).__name__}: {exc}" if exc is not None else "no response"
    body = f"Internal Server Error (in-process app: {what})".encode()
    return 500, [(b"content-type", b"text/plain; charset=utf-8")], body[:RESPONSE_BODY_READ_CAP]


class _AppTransport(httpx.AsyncBaseTransport):
    """Shared by both kinds: the request read, the app's answer awaited with a deadline
    of ``timeout`` seconds (the sender's own deadline is the same or shorter)."""

    def __init__(
        self, app: Any, timeout: float = DEFAULT_TIMEOUT, cap: int = RESPONSE_BODY_READ_CAP
    ) -> None:
        self.app = app
        self.timeout = timeout
        self.cap = cap

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        future = asyncio.wrap_future(self.start(request, body))
        try:  # the app's own deadline decides; this one only catches a blocked loop
            answer = await asyncio.wait_for(future, self.timeout + 0.5)
        except TimeoutError:
            answer = _SILENT
        if answer is _SILENT:
            raise httpx.ReadTimeout("the in-process app did not answer in time")
        status, headers, content = answer
        return httpx.Response(status, headers=headers, content=content)

    def start(self, request: httpx.Request, body: bytes) -> concurrent.futures.Future[Any]:
        raise NotImplementedError


def _run_then_close(loop: asyncio.AbstractEventLoop) -> None:
    """The app's loop until ``aclose`` stops it; then its tasks cancelled and, once they
    have all ended, the loop closed (its self-pipe with it). Tasks that outlive
    ``CLOSE_GRACE`` keep the loop running on this daemon thread until the process
    exits: nothing is ever collected pending on a closed loop."""
    asyncio.set_event_loop(loop)
    loop.run_forever()
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.wait(pending, timeout=CLOSE_GRACE))
    if any(not t.done() for t in pending):
        loop.run_forever()  # never stopped again: the thread is a daemon
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()


class ASGIAppTransport(_AppTransport):
    """An ASGI app on an event loop of its own, on a daemon thread."""

    def __init__(
        self, app: Any, timeout: float = DEFAULT_TIMEOUT, cap: int = RESPONSE_BODY_READ_CAP
    ):
        super().__init__(app, timeout, cap)
        self._loop: asyncio.AbstractEventLoop | None = None

    def _app_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            threading.Thread(
                target=_run_then_close,
                args=(self._loop,),
                name="atscale-mock-asgi-app",
                daemon=True,
            ).start()
        return self._loop

    def start(self, request: httpx.Request, body: bytes) -> concurrent.futures.Future[Any]:
        deadline = time.monotonic() + self.timeout
        coro = _call_asgi(self.app, _scope(request), body, self.cap, deadline)
        return asyncio.run_coroutine_threadsafe(coro, self._app_loop())

    async def aclose(self) -> None:
        if self._loop is not None:  # a blocked app keeps its thread: a daemon, it goes at exit
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._loop = None


class WSGIAppTransport(_AppTransport):
    """A WSGI app on a daemon worker thread per request. A thread blocked in the app
    cannot be stopped, so at most ``MAX_HUNG_CALLS`` may be; past that, a request is a
    timeout at once (the app is not called), and a hung app costs a bounded number of
    threads however many requests a check or a run sends it."""

    MAX_HUNG_CALLS = 8

    def __init__(
        self, app: Any, timeout: float = DEFAULT_TIMEOUT, cap: int = RESPONSE_BODY_READ_CAP
    ):
        super().__init__(app, timeout, cap)
        self._running: dict[int, float] = {}  # call number -> its deadline
        self._calls = 0
        self._lock = threading.Lock()

    def hung(self) -> int:
        """Calls still in the app past their deadline."""
        now = time.monotonic()
        with self._lock:
            return sum(deadline < now for deadline in self._running.values())

    def start(self, request: httpx.Request, body: bytes) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        deadline = time.monotonic() + self.timeout
        if self.hung() >= self.MAX_HUNG_CALLS:
            future.set_result(_SILENT)
            return future
        with self._lock:
            self._calls += 1
            call = self._calls
            self._running[call] = deadline

        def work() -> None:
            try:
                answer = _call_wsgi(self.app, _environ(request, body), self.cap, deadline)
            except BaseException as exc:  # noqa: BLE001 - the app's failure is its answer
                answer = _crashed(exc)
            finally:
                with self._lock:
                    del self._running[call]
            if not future.cancelled():
                future.set_result(answer)

        threading.Thread(target=work, name="atscale-mock-wsgi-app", daemon=True).start()
        return future


def _scope(request: httpx.Request) -> dict[str, Any]:
    url = request.url
    raw_path = url.raw_path.split(b"?", 1)[0]
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": url.scheme,
        "path": unquote(raw_path.decode("ascii")),
        "raw_path": raw_path,
        "query_string": url.query,
        "root_path": "",
        "headers": [(k.lower(), v) for k, v in request.headers.raw],
        "client": ("127.0.0.1", 123),
        "server": (url.host, url.port or 80),
        "extensions": {},
    }


async def _call_asgi(
    app: Any, scope: dict[str, Any], body: bytes, cap: int, deadline: float
) -> Any:
    status: int | None = None
    headers: list[tuple[bytes, bytes]] = []
    chunks: list[bytes] = []
    size = 0
    finished = asyncio.Event()
    request_sent = False

    async def receive() -> dict[str, Any]:
        nonlocal request_sent
        if not request_sent:
            request_sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, headers, size
        if finished.is_set():
            return
        if message["type"] == "http.response.start":
            status = int(message["status"])
            headers = [(bytes(k), bytes(v)) for k, v in message.get("headers", [])]
        elif message["type"] == "http.response.body" and status is not None:
            chunk = bytes(message.get("body", b""))[: cap - size]
            chunks.append(chunk)
            size += len(chunk)
            if size >= cap or not message.get("more_body", False):
                finished.set()

    task = asyncio.ensure_future(app(scope, receive, send))
    done_wait = asyncio.ensure_future(finished.wait())
    try:
        await asyncio.wait(
            {task, done_wait},
            timeout=max(deadline - time.monotonic(), 0),
            return_when=asyncio.FIRST_COMPLETED,
        )
    finally:
        finished.set()
        done_wait.cancel()
    if not task.done():
        task.cancel()  # answered (or capped): what it does after that is not our concern
        if status is None:
            return _SILENT  # silent at the deadline: a timeout
        exc: BaseException | None = None
    else:
        exc = None if task.cancelled() else task.exception()
    if status is None:
        return _crashed(exc)
    return status, headers, b"".join(chunks)


def _environ(request: httpx.Request, body: bytes) -> dict[str, Any]:
    url = request.url
    environ: dict[str, Any] = {
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": url.scheme,
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),  # PEP 3333: a text stream (Flask logs to it)
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "REQUEST_METHOD": request.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote(url.raw_path.split(b"?", 1)[0].decode("ascii"), "latin-1"),
        "QUERY_STRING": url.query.decode("ascii"),
        "SERVER_NAME": url.host,
        "SERVER_PORT": str(url.port or 80),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
    }
    for key, value in request.headers.raw:
        name = key.decode("latin-1").upper().replace("-", "_")
        text = value.decode("latin-1")
        if name == "CONTENT_TYPE" or name == "CONTENT_LENGTH":
            environ[name] = text
        else:
            environ["HTTP_" + name] = text
    environ["CONTENT_LENGTH"] = str(len(body))
    return environ


def _call_wsgi(app: Any, environ: dict[str, Any], cap: int, deadline: float) -> Answer:
    started: list[Any] = []
    chunks: list[bytes] = []
    size = 0

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started[:] = [status, headers]
        return chunks.append

    result = app(environ, start_response)
    try:
        for chunk in result:  # an endless body ends at the cap or the deadline
            chunk = bytes(chunk)[: cap - size]
            chunks.append(chunk)
            size += len(chunk)
            if size >= cap or time.monotonic() > deadline:
                break
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    if not started:
        return _crashed(None)
    status = int(str(started[0]).split(" ", 1)[0])
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in started[1]]
    return status, headers, b"".join(chunks)[:cap]


def app_transport(app: Any, timeout: float = DEFAULT_TIMEOUT) -> httpx.AsyncBaseTransport:
    """The httpx transport that delivers to ``app`` in process."""
    if is_asgi(app):
        return ASGIAppTransport(app, timeout)
    return WSGIAppTransport(app, timeout)


def app_url(path: str) -> str:
    return IN_PROCESS_BASE + (path if path.startswith("/") else "/" + path)
