"""Running the mock engine: checks before binding, the journal file, uvicorn in the
foreground (``atscale-mock serve``) or on a background thread (tests, the pytest
plugin, :class:`EngineServer`)."""

from __future__ import annotations

import asyncio
import gc
import ipaddress
import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from ..config import install_hint as _install_hint
from ..errors import UsageError
from ..receiver.http_server import url_of
from ..redact import Redactor

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 10600
SHUTDOWN_GRACE = 3  # seconds open connections (a console's stream) get on shutdown


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, admin_token: str | None) -> None:
    """Off loopback, the control API must be guarded: refuse to start without a token."""
    if not is_loopback(host) and not admin_token:
        raise UsageError(
            f"admin_token: refusing to listen on {host} without an admin token",
            "anyone who can reach the port could drive the engine; give one "
            "(or ATSCALE_MOCK_ADMIN_TOKEN), or bind to 127.0.0.1",
            field="admin_token",
        )


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (port 0: any free one), or a UsageError saying why not."""
    from ..receiver.http_server import listen

    try:
        return listen(host, port)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise UsageError(f"serve: cannot listen on {host}:{port}: {reason}") from None


def require_extra() -> None:
    """A UsageError naming the extra when Starlette or uvicorn is not installed."""
    import importlib

    missing = []
    for name in ("starlette", "uvicorn"):
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise UsageError(
            f"serve needs {' and '.join(missing)}, which are not installed",
            _install_hint("serve"),
        )


def open_journal(
    path: str | Path | None,
    redactor: Redactor,
    on_error: Callable[[str], None] | None = None,
    max_rows: int | None = None,
) -> Any:
    """The journal at ``path`` (kept across restarts), or a new temporary file (deleted
    when the journal closes)."""
    from .journal import DEFAULT_MAX_ROWS, Journal

    rows = DEFAULT_MAX_ROWS if max_rows is None else max_rows
    if path is None:
        fd, path = tempfile.mkstemp(prefix="atscale-mock-journal-", suffix=".sqlite3")
        os.close(fd)
        return Journal(Path(path), redactor, on_error, rows, temporary=True)
    return Journal(Path(path), redactor, on_error, rows)


def build(
    journal: str | Path | None = None,
    admin_token: str | None = None,
    scenarios: list[str | Path] | None = None,
    verify: bool | str = True,
    on_error: Callable[[str], None] | None = None,
    allow_hosts: tuple[str, ...] = (),
    journal_max_rows: int | None = None,
    scenario_env: tuple[str, ...] = (),
    atscale_version: str | None = None,
) -> tuple[Any, Any]:
    """The engine and its ASGI app."""
    require_extra()
    from .app import build_app
    from .state import ServeState

    named: dict[str, Path] = {}
    from ..examples import resolve

    for item in scenarios or []:
        path = resolve(item)
        if not path.is_file():
            raise UsageError(f"scenarios: no such file {str(path)!r}", field="scenarios")
        from ..api.scenario import read

        read(path, atscale_version=atscale_version)  # problems now, not at the first POST
        named[path.stem] = path
    from ..events.versions import catalogue

    judged_by = catalogue(atscale_version)  # an undocumented version fails now
    redactor = Redactor([admin_token] if admin_token else [])
    engine = ServeState(
        open_journal(journal, redactor, on_error, journal_max_rows),
        named,
        verify,
        on_error,
        scenario_env,
    )
    engine.catalogue = judged_by
    return engine, build_app(engine, admin_token, allow_hosts)


def serve(
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    journal: str | Path | None = None,
    admin_token: str | None = None,
    scenarios: list[str | Path] | None = None,
    verify: bool | str = True,
    on_ready: Callable[[str, Path], None] | None = None,
    on_error: Callable[[str], None] | None = None,
    allow_hosts: tuple[str, ...] = (),
    journal_max_rows: int | None = None,
    deliver_to: tuple[str, ...] = (),
    scenario_env: tuple[str, ...] = (),
    atscale_version: str | None = None,
) -> None:
    """Run the mock engine until SIGINT or SIGTERM (then deliveries in flight are
    journaled as interrupted, and the signal is re-raised for the caller). Requests
    whose Host is not an IP literal, ``localhost`` or one of ``allow_hosts`` are
    refused; the journal keeps its newest ``journal_max_rows`` rows. Deliveries never
    go to serve itself, and only to ``deliver_to`` hosts when given
    (:mod:`.destinations`); a posted scenario reads only the environment variables
    named in ``scenario_env``. ``atscale_version``: triggers of events that AtScale
    version does not have are refused."""
    check_bind(host, admin_token)
    engine, app = build(  # checks that the serve extra is installed
        journal,
        admin_token,
        scenarios,
        verify,
        on_error,
        allow_hosts,
        journal_max_rows,
        scenario_env,
        atscale_version,
    )
    import uvicorn

    sock = bind(host, port)
    engine.destinations = destinations_of(sock, deliver_to)
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=SHUTDOWN_GRACE,
        access_log=False,
    )
    server = uvicorn.Server(config)

    async def main() -> None:
        async def announce() -> None:
            while not server.started and not server.should_exit:
                await asyncio.sleep(0.01)
            if server.started:
                # what start-up made lives as long as the server: out of the collector's
                # way, so a full collection does not stall deliveries (tens of ms here)
                gc.freeze()
                if on_ready:
                    on_ready(url_of(sock), engine.journal.path)

        waiter = asyncio.get_running_loop().create_task(announce())
        watcher = asyncio.get_running_loop().create_task(stop_checks_on_exit(server, engine))
        try:
            await server.serve(sockets=[sock])
        finally:
            waiter.cancel()
            watcher.cancel()
            engine.journal.close()
            sock.close()

    _run(main())


async def stop_checks_on_exit(server: Any, engine: Any) -> None:
    """Checks stop as soon as shutdown begins (SIGTERM, Ctrl-C), so their requests end
    with an answer inside the grace period instead of being cancelled by uvicorn with
    a traceback, and no check's thread keeps the process alive."""
    while not server.should_exit:
        await asyncio.sleep(0.1)
    engine.checks.stop_all()


