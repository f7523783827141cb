"""The Locust generator: a headless master with two local workers, and Locust kept out of
every other command's imports."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from atscale_mock.events.catalogue import find_event
from atscale_mock.events.schema import validation_errors

from .cli_helpers import proc
from .httpserver import ScriptedServer


def test_locust_master_and_two_workers(srv: ScriptedServer) -> None:
    r = proc(
        "load",
        "--generator",
        "locust",
        "--processes",
        "2",
        "--to",
        srv.url + "/ok",
        "--rate",
        "60",
        "-d",
        "4s",
        "-c",
        "4",
        "--mix",
        "slow-query=3,prune-result=1",
        "--seed",
        "3",
        "--json",
        "--threshold",
        "error_rate<1%",
        timeout=120,
    )
    assert r.code == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["mode"] == "locust" and data["sent"] > 20
    # at the deadline a request in flight finishes and is counted (--stop-timeout): what
    # Locust reports is what the receiver got, request for request
    assert len(srv.seen) == data["sent"] == data["completed"]
    assert data["thresholds"][0]["passed"] is True
    # statuses are counted on the workers and merged on the master
    assert set(data["statuses"]) == {"200"}
    assert data["statuses"]["200"] == data["sent"]
    workers = Counter(s.headers.get("X-Atscale-Mock-Worker") for s in srv.seen)
    assert set(workers) == {"0", "1"}, workers  # both workers sent some
    bodies = srv.bodies()
    for body in bodies:
        assert validation_errors(find_event(body["event_type"]), body) == []  # type: ignore[arg-type]
    assert {b["event_type"] for b in bodies} == {"slow_query_event", "aggregate_prune_result"}
    # the per-event table: Locust's count of each event is the receiver's
    got = Counter(find_event(b["event_type"]).name for b in bodies)  # type: ignore[union-attr]
    assert {e["event"]: e["requests"] for e in data["events"]} == dict(got)
    ids = [b.get("query_id") or b.get("id") for b in bodies]
    assert len(set(ids)) == len(ids)


def test_locustfile_command_prints_an_existing_path() -> None:
    r = proc("locustfile")
    assert r.code == 0 and Path(r.stdout.strip()).is_file()
    assert "EngineWebhooks" in Path(r.stdout.strip()).read_text()


def test_other_commands_never_import_locust_or_gevent() -> None:
    code = """
import sys
from typer.testing import CliRunner
from atscale_mock.cli import app
runner = CliRunner()
for args in (["events"], ["show", "slow-query"], ["schema"], ["plan", "scenarios/all-events.yaml"],
             ["validate", "scenarios/engine-day.yaml"], ["locustfile"], ["load", "--help"],
             ["send", "unpublish", "--to", "local"],
             ["load", "--to", "local", "--rate", "20", "-d", "0.5s", "-q"]):
    result = runner.invoke(app, args)
    assert result.exit_code == 0, (args, result.output)
bad = sorted(m for m in sys.modules if m.split(".")[0] in ("locust", "gevent"))
print(",".join(bad) or "clean")
"""
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent.parent,
        timeout=120,
    )
    assert done.stdout.strip() == "clean", done.stdout + done.stderr


def test_locust_follows_a_ramp(srv: ScriptedServer, tmp_path: Path) -> None:
    """A ramp stays a ramp: 0 -> 80 req/s over 4 s sends about its integral (160),
    clearly more of it in the second half (a mean rate would split it evenly)."""
    r = proc(
        "load", "--engine", "locust", "--to", srv.url + "/ok", "--ramp", "0..80", "-d", "4s",
        "-c", "4", "--json", "--report", str(tmp_path / "r.html"), timeout=120,
    )  # fmt: skip
    assert r.code == 0, r.stderr
    assert "--engine is deprecated; use --generator" in r.stderr  # the old spelling works
    sent = json.loads(r.stdout)["sent"]
    assert 100 <= sent <= 200, sent
    times = sorted(s.at for s in srv.seen)
    middle = times[0] + (times[-1] - times[0]) / 2
    first = sum(t < middle for t in times)
    assert len(times) - first > 1.5 * first, (first, len(times) - first)
    # the report draws Locust's per-second history (it said "no data" before)
    html = (tmp_path / "r.html").read_text()
    assert "no data" not in html and "<svg" in html


def test_locust_file_keeps_little_per_second_for_a_long_run() -> None:
    """The Locust file's per-second data (what the report draws) keeps a histogram only
    for the last few seconds: older ones keep their percentiles. Run in a subprocess:
    importing Locust patches the standard library with gevent."""
    script = r"""
import json, time
from atscale_mock.load import locustfile as lf  # atscale_mock.load is the function

class R:  # a response as Locust's fast client gives it
    status_code = 200

clock = [1_000_000.0]
time.time = lambda: clock[0]
for second in range(3600):  # an hour, two requests a second
    for ms in (1.5, 40.0):
        lf._count(response=R(), response_time=ms)
    clock[0] += 1.0
live = [s for s, b in lf._seconds.items() if "hist" in b]
final = [b["latency_ms"] for b in lf._seconds.values() if "latency_ms" in b]
master = {}
lf._merge(master, lf._encoded(lf._seconds))
lf._merge(master, lf._encoded(lf._seconds))  # a second report of the same seconds
counts = sum(sum(b["counts"].values()) for b in master.values())
print(json.dumps({"seconds": len(lf._seconds), "live": len(live), "p50": final[0]["p50"],
                  "max": final[0]["max"], "merged": len(master), "counts": counts,
                  "master_live": sum("hist" in b for b in master.values())}))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["seconds"] == 3600 and got["live"] <= 11  # histograms: the last ~10 s only
    assert 1.4 <= got["p50"] <= 1.6 and 39.9 <= got["max"] <= 40.1  # percentiles kept
    assert got["merged"] == 3600 and got["counts"] == 2 * 7200  # both reports counted
    assert got["master_live"] <= 11
