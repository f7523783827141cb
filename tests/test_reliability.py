"""The fault matrix: every sending command against a receiver that misbehaves in every
way we know, plus interruption, TLS, bad command lines and secrets. Nothing may end in
a traceback, every attempt must be in the log, and the exit code must be the documented
one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .cli_helpers import Result, cli, free_port, no_traceback, proc, start_receiver
from .httpserver import ScriptedServer

# behaviour path -> (exit code, error class or status in the log, attempts with --retries 2)
MATRIX: dict[str, tuple[int, str, int]] = {
    "REFUSED": (1, "refused", 3),
    "/reset": (1, "reset", 3),
    "/garbage": (1, "protocol", 3),
    "/slow/1.5": (1, "timeout", 3),
    "/huge": (0, "200", 1),
    "/redirect": (1, "302", 1),
    "/retry-after/1/x": (0, "200", 2),
    "/flaky/2/x": (0, "200", 3),
    "/status/400": (1, "400", 1),
    "/status/410": (1, "410", 1),
    "/status/500": (1, "500", 3),
}
CASES = list(MATRIX)


def url_for(srv: ScriptedServer, behaviour: str) -> str:
    if behaviour == "REFUSED":
        return f"http://127.0.0.1:{free_port()}/x"
    return srv.url + behaviour


_WRAPPER = """
import json, resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps([done.returncode, done.stdout, done.stderr, peak]))
"""


def measured(*args: str) -> tuple[Result, float]:
    """Run the program; return its result and its peak resident size in MB. A small
    wrapper process starts it: a child forked straight from pytest would count pytest's
    own pages in its peak."""
    done = subprocess.run(
        [sys.executable, "-c", _WRAPPER, sys.executable, "-m", "atscale_mock", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    code, out, err, peak = json.loads(done.stdout)
    return Result(code, out, err), float(peak)


def outcomes(log: Path) -> list[str]:
    return [
        str(r["status"] if r["status"] is not None else r["error_class"])
        for r in map(json.loads, log.read_text().splitlines())
    ]


def check(behaviour: str, r: Result, log: Path) -> None:
    code, outcome, attempts = MATRIX[behaviour]
    no_traceback(r)
    assert r.code == code, (behaviour, r.stdout, r.stderr)
    seen = outcomes(log)
    assert len(seen) == attempts, (behaviour, seen)
    assert seen[-1] == outcome, (behaviour, seen)


@pytest.mark.parametrize("behaviour", CASES)
def test_send_matrix(srv: ScriptedServer, tmp_path: Path, behaviour: str) -> None:
    log = tmp_path / "log.jsonl"
    r, peak = measured(
        "send",
        "slow-query",
        "--to",
        url_for(srv, behaviour),
        "--retries",
        "2",
        "--timeout",
        "0.5",
        "--log",
        str(log),
    )
    check(behaviour, r, log)
    if behaviour == "/huge":  # a send's peak is ~60 MB; holding the body would add 64
        assert peak < 100, f"peak RSS {peak:.0f} MB: the 64 MiB body was held"


@pytest.mark.parametrize("behaviour", CASES)
def test_run_matrix(srv: ScriptedServer, tmp_path: Path, behaviour: str) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        f'version: 1\ndefaults: {{to: "{url_for(srv, behaviour)}", '
        "retries: 2, timeout: 500ms}\nsteps:\n  - id: one\n    event: slow-query\n"
    )
    log, junit, report = tmp_path / "log.jsonl", tmp_path / "j.xml", tmp_path / "r.json"
    r = proc(
        "run", str(scenario), "--log", str(log), "--junit", str(junit), "--report", str(report)
    )
    check(behaviour, r, log)
    data = json.loads(report.read_text())
    (delivery,) = data["results"]
    assert data["deliveries"] == 1  # the count, under send's name
    assert delivery["attempts"] == MATRIX[behaviour][2]
    assert str(delivery["status"] or delivery["error_class"]) == MATRIX[behaviour][1]
    assert ("<failure" in junit.read_text()) == (MATRIX[behaviour][0] == 1)


@pytest.mark.parametrize("behaviour", CASES)
def test_replay_matrix(srv: ScriptedServer, tmp_path: Path, behaviour: str) -> None:
    recorded = tmp_path / "sent.jsonl"
    assert cli("send", "batch-start", "--to", srv.url + "/ok", "--log", str(recorded)).code == 0
    srv.clear()
    log = tmp_path / "log.jsonl"
    r = proc(
        "replay",
        str(recorded),
        "--to",
        url_for(srv, behaviour),
        "--retries",
        "2",
        "--timeout",
        "0.5",
        "--log",
        str(log),
    )
    check(behaviour, r, log)


@pytest.mark.parametrize("behaviour", CASES)
def test_load_matrix(srv: ScriptedServer, tmp_path: Path, behaviour: str) -> None:
    report = tmp_path / "r.json"
    r = proc(
        "load",
        "--to",
        url_for(srv, behaviour),
        "--rate",
        "10",
        "-d",
        "1s",
        "--timeout",
        "0.5",
        "-c",
        "4",
        "-q",
        "--report",
        str(report),
    )
    no_traceback(r)
    assert r.code == 0, r.stderr
    data = json.loads(report.read_text())
    outcome = MATRIX[behaviour][1]
    counted = {**data["statuses"], **data["errors"]}
    assert data["completed"] == data["sent"] > 0
    if behaviour.startswith(("/retry-after", "/flaky")):
        assert set(counted) <= {"429", "503", "200"}  # load does not retry: it measures
    elif outcome.isdigit():
        assert set(counted) == {outcome}, counted
    else:
        assert outcome in counted, counted


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_load_interrupted_writes_the_report(
    srv: ScriptedServer, tmp_path: Path, sig: signal.Signals
) -> None:
    report = tmp_path / "r.json"
    p = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "atscale_mock",
            "load",
            "--to",
            srv.url + "/ok",
            "--rate",
            "50",
            "-d",
            "30s",
            "-q",
            "--report",
            str(report),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    srv.wait_seen(20)
    p.send_signal(sig)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 130, err
    assert "Traceback" not in err + out and "INTERRUPTED" in out
    data = json.loads(report.read_text())
    assert data["interrupted"] is True and 20 <= data["sent"] < 1500
    assert data["completed"] == len(srv.seen)
    # the achieved rate is over the time it ran, not the 30 s it planned (which would
    # make it about a tenth of this)
    ran = data["completed"] / data["elapsed_s"]
    assert data["rate"] == pytest.approx(ran, rel=0.3), (data["rate"], ran)


# -- TLS ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ScriptedServer, Path]]:
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    context = __import__("ssl").SSLContext(__import__("ssl").PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    ca_file = tmp_path_factory.mktemp("tls") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    server = ScriptedServer(context).start()
    yield server, ca_file
    server.stop()


def test_tls_is_verified_by_default(tls: tuple[ScriptedServer, Path]) -> None:
    server, _ = tls
    r = proc("send", "slow-query", "--to", server.url + "/ok")
    assert r.code == 1 and "tls" in r.stdout and "certificate" in r.stdout.lower()
    no_traceback(r)


def test_tls_insecure_and_ca_cert(tls: tuple[ScriptedServer, Path]) -> None:
    server, ca_file = tls
    assert proc("send", "slow-query", "--to", server.url + "/ok", "--insecure").code == 0
    assert (
        proc("send", "slow-query", "--to", server.url + "/ok", "--ca-cert", str(ca_file)).code == 0
    )
    r = proc(
        "load",
        "--to",
        server.url + "/ok",
        "--rate",
        "20",
        "-d",
        "1s",
        "--ca-cert",
        str(ca_file),
        "--json",
        "-q",
    )
    assert r.code == 0 and json.loads(r.stdout)["ok"] == 20


def test_tls_failure_in_load_is_classified(tls: tuple[ScriptedServer, Path]) -> None:
    server, _ = tls
    r = proc("load", "--to", server.url + "/ok", "--rate", "10", "-d", "1s", "--json", "-q")
    assert r.code == 0 and "tls" in json.loads(r.stdout)["errors"]


# -- bad command lines: exit 2, one clear line ------------------------------------------

BAD: list[list[str]] = [
    ["send", "slow-query", "--to", "gopher://127.0.0.1/x"],
    ["send", "slow-query", "--to", "127.0.0.1:8080"],
    ["send", "slow-query", "--to", "local", "--rate", "0"],
    ["send", "slow-query", "--to", "local", "--count", "-3"],
    ["send", "slow-query", "--to", "local", "--timeout", "-1"],
    ["send", "slow-query", "--to", "local", "--retries", "two"],
    ["send", "slow-query", "--to", "local", "--insecure", "--ca-cert", __file__],
    ["send", "slow-query", "--to", "local", "--ca-cert", "/no/such/ca.pem"],
    ["send", "slow-query", "--to", "local", "--log", "/no/such/dir/log.jsonl"],
    ["send", "slow-query", "--to", "local", "--duplicates", "1.5"],
    ["send", "slow-query", "--to", "local", "--secret", "x"],
    ["send", "slow-query", "--to", "local", "--sign", "rot13", "--secret", "x"],
    ["send", "slow-query", "--to", "local", "--retry-schedule", "soon"],
    ["run", "/no/such/scenario.yaml", "--to", "local"],
    ["run", "scenarios/all-events.yaml", "--to", "ftp://x"],
    ["run", "scenarios/all-events.yaml", "--to", "local", "--junit", "/no/such/dir/j.xml"],
    ["load", "--to", "local", "--rate", "0"],
    ["load", "--to", "local", "--rate", "10", "--duration", "-1s"],
    ["load", "--to", "local", "--connections", "0"],
    ["load", "--to", "mailto:x"],
    ["load", "--to", "local", "--rate", "10", "-d", "1s", "--report", "/no/such/dir/r.json"],
    ["replay", "/no/such/log.jsonl", "--to", "local"],
    ["receive", "--port", "99999"],
    ["validate", "/no/such/file.yaml"],
    ["show", "slow-query", "--set", "=1"],
    ["show", "slow-query", "--clock", "yesterday"],
]


@pytest.mark.parametrize("args", BAD, ids=[" ".join(a[:3]) + f" #{i}" for i, a in enumerate(BAD)])
def test_bad_input_exits_2_with_a_reason(args: list[str]) -> None:
    r = proc(*args)
    assert r.code == 2, (args, r.stdout, r.stderr)
    no_traceback(r)
    assert r.stderr.strip(), args
    assert "<--" not in r.stdout and "ok  " not in r.stdout  # refused before sending anything


# -- secrets --------------------------------------------------------------------------

TOKEN = "tok-9f8e7d6c5b4a"
KEY = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_secrets_appear_nowhere(srv: ScriptedServer, tmp_path: Path) -> None:
    env = {**os.environ, "HOOK_TOKEN": TOKEN}
    scenario = tmp_path / "s.yaml"
    scenario.write_text(f"""version: 1
