"""One shutdown path: whenever a signal arrives, a command ends with the same exit code
and its summary; an event loop closes with nothing pending on it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .cli_helpers import start_receiver


def test_load_with_two_processes_interrupted_early_always_exits_130_with_a_summary() -> None:
    """Fifty interrupts, at 0.1 s steps from 0.1 s to 2 s after start (the first second
    was the race: a worker half made, a KeyboardInterrupt inside a queue read), half to
    the process alone as `kill -INT` does, half to its group as Ctrl-C does."""
    receiver, url = start_receiver("--quiet")
    failures: list[str] = []
    started = time.monotonic()
    try:
        time.sleep(1.0)
        for i in range(50):
            if time.monotonic() - started > 400:  # bounded in time, whatever happens
                failures.append(f"stopped after {i} runs: out of time")
                break
            at = 0.1 * (i % 20 + 1)
            p = subprocess.Popen(
                [sys.executable, "-m", "atscale_mock", "load", "--to", url + "/hooks",
                 "--processes", "2", "--rate", "100", "--duration", "30s",
                 "--timeout", "1s", "--json"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                start_new_session=True,
            )  # fmt: skip
            time.sleep(at)
            if i % 2:
                os.killpg(p.pid, signal.SIGINT)
            else:
                p.send_signal(signal.SIGINT)
            try:
                out, err = p.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                failures.append(f"run {i} at {at:.1f}s: hung")
                continue
            problem = _summary_problem(p.returncode, out, err)
            if problem:
                failures.append(f"run {i} at {at:.1f}s: {problem}")
    finally:
        receiver.terminate()
        receiver.communicate(timeout=10)
    assert failures == []


def _summary_problem(code: int, out: str, err: str) -> str:
    if code != 130:
        return f"exit {code}: {err[-500:]}"
    if "Traceback" in err or "never awaited" in err or "worker failed" in err:
        return f"noise: {err[-500:]}"
    try:
        data = json.loads(out)
    except ValueError:
        return f"no JSON summary: {out[-200:]!r}"
    if data.get("interrupted") is not True or "sent" not in data:
        return f"summary without interrupted/sent: {sorted(data)}"
    return ""


HOSTILE_APPS = """
import asyncio
import time

import pytest


async def never_answers(scope, receive, send):
    await asyncio.Event().wait()


async def ignores_cancellation(scope, receive, send):
    while True:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            continue


async def blocks_its_loop(scope, receive, send):
    time.sleep(1.5)


def hangs_wsgi(environ, start_response):
    time.sleep(3)
    start_response("200 OK", [])
    return [b""]


@pytest.mark.parametrize(
    "app", [never_answers, ignores_cancellation, blocks_its_loop, hangs_wsgi]
)
def test_a_hostile_app_is_a_timeout(app):
    import atscale_mock as am

    result = am.send("slow-query", to=app, timeout=0.5)
    assert result.deliveries[0].error_class == "timeout"
    assert result.deliveries[0].status is None
"""


@pytest.mark.parametrize("round_", range(10))
def test_a_session_against_hostile_in_process_apps_exits_0(tmp_path: Path, round_: int) -> None:
    """Each hung app is a timeout (never a 500 by a race), and the session ends with
    exit 0 and no unraisable warning: no task is collected on a closed loop."""
    (tmp_path / "test_hostile_apps.py").write_text(HOSTILE_APPS)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-W", "error",
         "-q", str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "4 passed" in done.stdout
    assert "Unraisable" not in done.stdout + done.stderr
    assert "Event loop is closed" not in done.stdout + done.stderr


def test_a_check_of_a_hanging_wsgi_app_is_bounded_in_time_and_threads() -> None:
    import threading

    import atscale_mock as am

    def hangs(environ: dict[str, object], start_response: object) -> list[bytes]:
        time.sleep(30)
        return [b""]

    before = threading.active_count()
    t0 = time.monotonic()
    card = am.check(hangs, fuzz=100, timeout=1, skip=["latency"])
    took = time.monotonic() - t0
    assert took < 60, took  # 214 s before
    assert threading.active_count() - before <= 10  # 98 threads were left behind
    assert not card.ok
