"""Starting ``atscale-mock serve`` as a user does (a subprocess) and talking to it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx


class ServeProcess:
    """``atscale-mock serve --port 0 ...`` in a subprocess; ``url`` once it is ready."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "atscale_mock", "serve", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.url = ""
        self.stderr_lines: list[str] = []
        deadline = time.monotonic() + 20
        assert self.proc.stderr is not None
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                break
            self.stderr_lines.append(line)
            if line.startswith("mock engine on "):
                self.url = line.split()[3]
                break
        assert self.url, "serve did not start: " + "".join(self.stderr_lines)

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(method, self.url + path, timeout=10, **kwargs)

    def stop(self, sig: int = signal.SIGTERM) -> tuple[int, str]:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
        out, err = self.proc.communicate(timeout=20)
        return self.proc.returncode, "".join(self.stderr_lines) + err


def settle(api: Any, timeout: float = 15.0) -> None:
    """Until the engine has nothing in flight and no run is running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        health = api("GET", "/_mock/health").json()
        runs = api("GET", "/_mock/scenarios").json()["runs"]
        if health["in_flight"] == 0 and all(r["status"] != "running" for r in runs):
            return
        time.sleep(0.05)
    raise AssertionError("the engine did not settle")


def journal_rows(path: Path) -> list[dict[str, Any]]:
    import sqlite3

    db = sqlite3.connect(str(path))
    db.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in db.execute("SELECT * FROM attempts ORDER BY seq")]
    finally:
        db.close()
