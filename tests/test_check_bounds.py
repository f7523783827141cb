"""check holds its bounds against a hostile receiver and a careless command line: time
(--fuzz-time includes shrinking), the latency burst (its own connections, a capped
size), signals during fuzzing, output paths checked before the run, options that mean
nothing refused, and reproducers that send what the check sent."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .cli_helpers import cli, no_traceback, proc
from .httpserver import ScriptedServer


class BigBodyHang:
    """Answers 200 to small bodies; never answers a body over 2 KB (a receiver that
    hangs on big payloads: every shrink step waits a whole timeout)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(256)
        self.sock.settimeout(0.1)
        self.stop = threading.Event()
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/hooks"

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._conn, args=(conn,), daemon=True).start()

    def _conn(self, conn: socket.socket) -> None:
        conn.settimeout(30)
        held = False
        try:
            while not self.stop.is_set():
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                head, _, body = data.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                if length > 2048:
                    self.held.append(conn)  # closed by close()
                    held = True
                    return
                while len(body) < length:
                    body += conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        except OSError:
            return
        finally:
            if not held:
                conn.close()

    def close(self) -> None:
        self.stop.set()
        for c in self.held:
            c.close()
        self.sock.close()


@pytest.fixture
def hangs_on_big() -> Iterator[BigBodyHang]:
    h = BigBodyHang()
    yield h
    h.close()


def test_fuzz_time_bounds_the_whole_fuzzing_shrinking_included(
    hangs_on_big: BigBodyHang, tmp_path: Path
) -> None:
    start = time.monotonic()
    r = proc(
        "check", "--to", hangs_on_big.url, "--only", "events", "--fuzz-time", "4s",
        "--timeout", "2s", "--seed", "1", "--json", "--findings-dir", str(tmp_path),
        timeout=120,
    )  # fmt: skip
    took = time.monotonic() - start
    no_traceback(r)
    assert took < 4 + 25, took  # the battery's one check, start-up, and the 4 s
    data = json.loads(r.stdout)
    assert data["fuzz"]["examples"] >= 1


def test_the_latency_burst_is_not_slowed_by_a_connection_pool(srv: ScriptedServer) -> None:
    """200 concurrent deliveries to a receiver answering each in 0.5 s: through a
    64-connection pool the last waited ~1.5 s more; each has a connection of its own."""
    r = cli(
        "check", "--to", srv.url + "/slow/0.5", "--only", "latency", "--burst", "200",
        "--max-latency", "1.5s", "--json",
    )  # fmt: skip
    latency = [c for c in json.loads(r.stdout)["checks"] if c["name"] == "latency"]
    assert latency[0]["verdict"] == "pass", latency


@pytest.mark.parametrize("burst", ["1001", "3000000"])
def test_a_burst_past_the_cap_is_refused_before_anything_is_sent(
    srv: ScriptedServer, burst: str
) -> None:
    before = len(srv.seen)
    r = cli("check", "--to", srv.url + "/ok", "--burst", burst)
    assert r.code == 2 and "--burst" in r.stderr
    assert len(srv.seen) == before


def test_the_library_caps_the_burst() -> None:
    import atscale_mock as am
    from atscale_mock.errors import UsageError

    with pytest.raises(UsageError, match="burst must be from 1 to 1000"):
        am.check("local", burst=1001)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--max-latency", "0s"), "--max-latency: must be more than 0"),
        (("--only", "events", "--skip", "events"), "leave no check to run"),
        (("--expect", "forged=999"), "not a status code"),
        (("--expect", "forged=099"), "not a status code"),
    ],
)
def test_options_without_meaning_are_refused(
    srv: ScriptedServer, args: tuple[str, ...], message: str
) -> None:
    before = len(srv.seen)
    r = cli("check", "--to", srv.url + "/ok", *args)
    assert r.code == 2 and message in r.stderr, r.stderr
    assert len(srv.seen) == before


def _fifo(tmp_path: Path) -> Path:
    f = tmp_path / "fifo.html"
    os.mkfifo(f)
    return f


@pytest.mark.parametrize("flag", ["--junit", "--report", "--log"])
@pytest.mark.parametrize("kind", ["directory", "fifo", "missing-dir"])
def test_a_bad_output_path_is_refused_before_the_battery_runs(
    srv: ScriptedServer, tmp_path: Path, flag: str, kind: str
) -> None:
    target = {
        "directory": lambda: tmp_path,
        "fifo": lambda: _fifo(tmp_path),
        "missing-dir": lambda: tmp_path / "no" / "such.html",
    }[kind]()
    if flag == "--report" and kind == "directory":
        target = tmp_path / "d.html"
        target.mkdir()
    before = len(srv.seen)
    r = proc("check", "--to", srv.url + "/ok", flag, str(target), timeout=30)
    assert r.code == 2, r.stderr
    assert "cannot write" in r.stderr
    assert len(srv.seen) == before  # nothing was sent
    no_traceback(r)


def test_an_unwritable_report_still_shows_the_scorecard(srv: ScriptedServer) -> None:
    r = proc("check", "--to", srv.url + "/ok", "--only", "events", "--junit", "/dev/full")
    assert "events" in r.stdout  # the scorecard came first
    assert r.code == 1 and "cannot write /dev/full" in r.stderr
    no_traceback(r)


