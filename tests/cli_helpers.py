from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass

from typer.testing import CliRunner

from atscale_mock.cli import app


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


def cli(*args: str) -> Result:
    """Run a command in-process through Typer's CliRunner."""
    res = CliRunner().invoke(app, list(args))
    if res.exception and not isinstance(res.exception, SystemExit):
        raise res.exception
    return Result(res.exit_code, res.stdout, res.stderr)


def proc(*args: str, timeout: float = 60, env: dict[str, str] | None = None) -> Result:
    """Run the real program in a subprocess (python -m atscale_mock)."""
    done = subprocess.run(
        [sys.executable, "-m", "atscale_mock", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def no_traceback(r: Result) -> None:
    assert "Traceback" not in r.stdout + r.stderr


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_receiver(*args: str) -> tuple[subprocess.Popen[str], str]:
    """`atscale-mock receive` in a subprocess on a free port, and its URL."""
    port = free_port()
    p = subprocess.Popen(
        [sys.executable, "-m", "atscale_mock", "receive", "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return p, f"http://127.0.0.1:{port}"


def on_terminal(*args: str, timeout: float = 60) -> tuple[int, str]:
    """Run the real program with a pseudo-terminal as stdin, stdout and stderr (as in a
    user's shell): its exit code and everything it wrote to the terminal, ANSI codes
    included."""
    import os
    import pty
    import select
    import time

    master, slave = pty.openpty()
    env = {**os.environ, "COLUMNS": "120", "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    p = subprocess.Popen(
        [sys.executable, "-m", "atscale_mock", *args],
        stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True,
    )  # fmt: skip
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                if p.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        code = p.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if p.poll() is None:
            p.kill()
        os.close(master)
    return code, b"".join(chunks).decode("utf-8", errors="replace")
