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