def test_log_write_errors_make_check_fail(srv: ScriptedServer) -> None:
    r = proc("check", "--to", srv.url + "/ok", "--only", "events", "--log", "/dev/full")
    assert r.code == 1 and "cannot write log /dev/full" in r.stderr
    no_traceback(r)


def test_a_findings_dir_that_is_a_file_is_refused_at_once(
    srv: ScriptedServer, tmp_path: Path
) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    r = proc("check", "--to", srv.url + "/ok", "--fuzz", "5", "--findings-dir", str(f / "sub"))
    assert r.code == 2 and "is not a directory" in r.stderr
    no_traceback(r)


def test_fuzzing_leaves_no_hypothesis_folder_in_the_working_directory(
    srv: ScriptedServer, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "HYPOTHESIS_STORAGE_DIRECTORY"}
    done = subprocess.run(
        [sys.executable, "-m", "atscale_mock", "check", "--to", srv.url + "/ok",
         "--only", "events", "--fuzz", "20", "--seed", "3"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-1000:]
    assert not (tmp_path / ".hypothesis").exists()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_fuzzing_ends_the_check_with_its_scorecard(
    srv: ScriptedServer, sig: int, tmp_path: Path
) -> None:
    """Five tries each: a KeyboardInterrupt raised inside hypothesis's gc callback was
    swallowed and the check ran to the end of its budget with interrupted: false."""
    for _ in range(5):
        p = subprocess.Popen(
            [sys.executable, "-m", "atscale_mock", "check", "--to", srv.url + "/ok",
             "--only", "events", "--fuzz-time", "60s", "--json"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        )  # fmt: skip
        time.sleep(2.5)
        t0 = time.monotonic()
        p.send_signal(sig)
        out, err = p.communicate(timeout=30)
        assert time.monotonic() - t0 < 10
        assert p.returncode == 130, err[-1000:]
        assert json.loads(out)["interrupted"] is True
        assert "Traceback" not in err and "Exception ignored" not in err


def test_a_reproducer_sends_the_checks_headers(tmp_path: Path) -> None:
    """Against a receiver that needs Authorization and crashes on one value: the
    finding's reproducer, run as printed (with the header's variable set), gets the
    same 500, not a 401."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.headers.get("Authorization") != "Bearer s3cret-token":
                code = 401
            elif b'"cube_id":null' in body:
                code = 500
            else:
                code = 200
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return None

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()

    class Raw:
        url = f"http://127.0.0.1:{httpd.server_address[1]}"

    raw = Raw()
    try:
        r = proc(
            "check", "--to", raw.url + "/hooks", "-H", "Authorization: Bearer s3cret-token",
            "-H", "X-Tenant: t1", "--only", "events", "--fuzz", "40", "--seed", "5", "--json",
            "--findings-dir", str(tmp_path / "findings"), timeout=120,
        )  # fmt: skip
        data = json.loads(r.stdout)
        assert "s3cret-token" not in r.stdout + r.stderr
        findings = [f for f in data["findings"] if f["outcome"] == "500"]
        assert findings, data["findings"]
        command = findings[0]["reproduce"]
        assert "X-Tenant: t1" in command and "${ATSCALE_MOCK_H_AUTHORIZATION}" in command
        env = {**os.environ, "ATSCALE_MOCK_H_AUTHORIZATION": "Bearer s3cret-token"}
        exe = Path(sys.executable).parent
        env["PATH"] = f"{exe}{os.pathsep}{env['PATH']}"
        again = subprocess.run(
            ["bash", "-c", command], env=env, capture_output=True, text=True, timeout=60
        )
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert " 500 " in again.stdout or "500" in again.stdout, again.stdout + again.stderr
    assert "401" not in again.stdout


def test_a_reproducer_keeps_the_url_password_as_a_variable() -> None:
    from atscale_mock.api.check import _reproduce_to

    shown = _reproduce_to("http://user:pa55@127.0.0.1:9/h?x=1")
    assert "pa55" not in shown and "${ATSCALE_MOCK_URL_PASSWORD}" in shown
    out = subprocess.run(
        ["bash", "-c", f"echo {shown}"],
        env={"ATSCALE_MOCK_URL_PASSWORD": "pa55", "PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert out == "http://user:pa55@127.0.0.1:9/h?x=1"


def test_the_library_check_hears_ctrl_c_as_a_flag(srv: ScriptedServer, tmp_path: Path) -> None:
    """am.check from a user's script: Ctrl-C during fuzzing returns the scorecard so far,
    marked interrupted, at once, never lost in a callback (it is sent once the check
    runs: before that, the script's own Python handler gets it)."""
    script = tmp_path / "user.py"
    script.write_text(
        "import os, signal, threading, time, sys\n"
        # as in a user's shell, whatever this test process's own signal state is (a
        # child inherits an ignored or blocked SIGINT; Python then keeps it so, and so
        # does the library: it never takes a signal the process was told to ignore)
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})\n"
        "import atscale_mock as am\n"
        "def ctrl_c(result):  # once the battery ran: fuzzing has begun or is about to\n"
        "    threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT)).start()\n"
        "t0 = time.monotonic()\n"
        f"card = am.check({srv.url + '/ok'!r}, only=['events'], fuzz_time=60, on_check=ctrl_c)\n"
        "print(card.interrupted, round(time.monotonic() - t0))\n"
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    interrupted, took = done.stdout.split()
    assert interrupted == "True" and int(took) < 20  # fuzz_time was 60 s
