"""An ASGI app (FastAPI, Starlette) under uvicorn on 127.0.0.1, on a thread, for tests
that need a real receiver of a framework users write theirs in."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .cli_helpers import free_port


@dataclass
class Served:
    url: str  # http://127.0.0.1:PORT
    server: Any
    thread: threading.Thread

    def stop(self) -> None:
        """Stop it now and wait until it has (the test goes on: its clients get refused
        connections)."""
        self.server.should_exit = True
        self.thread.join(10)


@contextlib.contextmanager
def uvicorn_app(app: Any) -> Iterator[Served]:
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start within 15 s"
    served = Served(f"http://127.0.0.1:{port}", server, thread)
    try:
        yield served
    finally:
        served.stop()