defaults:
  to: "{srv.url}/status/500"
  headers: {{Authorization: "Bearer ${{secret:HOOK_TOKEN}}"}}
  retries: 1
steps:
  - {{id: a, event: slow-query}}
""")
    files = {
        n: tmp_path / n
        for n in (
            "send.jsonl",
            "run.jsonl",
            "j.xml",
            "r.json",
            "load.json",
            "load.html",
            "replay.jsonl",
            "rec.jsonl",
        )
    }
    sign = ["--sign", "standard-webhooks", "--secret", KEY]
    auth = ["--header", f"Authorization: Bearer {TOKEN}"]
    results = [
        proc(
            "send",
            "slow-query",
            "--to",
            srv.url + "/status/500",
            "--retries",
            "1",
            "--log",
            str(files["send.jsonl"]),
            *auth,
            *sign,
            env=env,
        ),
        proc(
            "run",
            str(scenario),
            "--log",
            str(files["run.jsonl"]),
            "--junit",
            str(files["j.xml"]),
            "--report",
            str(files["r.json"]),
            *sign,
            env=env,
        ),
        proc(
            "load",
            "--to",
            srv.url + "/ok",
            "--rate",
            "10",
            "-d",
            "1s",
            "-q",
            *auth,
            "--report",
            str(files["load.json"]),
            env=env,
        ),
        proc(
            "load",
            "--to",
            srv.url + "/ok",
            "--rate",
            "10",
            "-d",
            "1s",
            "-q",
            *auth,
            "--report",
            str(files["load.html"]),
            env=env,
        ),
        proc(
            "replay",
            str(files["send.jsonl"]),
            "--to",
            srv.url + "/ok",
            "--log",
            str(files["replay.jsonl"]),
            env=env,
        ),
        proc("plan", str(scenario), env=env),
        proc("show", "slow-query", env=env),
    ]
    receiver, base = start_receiver(
        "--secret",
        KEY,
        "--record",
        str(files["rec.jsonl"]),
        "--max-events",
        "1",
        "--duration",
        "20",
    )
    for _ in range(50):
        if proc("send", "unpublish", "--to", base + "/r", *auth, *sign).code == 0:
            break
        time.sleep(0.1)
    rout, rerr = receiver.communicate(timeout=20)
    assert any(TOKEN in s.headers.get("Authorization", "") for s in srv.seen)  # it was sent
    texts = [r.stdout + r.stderr for r in results] + [rout, rerr]
    texts += [f.read_text() for f in files.values() if f.exists()]
    assert len([f for f in files.values() if f.exists()]) == len(files)
    for text in texts:
        assert TOKEN not in text
        assert KEY not in text and KEY.removeprefix("whsec_") not in text


# -- fuzzing: never a traceback ---------------------------------------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(max_size=30), max_size=3))
def test_random_set_values_never_crash(values: list[str]) -> None:
    args: list[Any] = ["show", "batch-result"]
    for v in values:
        args += ["--set", v]
    r = cli(*args)
    assert r.code in (0, 2)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=40))
def test_random_headers_never_crash(header: str) -> None:
    from atscale_mock.delivery.request import parse_header
    from atscale_mock.errors import UsageError

    try:
        name, value = parse_header(header)
    except UsageError:
        return
    assert name and ":" not in name


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("command", ["send", "replay"])
def test_send_and_replay_interrupted_exit_130_with_everything_logged(
    srv: ScriptedServer, tmp_path: Path, sig: signal.Signals, command: str
) -> None:
    """SIGTERM means what Ctrl-C means: stop, print the summary, exit 130, and every
    attempt made is in the log."""
    args = ["send", "slow-query", "-n", "1000", "--rate", "20", "--to", srv.url + "/ok"]
    if command == "replay":
        recorded = tmp_path / "recorded.jsonl"
        cli("send", "unpublish", "-n", "300", "--to", srv.url + "/ok", "--log", str(recorded))
        srv.clear()
        args = ["replay", str(recorded), "--keep-timing", "--to", srv.url + "/slow/0.05"]
    log = tmp_path / "log.jsonl"
    p = subprocess.Popen(
        [sys.executable, "-m", "atscale_mock", *args, "--log", str(log), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    srv.wait_seen(5)
    p.send_signal(sig)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 130, err
    assert "Traceback" not in err + out
    data = json.loads(out)
    assert data["interrupted"] is True and 5 <= data["deliveries"] < 300
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(lines) == data["attempts"]  # nothing lost, interrupted ones included


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_receive_signal_exits_130_with_its_summary(sig: signal.Signals) -> None:
    p, url = start_receiver("--duration", "30")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if cli("send", "unpublish", "--to", url + "/h").code == 0:
            break
        time.sleep(0.1)
    p.send_signal(sig)
    out, err = p.communicate(timeout=20)
    assert p.returncode == 130, err
    assert "stopped: 1 valid" in err and "Traceback" not in err


def test_a_trickling_receiver_cannot_outlast_the_deadline(
    srv: ScriptedServer, tmp_path: Path
) -> None:
    """--timeout bounds each attempt as a whole (connect, send, the whole answer), not
    each read: a receiver that sends a byte every 0.3 s is cut off on time."""
    url = srv.url + "/trickle"
    log = tmp_path / "one.jsonl"
    cli("send", "unpublish", "--to", srv.url + "/ok", "--log", str(log))
    scenario = tmp_path / "t.yaml"
    scenario.write_text(
        f'version: 1\ndefaults: {{to: "{url}", timeout: 1s, retries: 1}}\n'
        "steps:\n  - id: s\n    event: unpublish\n"
    )
    for args in (
        ["send", "unpublish", "--timeout", "1", "--retries", "1", "--to", url],
        ["replay", str(log), "--timeout", "1", "--retries", "1", "--to", url],
        ["run", str(scenario), "--retry-schedule", "0s"],
    ):
        start = time.monotonic()
        r = cli(*args, "--json")
        elapsed = time.monotonic() - start
        assert r.code == 1, (args, r.stderr)
        assert json.loads(r.stdout)["errors"] == {"timeout": 1}, args
        assert elapsed < 2 * 1 + 1.5, (args, elapsed)  # 2 attempts of 1 s, and a margin


@pytest.mark.parametrize(
    "args",
    [
        ["send", "slow-query", "--to", "local", "--timeout", "nan"],
        ["send", "slow-query", "--to", "local", "--timeout", "inf"],
        ["send", "slow-query", "--to", "local", "--delay", "inf"],
        ["send", "slow-query", "--to", "local", "--rate", "nan"],
        ["send", "slow-query", "--to", "local", "--rate", "inf"],
        ["send", "slow-query", "--to", "local", "--retries", "1000000"],
        ["send", "slow-query", "--to", "local", "-H", "X-A: 1\r\nX-B: 2"],
        ["send", "slow-query", "--to", "local", "-H", "X-A: caf\u00e9"],
        ["receive", "--duration", "nan"],
        ["receive", "--delay", "inf"],
        ["load", "--to", "local", "--rate", "inf", "-d", "1s"],
        ["load", "--to", "local", "--rate", "nan", "-d", "1s"],
        ["load", "--to", "local", "-H", "X-A: 1\nX-B: 2", "-d", "1s"],
        ["load", "--to", "local", "--processes", "100000", "-d", "1s"],
        ["load", "--to", "local", "--connections", "100000000", "-d", "1s"],
    ],
)
def test_non_finite_numbers_and_control_characters_are_usage_errors(args: list[str]) -> None:
    r = proc(*args, timeout=30)
    assert r.code == 2, (args, r.stdout, r.stderr)
    assert "error:" in r.stderr
    no_traceback(r)


def test_a_url_password_never_shows(srv: ScriptedServer, tmp_path: Path) -> None:
    """A password in the URL's userinfo is sent (as Basic auth) but never printed."""
    url = srv.url.replace("http://", "http://bob:hunter2@") + "/ok"
    log = tmp_path / "log.jsonl"
    r = cli("send", "unpublish", "--to", url, "--log", str(log), "--json")
    assert r.code == 0
    assert "hunter2" not in r.stdout + r.stderr + log.read_text()
    assert json.loads(r.stdout)["url"].startswith("http://bob:***@")
    import base64

    assert (
        srv.seen[0].headers["Authorization"] == "Basic " + base64.b64encode(b"bob:hunter2").decode()
    )


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_load_with_two_processes_stops_its_workers(
    srv: ScriptedServer, sig: signal.Signals
) -> None:
    """A signal to the parent reaches its workers: exit 130, the summary printed, and no
    worker left running."""
    p = subprocess.Popen(
        [sys.executable, "-m", "atscale_mock", "load", "--to", srv.url + "/ok", "--rate", "100",
         "-d", "30s", "--processes", "2", "-q", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    srv.wait_seen(20)
    children = _children(p.pid)
    assert len(children) == 2
    p.send_signal(sig)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 130, err
    assert json.loads(out)["interrupted"] is True and "Traceback" not in err
    time.sleep(0.5)
    for pid in children:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def _children(parent: int) -> list[int]:
    """The processes whose parent is ``parent`` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.parametrize("command", ["send", "run", "replay"])
def test_max_time_stops_the_whole_command(
    srv: ScriptedServer, tmp_path: Path, command: str
) -> None:
    """--max-time bounds a whole command: it stops like an interruption (every attempt
    logged, the summary printed) and exits 1 saying why."""
    url = srv.url + "/slow/0.2"
    log = tmp_path / "log.jsonl"
    if command == "send":
        args = ["send", "unpublish", "-n", "1000", "--to", url]
    elif command == "run":
        scenario = tmp_path / "s.yaml"
        scenario.write_text(
            f'version: 1\ndefaults: {{to: "{url}"}}\nsteps:\n  - id: s\n'
            "    event: unpublish\n    repeat: {count: 1000, every: 100ms}\n"
        )
        args = ["run", str(scenario)]
    else:
        recorded = tmp_path / "recorded.jsonl"
        cli("send", "unpublish", "-n", "200", "--to", srv.url + "/ok", "--log", str(recorded))
        args = ["replay", str(recorded), "--to", url]
    started = time.monotonic()
    r = proc(*args, "--max-time", "1", "--log", str(log), "--json", timeout=60)
    elapsed = time.monotonic() - started
    no_traceback(r)
    assert r.code == 1, r.stderr
    assert "--max-time 1s reached" in r.stderr
    summary = json.loads(r.stdout)
    assert summary["interrupted"] is True
    assert elapsed < 15  # far below what the 1000 deliveries would take
    lines = log.read_text().splitlines()
    assert lines and all(json.loads(line)["event"] == "unpublish" for line in lines)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("processes", ["1", "2"])
def test_load_at_a_rate_beyond_the_machine_still_hears_signals(
    sig: signal.Signals, processes: str
) -> None:
    """A rate no machine holds (5 million/s) keeps a worker busy every moment: a signal
    must still stop it, with its summary, and no worker left behind."""
    p = subprocess.Popen(
        [sys.executable, "-m", "atscale_mock", "load", "--to", "local", "--rate", "5e6",
         "-d", "60s", "--processes", processes, "-q", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    # Wait until the workers exist (a loaded CI machine can take seconds to fork them),
    # then give them a moment at the rate: the signal must land mid-run, not at start-up.
    deadline = time.monotonic() + 30
    workers = 0 if processes == "1" else int(processes)  # one process runs in place
    while len(_children(p.pid)) < workers:
        assert time.monotonic() < deadline, "the load workers never started"
        time.sleep(0.1)
    time.sleep(2.5)
    children = _children(p.pid)
    p.send_signal(sig)
    out, err = p.communicate(timeout=30)  # far less than the 60 s it planned
    assert p.returncode == 130, err
    assert "Traceback" not in err
    summary = json.loads(out)
    assert summary["interrupted"] is True and summary["not_sent"] > 0
    time.sleep(0.5)
    for pid in children:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signals_settle_a_run_started_in_the_background(
    srv: ScriptedServer, sig: signal.Signals
) -> None:
    """A shell starts `cmd &` with SIGINT ignored: SIGTERM (and SIGINT) must still stop
    the run with its summary, not kill it mid-flight."""
    p = subprocess.Popen(
        [sys.executable, "-m", "atscale_mock", "send", "unpublish", "-n", "1000",
         "--rate", "50", "--to", srv.url + "/ok"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )  # fmt: skip
    srv.wait_seen(5)
    p.send_signal(sig)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 130, err
    assert "interrupted: " in err and " delivered" in err and "Traceback" not in err


def test_max_time_of_one_command_does_not_stop_the_next(srv: ScriptedServer) -> None:
    """Commands run one after another in one process (CliRunner, a test session): the
    --max-time one hit is its own, and the next command runs to its end (it once
    leaked: every later command in the process stopped at once, exit 1)."""
    stopped = cli("send", "unpublish", "-n", "50", "--to", srv.url + "/slow/0.3",
                  "--max-time", "0.5", "--json")  # fmt: skip
    assert stopped.code == 1 and "--max-time 0.5s reached" in stopped.stderr
    after = cli("send", "unpublish", "-n", "3", "--to", srv.url + "/ok", "--json")
    assert after.code == 0, after.stderr
    assert "max-time" not in after.stderr and json.loads(after.stdout)["ok"] == 3


def test_a_non_ascii_placeholder_value_is_percent_encoded(srv: ScriptedServer) -> None:
    """A {placeholder} filled with text HTTP does not allow in a request line (found by
    the fuzz suite: --org 'Ā' once ended in a UnicodeEncodeError traceback) goes out
    percent-encoded as UTF-8, by send and by load alike."""
    srv.clear()
    r = cli("send", "slow-query", "--org", "Ā b", "--to", srv.url + "/o/{org_id}", "--json")
    assert r.code == 0, r.stdout + r.stderr
    r = cli("load", "--to", srv.url + "/o/{org_id}", "-d", "0.3s", "--rate", "20",
            "--mix", "slow-query=1", "-q", "--json")  # fmt: skip
    assert r.code == 0, r.stdout + r.stderr
    paths = [s.path for s in srv.seen]
    assert paths[0] == "/o/%C4%80%20b"
    assert len(paths) > 1 and all(p.startswith("/o/") and p.isascii() for p in paths)
