"""replay reads its file as it sends: a big log starts sending at once, in bounded
memory, and --max-time ends it with its summary."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .cli_helpers import no_traceback, proc
from .httpserver import ScriptedServer

LINES = 150_000  # about 100 MB of log


def write_log(path: Path, lines: int = LINES) -> None:
    """A --log file of ``lines`` deliveries (every other one failed), 700 bytes each;
    bench/replay_stream.py writes its log with this too."""
    body = json.dumps({"event_type": "QUERY_COMPLETED", "padding": "x" * 500})
    with path.open("w") as fh:
        for i in range(lines):
            line = {
                "event": "slow-query",
                "delivery": f"d{i}",
                "attempt": 1,
                "time": "2026-01-01T00:00:00+00:00",
                "body": body,
                "request_headers": {"Content-Type": "application/json"},
                "status": 200 if i % 2 else 500,
            }
            fh.write(json.dumps(line) + "\n")


def test_a_big_log_starts_at_once_and_max_time_gives_a_summary(
    srv: ScriptedServer, tmp_path: Path
) -> None:
    log = tmp_path / "big.jsonl"
    write_log(log)
    before = len(srv.seen)
    measure = (
        "import resource, subprocess, sys; "
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
        "print(done.returncode); print(done.stderr[-3000:]); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    exe = str(Path(sys.executable).parent / "atscale-mock")
    done = subprocess.run(
        [sys.executable, "-c", measure, exe, "replay", str(log), "--to", srv.url + "/ok",
         "--max-time", "2s", "-q"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    lines = done.stdout.splitlines()
    code, peak_kb = int(lines[0]), int(lines[-1])
    stderr = "\n".join(lines[1:-1])
    assert code == 1, stderr  # --max-time reached: exit 1 with the summary
    assert "delivered" in stderr or "replayed" in stderr, stderr
    assert "Traceback" not in stderr
    assert len(srv.seen) > before  # it sent within the 2 s (loading the file took longer)
    assert peak_kb < 250_000, peak_kb  # a 100 MB log held whole took ~4x its size


def test_only_failed_follows_each_deliverys_final_attempt(
    srv: ScriptedServer, tmp_path: Path
) -> None:
    log = tmp_path / "log.jsonl"
    rows = [
        ("a", 1, 500),
        ("b", 1, 500),
        ("a", 2, 200),  # a's retry succeeded: not replayed
        ("c", 1, 200),
    ]
    log.write_text(
        "".join(
            json.dumps({"event": "slow-query", "delivery": d, "attempt": n, "status": s, "body": d})
            + "\n"
            for d, n, s in rows
        )
    )
    before = len(srv.seen)
    r = proc("replay", str(log), "--to", srv.url + "/ok", "--only-failed")
    assert r.code == 0, r.stderr
    assert [s.body for s in srv.seen[before:]] == [b"b"]
    assert "replayed 1 deliveries" in r.stderr


def test_a_bad_line_in_the_middle_names_its_line(srv: ScriptedServer, tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    good = json.dumps({"event": "slow-query", "delivery": "a", "body": "{}"})
    log.write_text(good + "\n{not json\n" + good.replace('"a"', '"b"') + "\n")
    r = proc("replay", str(log), "--to", srv.url + "/ok")
    assert r.code == 2 and f"{log}:2" in r.stderr
    no_traceback(r)


def test_a_torn_last_line_is_skipped_with_a_warning(srv: ScriptedServer, tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    good = json.dumps({"event": "slow-query", "delivery": "a", "body": "{}"})
    log.write_text(good + '\n{"event": "slow-q')
    r = proc("replay", str(log), "--to", srv.url + "/ok")
    assert r.code == 0 and "torn last line" in r.stderr, r.stderr