def _run(coro: Any) -> None:
    """Run ``coro`` on uvloop where it is installed (with the stock loop, responses on
    a kept-alive connection waited ~40 ms for a delayed ACK here), else asyncio's."""
    try:
        import uvloop

        factory: Callable[[], asyncio.AbstractEventLoop] | None = uvloop.new_event_loop
    except ImportError:  # pragma: no cover - Windows
        factory = None
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(coro)


def destinations_of(sock: socket.socket, deliver_to: tuple[str, ...]) -> Any:
    from .destinations import Destinations
    from .model import FieldError

    host, port = sock.getsockname()[:2]
    try:
        return Destinations(host, port, deliver_to)
    except FieldError as exc:
        raise UsageError(f"deliver_to: {exc}", field="deliver_to") from None


class EngineServer:
    """The mock engine on a background thread, for tests and scripts::

    with EngineServer() as engine:
        httpx.post(engine.url + "/_mock/webhooks", json={"url": receiver_url})
    """

    def __init__(
        self,
        host: str = DEFAULT_HOST,
        port: int = 0,
        journal: str | Path | None = None,
        admin_token: str | None = None,
        scenarios: list[str | Path] | None = None,
        allow_hosts: tuple[str, ...] = (),
        journal_max_rows: int | None = None,
        deliver_to: tuple[str, ...] = (),
        scenario_env: tuple[str, ...] = (),
        atscale_version: str | None = None,
    ) -> None:
        check_bind(host, admin_token)
        self.engine, self.app = build(
            journal,
            admin_token,
            scenarios,
            allow_hosts=allow_hosts,
            journal_max_rows=journal_max_rows,
            scenario_env=scenario_env,
            atscale_version=atscale_version,
        )
        self._sock = bind(host, port)
        self.engine.destinations = destinations_of(self._sock, deliver_to)
        self.url = url_of(self._sock)
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> EngineServer:
        import uvicorn

        config = uvicorn.Config(
            self.app, log_level="warning", lifespan="on", timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)

        async def main() -> None:
            watcher = asyncio.get_running_loop().create_task(
                stop_checks_on_exit(self._server, self.engine)
            )
            try:
                await self._server.serve(sockets=[self._sock])
            finally:
                watcher.cancel()

        self._thread = threading.Thread(target=lambda: _run(main()), daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the mock engine did not start")
            time.sleep(0.01)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        self.engine.journal.close()
        self._sock.close()
