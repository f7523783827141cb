"""A full disk: every command says so in one line, still prints its summary, exits 1,
and the receiver keeps answering. Run against a small tmpfs filled to the brim (where
this machine lets the tests mount one) and against /dev/full (every write: ENOSPC)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .cli_helpers import no_traceback, proc, start_receiver
from .httpserver import ScriptedServer

SCENARIO = Path(__file__).parent.parent / "scenarios" / "all-events.yaml"


def _tmpfs(tmp_path: Path) -> Iterator[Path]:
    where = tmp_path / "full"
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip() or 'not root'})")
    try:
        fd = os.open(where / "filler", os.O_WRONLY | os.O_CREAT)
        try:  # fill it: every later write fails
            while True:
                os.write(fd, b"x" * 4096)
        except OSError:
            pass
        finally:
            os.close(fd)
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


@pytest.fixture(params=["tmpfs", "dev-full"])
def full(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """(a log path, a report path) whose writes fail with ENOSPC."""
    if request.param == "dev-full":
        if not os.path.exists("/dev/full"):
            pytest.skip("no /dev/full on this machine")
        paths = []
        for name in ("log.jsonl", "report.json", "junit.xml", "report.html"):
            (tmp_path / name).symlink_to("/dev/full")  # named files, every write fails
            paths.append(tmp_path / name)
        yield paths[0], paths[1]
        return
    for where in _tmpfs(tmp_path):
        yield where / "log.jsonl", where / "report.json"


def test_send_log_on_a_full_disk(srv: ScriptedServer, full: tuple[Path, Path]) -> None:
    log, _ = full
    r = proc("send", "unpublish", "--to", srv.url + "/ok", "-n", "3", "--log", str(log))
    no_traceback(r)
    assert r.code == 1
    assert "3 delivered, 3 ok" in r.stderr  # the summary, whatever the disk
    assert f"error: cannot write log {log}" in r.stderr and "3 attempts not logged" in r.stderr
    assert len(srv.seen) == 3


def test_replay_log_on_a_full_disk(
    srv: ScriptedServer, full: tuple[Path, Path], tmp_path: Path
) -> None:
    source = tmp_path / "sent.jsonl"
    assert proc("send", "unpublish", "--to", srv.url + "/ok", "--log", str(source)).code == 0
    log, _ = full
    r = proc("replay", str(source), "--to", srv.url + "/again", "--log", str(log))
    no_traceback(r)
    assert r.code == 1 and "1 attempts not logged" in r.stderr and "1 delivered" in r.stderr


def test_run_reports_on_a_full_disk(srv: ScriptedServer, full: tuple[Path, Path]) -> None:
    log, report = full
    junit = report.with_name("junit.xml")
    r = proc(
        "run", str(SCENARIO), "--to", srv.url + "/ok", "--log", str(log),
        "--report", str(report), "--junit", str(junit),
    )  # fmt: skip
    no_traceback(r)
    assert r.code == 1
    assert "passed, 0 failed" in r.stderr  # the summary came first
    assert f"error: cannot write {report}" in r.stderr
    assert "attempts not logged" in r.stderr


def test_load_report_on_a_full_disk(full: tuple[Path, Path]) -> None:
    _, report = full
    path = report.with_name("report.html")
    r = proc("load", "--to", "local", "--rate", "50", "-d", "1s", "--report", str(path), "--json")
    no_traceback(r)
    assert r.code == 1
    summary = json.loads(r.stdout)  # the results are not lost with the report
    assert summary["completed"] >= 40
    assert f"error: cannot write {path}" in r.stderr


def test_receive_record_on_a_full_disk_keeps_answering(full: tuple[Path, Path]) -> None:
    record, _ = full
    p, url = start_receiver("--record", str(record))
    try:
        import time

        deadline = time.monotonic() + 10
        while True:
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        for _ in range(3):
            answer = httpx.post(url + "/hooks", json={"event_type": "x"}, timeout=5)
            assert answer.status_code == 200
    finally:
        p.send_signal(2)
        out, err = p.communicate(timeout=20)
    assert "Traceback" not in err
    assert "warning: cannot write to" in err
    assert "3 requests not written to --record" in err
