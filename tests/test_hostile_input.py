"""Hostile input, round 3: injection, smuggling, framing, expansion bombs, untrusted
text on terminals and in XML. Each test is the attack as a user (or an attacker) would
make it, against real servers on 127.0.0.1."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from atscale_mock.errors import UsageError
from atscale_mock.serve import EngineServer

from .cli_helpers import cli, no_traceback, proc
from .httpserver import ScriptedServer
from .rawserver import RawServer

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}"


def answer_ok(conn: socket.socket, request: bytes) -> None:
    conn.sendall(OK)


# -- one header validator --------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("X-A", "1\r\nX-Injected: 1"),
        ("X-A", "1\nX-Injected: 1"),
        ("X-A", "nul\x00byte"),
        ("content-length ", "5"),
        ("Transfer-Encoding\t", "chunked"),
        ("Transfer-Encoding", "chunked"),
        ("Content-Length", "0"),
        ("Host", "evil.example"),
        ("X Sig", "v"),
        ("X-Sig\r\nX-Injected", "1"),
        ("", "v"),
        ("X-A", "caf\u00e9"),
        (5, "v"),
        ("X-A", 5),
    ],
)
def test_the_header_validator_refuses_what_could_split_or_reframe(
    name: object, value: object
) -> None:
    from atscale_mock.delivery.headers import check_header

    with pytest.raises(UsageError):
        check_header(name, value)


def test_the_header_validator_keeps_ordinary_headers() -> None:
    from atscale_mock.delivery.headers import check_header, parse_header

    assert check_header("Authorization", " Bearer abc ") == ("Authorization", "Bearer abc")
    assert parse_header("X-Tenant: a\tb") == ("X-Tenant", "a\tb")


def _hostile_log(path: Path, headers: dict[str, str]) -> None:
    record = {
        "event": "slow-query",
        "delivery": "d1",
        "attempt": 1,
        "time": "2026-01-01T00:00:00Z",
        "body": '{"a": 1}',
        "request_headers": headers,
        "status": 200,
    }
    path.write_text(json.dumps(record) + "\n")


@pytest.mark.parametrize(
    "headers",
    [
        {"X-A": "1\r\nContent-Length: 0\r\n\r\nPOST /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"},
        {"content-length ": "0"},
        {"Transfer-Encoding\t": "chunked"},
        {"X-Nul": "a\x00b"},
    ],
)
def test_replay_of_a_hostile_log_sends_nothing_and_names_the_line(
    tmp_path: Path, headers: dict[str, str]
) -> None:
    log = tmp_path / "hostile.jsonl"
    _hostile_log(log, headers)
    with RawServer(answer_ok) as raw:
        r = proc("replay", str(log), "--to", raw.url + "/hooks")
        time.sleep(0.2)
        assert raw.requests == []
    assert r.code == 2, r.stderr
    assert f"{log}:1" in r.stderr
    no_traceback(r)


def test_replay_sends_exactly_one_request_with_ordinary_recorded_headers(tmp_path: Path) -> None:
    log = tmp_path / "fine.jsonl"
    _hostile_log(log, {"X-Tenant": "t1", "Content-Length": "999", "Connection": "close"})
    with RawServer(answer_ok) as raw:
        r = proc("replay", str(log), "--to", raw.url + "/hooks")
        assert r.code == 0, r.stderr
        assert len(raw.requests) == 1
        head = raw.requests[0].split(b"\r\n\r\n")[0].lower()
    assert b"x-tenant: t1" in head
    assert head.count(b"content-length") == 1 and b"content-length: 8" in head


@pytest.mark.parametrize(
    "header", ["X-Sig\r\nX-Injected: 1", "Transfer-Encoding", "X Sig", "Content-Length"]
)
def test_signature_header_is_validated(srv: ScriptedServer, header: str) -> None:
    srv.clear()
    r = proc(
        "send", "slow-query", "--to", srv.url + "/sig", "--sign", "hmac-sha256",
        "--secret", "k", "--signature-header", header,
    )  # fmt: skip
    assert r.code == 2, r.stdout + r.stderr
    assert "--signature-header" in r.stderr
    no_traceback(r)
    assert srv.seen == []


# -- URL placeholders ------------------------------------------------------------------


def test_placeholder_values_are_percent_encoded_in_the_path(srv: ScriptedServer) -> None:
    srv.clear()
    r = cli("send", "slow-query", "--to", srv.url + "/o/{org_id}/end", "--org", "a#frag/../x?y")
    assert r.code == 0, r.stdout + r.stderr
    srv.wait_seen(1)
    assert srv.seen[0].path == "/o/a%23frag%2F..%2Fx%3Fy/end"


def test_a_placeholder_in_the_host_cannot_change_the_host_or_add_credentials() -> None:
    with RawServer(answer_ok) as other:
        r = cli(
            "send", "slow-query", "--to", "http://{org_id}.localhost:1/h",
            "--org", f"x@127.0.0.1:{other.port}", "--timeout", "2",
        )  # fmt: skip
        time.sleep(0.2)
        assert other.requests == []  # never reached the host hidden in the value
    assert r.code != 0
    assert "Authorization" not in r.stdout


# -- framing of answers ----------------------------------------------------------------


def _http10(conn: socket.socket, request: bytes) -> None:
    conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nclose-delimited body")


def test_a_close_delimited_http10_answer_is_a_200_and_not_retried(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    with RawServer(_http10) as raw:
        r = cli("send", "slow-query", "--to", raw.url + "/h", "--retries", "2", "--log", str(log))
        assert r.code == 0, r.stdout + r.stderr
        assert len(raw.requests) == 1  # answered 200: sent once
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert [row["status"] for row in rows] == [200]
    assert rows[0]["response_body"] == "close-delimited body"


def test_a_python_http_server_answer_is_read_like_curl_reads_it(tmp_path: Path) -> None:
    """BaseHTTPRequestHandler's defaults: HTTP/1.0, no Content-Length, close."""
    server = tmp_path / "srv.py"
    server.write_text(
        textwrap.dedent(
            """
            import sys
            from http.server import BaseHTTPRequestHandler, HTTPServer
            class H(BaseHTTPRequestHandler):
                def do_POST(self):
                    self.rfile.read(int(self.headers["Content-Length"]))
                    self.send_response(200)
                    self.end_headers()
                    self.wfile.write(b"thanks")
                def log_message(self, *a):
                    pass
            s = HTTPServer(("127.0.0.1", 0), H)
            print(s.server_port, flush=True)
            s.timeout = 20
            s.handle_request()
            """
        )
    )
    p = subprocess.Popen([sys.executable, str(server)], stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout is not None
        port = p.stdout.readline().strip()
        r = cli("send", "slow-query", "--to", f"http://127.0.0.1:{port}/h", "--json")
    finally:
        p.wait(20)
        assert p.stdout is not None
        p.stdout.close()
    assert r.code == 0, r.stdout + r.stderr
    summary = json.loads(r.stdout)
    assert summary["statuses"] == {"200": 1} and summary["attempts"] == 1, summary


def _two_answers(conn: socket.socket, request: bytes) -> None:
    second = b"HTTP/1.1 500 Oops\r\nContent-Length: 5\r\n\r\nnope!"
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" + second)
    time.sleep(0.3)


def test_two_answers_in_one_segment_are_not_merged(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    with RawServer(_two_answers) as raw:
        r = cli("send", "slow-query", "--to", raw.url + "/h", "-n", "2", "--log", str(log))
    assert r.code == 0, r.stdout + r.stderr
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(row["status"], row["response_body"]) for row in rows] == [(200, "ok"), (200, "ok")]


def _endless_header(conn: socket.socket, request: bytes) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nX-Long: ")
    for _ in range(2000):  # 16 MB at most, then the test's server gives up
        try:
            conn.sendall(b"a" * 8192)
        except OSError:
            return


def test_an_endless_response_header_is_a_protocol_error_not_a_memory_leak(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    with RawServer(_endless_header) as raw:
        r = cli("send", "slow-query", "--to", raw.url + "/h", "--timeout", "20", "--log", str(log))
    assert r.code == 1
    row = json.loads(log.read_text().splitlines()[0])
    assert row["error_class"] == "protocol"
    assert "header" in row["error"]


def test_receive_status_204_sends_no_body_and_load_sees_no_errors() -> None:
    from .cli_helpers import start_receiver

    p, url = start_receiver("--status", "204")
    try:
        _wait_port(url)
        with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1]))) as s:
            body = b"{}"
            s.sendall(
                b"POST /h HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 2\r\nConnection: close\r\n\r\n" + body
            )
            s.settimeout(5)
            got = b""
            while chunk := s.recv(65536):
                got += chunk
        assert got.startswith(b"HTTP/1.1 204")
        assert got.endswith(b"\r\n\r\n") and b"content-length" not in got.lower()
        r = proc("load", "--to", url + "/h", "-d", "1s", "--rate", "200", "--json")
        assert r.code == 0, r.stdout + r.stderr
        summary = json.loads(r.stdout)
        assert summary["errors"] == {}, summary["errors"]
        assert summary["statuses"] == {"204": summary["sent"]} and summary["sent"] > 100
    finally:
        p.terminate()
        p.communicate(timeout=10)


def _wait_port(url: str) -> None:
    port = int(url.rsplit(":", 1)[1])
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("the receiver did not start")


# -- replay timing, retry and time-scale bounds ---------------------------------------


def test_keep_timing_with_an_unreadable_time_is_refused_at_once(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    lines = [
        {"event": "slow-query", "delivery": "a", "time": "2026-01-01T00:00:00Z", "body": "{}"},
        {"event": "slow-query", "delivery": "b", "time": "yesterday", "body": "{}"},
    ]
    log.write_text("".join(json.dumps(x) + "\n" for x in lines))
    r = proc("replay", str(log), "--to", "http://127.0.0.1:9/h", "--keep-timing", timeout=30)
    assert r.code == 2
    assert f"{log}:2" in r.stderr and "time" in r.stderr
    no_traceback(r)


@pytest.mark.parametrize("schedule", ["999999999h", "1s,25h"])
def test_absurd_retry_waits_are_refused(schedule: str) -> None:
    r = proc("send", "slow-query", "--to", "http://127.0.0.1:9/h", "--retry-schedule", schedule)
    assert r.code == 2, r.stdout + r.stderr
    no_traceback(r)


@pytest.mark.parametrize("value", ["true", "1e-300", "1e300"])
def test_absurd_time_scales_are_refused_in_a_scenario(tmp_path: Path, value: str) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(f"version: 1\ntime_scale: {value}\nsteps:\n  - event: slow-query\n")
    r = proc("validate", str(f))
    assert r.code == 2
    assert "time_scale" in r.stderr


# -- serve: no drive-by control, no 500s ----------------------------------------------


@pytest.fixture
def engine() -> Iterator[EngineServer]:
    with EngineServer() as server:
        yield server


def _count_webhooks(engine: EngineServer) -> int:
    return len(httpx.get(engine.url + "/_mock/webhooks").json()["webhooks"])


def test_a_web_page_cannot_drive_serve(engine: EngineServer) -> None:
    """What a page on another site can send without a CORS preflight: text/plain or a
    form, with its own Origin. None of it creates a subscription or runs a scenario."""
    evil = {"Origin": "http://evil.example", "Content-Type": "text/plain"}
    hook = json.dumps({"url": "http://127.0.0.1:9/collect"})
    scenario = "version: 1\nsteps:\n  - event: slow-query\n    set: {query_text: '${env:HOME}'}\n"
    answers = [
        httpx.post(engine.url + "/_mock/webhooks", content=hook, headers=evil),
        httpx.post(engine.url + "/_mock/scenarios", content=scenario, headers=evil),
        httpx.post(
            engine.url + "/_mock/webhooks",
            content=hook,
            headers={"Content-Type": "text/plain"},  # even without an Origin
        ),
        httpx.post(
            engine.url + "/_mock/webhooks",
            content=hook,
            headers={"Origin": "http://evil.example", "Content-Type": "application/json"},
        ),
        httpx.post(
            engine.url + "/_mock/webhooks",
            content="url=http://127.0.0.1:9/",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ),
        httpx.post(engine.url + "/_mock/reset", headers={"Origin": "http://evil.example"}),
        httpx.post(engine.url + "/_mock/reset", headers={"Sec-Fetch-Site": "cross-site"}),
    ]
    assert [a.status_code for a in answers] == [403, 403, 415, 403, 415, 403, 403]
    assert _count_webhooks(engine) == 0
    assert httpx.get(engine.url + "/_mock/scenarios").json()["runs"] == []
    # the console's own requests (same origin, JSON) still work
    port = engine.url.rsplit(":", 1)[1]
    same = httpx.post(
        engine.url + "/_mock/webhooks",
        content=hook,
        headers={"Origin": f"http://127.0.0.1:{port}", "Content-Type": "application/json"},
    )
    assert same.status_code == 201


def test_dns_rebinding_cannot_read_the_journal(engine: EngineServer) -> None:
    rebound = httpx.get(engine.url + "/_mock/deliveries", headers={"Host": "evil.example"})
    assert rebound.status_code == 421
    assert "--allow-host" in rebound.json()["error"]
    for host in ("localhost", "127.0.0.1", "[::1]"):
        port = engine.url.rsplit(":", 1)[1]
        ok = httpx.get(engine.url + "/_mock/deliveries", headers={"Host": f"{host}:{port}"})
        assert ok.status_code == 200, host


def test_allow_host_admits_a_name() -> None:
    with EngineServer(allow_hosts=("mock-engine",)) as server:
        named = httpx.get(server.url + "/_mock/webhooks", headers={"Host": "mock-engine:10600"})
        other = httpx.get(server.url + "/_mock/webhooks", headers={"Host": "other:10600"})
    assert (named.status_code, other.status_code) == (200, 421)


def test_serve_cli_takes_allow_host_and_journal_max_rows(tmp_path: Path) -> None:
    from .serve_helpers import ServeProcess

    server = ServeProcess("--allow-host", "mock-engine", "--journal-max-rows", "3")
    try:
        assert (
            server.api("GET", "/_mock/health", headers={"Host": "mock-engine"}).status_code == 200
        )
        assert server.api("GET", "/_mock/health", headers={"Host": "x.example"}).status_code == 421
        journal = Path(server.api("GET", "/_mock/health").json()["journal"])
        assert journal.exists()
    finally:
        code, err = server.stop()
    assert not journal.exists(), "the temporary journal outlived serve"
    assert "Traceback" not in err


JSON = {"Content-Type": "application/json"}


def test_the_control_api_answers_4xx_not_500(engine: EngineServer) -> None:
    deep = b"[" * 200_000 + b"]" * 200_000
    for path in (
        "/_mock/webhooks",
        "/_mock/faults",
        "/_mock/events/slow-query",
        "/_mock/scenarios",
    ):
        answer = httpx.post(engine.url + path, content=deep, headers=JSON)
        assert answer.status_code == 422, (path, answer.text)
    bad_fault = httpx.post(
        engine.url + "/_mock/faults", json={"action": "drop", "count": 1, "webhook_id": ["x"]}
    )
    assert bad_fault.status_code == 422 and bad_fault.json()["field"] == "webhook_id"
    after = httpx.get(engine.url + "/_mock/deliveries?after=99999999999999999999999")
    assert after.status_code == 422 and after.json()["field"] == "after"
    for header in (5, "X-Sig\r\nX-Injected: 1", "Transfer-Encoding", None):
        sub = {
            "url": "http://127.0.0.1:9/",
            "signing": {"scheme": "hmac-sha256", "secret": "k", "header": header},
        }
        answer = httpx.post(engine.url + "/_mock/webhooks", json=sub)
        assert answer.status_code == 422, (header, answer.text)
        assert answer.json()["field"] == "signing.header"
    scale = httpx.post(
        engine.url + "/_mock/scenarios",
        json={"scenario": "version: 1\nsteps:\n  - event: slow-query\n", "time_scale": True},
    )
    assert scale.status_code == 422 and scale.json()["field"] == "time_scale"
    big = httpx.post(
        engine.url + "/_mock/webhooks", content=b" " * (17 * 1024 * 1024), headers=JSON
    )
    assert big.status_code == 413
    assert _count_webhooks(engine) == 0


def test_trigger_dot_dot_reset_resets_nothing(engine: EngineServer) -> None:
    httpx.post(engine.url + "/_mock/webhooks", json={"url": "http://127.0.0.1:9/"})
    r = proc("trigger", "../reset", "--server", engine.url)
    assert r.code == 2
    assert "unknown event" in r.stderr
    no_traceback(r)
    assert _count_webhooks(engine) == 1


def test_trigger_at_a_port_that_is_not_serve(srv: ScriptedServer) -> None:
    for path in ("", "/html"):
        r = proc("trigger", "slow-query", "--server", srv.url + path, "--wait", "1")
        assert r.code == 2, r.stdout + r.stderr
        assert "does not answer like atscale-mock serve" in r.stderr
        no_traceback(r)


def test_serve_without_the_extra_says_which_extra(tmp_path: Path) -> None:
    blocker = tmp_path / "sitecustomize.py"
    blocker.write_text(
        "import sys\n"
        "class _Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('starlette', 'uvicorn'):\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}')\n"
        "sys.meta_path.insert(0, _Block())\n"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    r = proc("serve", "--port", "0", env=env, timeout=30)
    assert r.code == 2
    # the extra's packages as this installation declares them (no unpublished name)
    assert "pip install 'starlette>=0.37' 'uvicorn>=0.29'" in r.stderr, r.stderr
    assert "atscale-mock[" not in r.stderr
    assert len(r.stderr.splitlines()) <= 3
    no_traceback(r)


def test_the_journal_keeps_its_newest_rows(tmp_path: Path) -> None:
    from atscale_mock.delivery.retry import Attempt
    from atscale_mock.delivery.transport import Outcome, Request
    from atscale_mock.redact import Redactor
    from atscale_mock.serve.journal import Context, Journal

    journal = Journal(tmp_path / "j.sqlite3", Redactor(), max_rows=5)
    for n in range(12):
        request = Request("slow-query", "http://127.0.0.1:9/", b"{}", id=f"d{n}")
        journal.record(Attempt(request, 1, time.time(), Outcome(200, 0.001), {}), Context())
    journal.flush()
    rows = journal.query(limit=100)
    assert [r["id"] for r in rows] == [f"d{n}" for n in range(7, 12)]
    assert journal.count() == 5
    journal.close()


def test_a_slow_journal_query_does_not_stall_other_calls(engine: EngineServer) -> None:
    import threading

    real = engine.engine.journal.query
    release = threading.Event()

    def slow(**kwargs: Any) -> Any:
        release.wait(10)
        return real(**kwargs)

    engine.engine.journal.query = slow  # type: ignore[method-assign]
    answers: list[int] = []
    worker = threading.Thread(
        target=lambda: answers.append(
            httpx.get(engine.url + "/_mock/deliveries", timeout=20).status_code
        )
    )
    worker.start()
    time.sleep(0.2)
    try:
        health = httpx.get(engine.url + "/_mock/webhooks", timeout=5)
        assert health.status_code == 200
        assert answers == []  # answered while the query was still held
    finally:
        release.set()
        worker.join(20)
    assert answers == [200]


# -- expansion budget, environment values are data ------------------------------------


def _bombs(tmp: Path) -> tuple[Path, Path]:
    vars_bomb = ["version: 1", "vars:", "  v0: abcdefghij"]
    vars_bomb += [f'  v{i}: "${{vars.v{i - 1}}}${{vars.v{i - 1}}}"' for i in range(1, 41)]
    vars_bomb += ["steps:", "  - event: slow-query", "    set: {query_id: '${vars.v40}'}"]
    steps_bomb = ["version: 1", "steps:", "  - id: s0", "    event: slow-query"]
    steps_bomb += ["    set: {query_id: abcdefghijabcdefghijabcdefghij}"]
    for i in range(1, 41):
        ref = f"${{steps.s{i - 1}.payload.query_id}}"
        steps_bomb += [
            f"  - id: s{i}",
            "    event: slow-query",
            f"    set: {{query_id: '{ref}{ref}'}}",
        ]
    a, b = tmp / "vars-bomb.yaml", tmp / "steps-bomb.yaml"
    a.write_text("\n".join(vars_bomb) + "\n")
    b.write_text("\n".join(steps_bomb) + "\n")
    return a, b


def _limited(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The command under a 1 GB address-space limit, as the issue ran it."""
    exe = Path(sys.executable).parent / "atscale-mock"
    command = "ulimit -v 1000000; exec " + " ".join([str(exe), *args])
    return subprocess.run(
        ["bash", "-c", command], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_expansion_bombs_are_clear_errors_under_a_1gb_limit(tmp_path: Path) -> None:
    vars_bomb, steps_bomb = _bombs(tmp_path)
    for args in (("validate", vars_bomb), ("plan", vars_bomb), ("plan", steps_bomb)):
        done = _limited(args[0], str(args[1]), cwd=tmp_path)
        assert done.returncode == 2, (args, done.stderr[-2000:])
        assert "expands to more than 1048576 characters" in done.stderr
        assert "Traceback" not in done.stderr and "MemoryError" not in done.stderr
    ran = _limited("run", str(steps_bomb), "--to", "local", cwd=tmp_path)
    assert ran.returncode == 2 and "expands to more than" in ran.stderr
    assert "Traceback" not in ran.stderr


def test_environment_values_are_data_not_templates(tmp_path: Path) -> None:
    f = tmp_path / "env.yaml"
    f.write_text(
        "version: 1\nvars:\n  a: '${env:V}'\nsteps:\n  - event: slow-query\n"
        "    set: {query_id: '${vars.a}|${env:V}|${env:W}'}\n"
    )
    env = {**os.environ, "V": "${x}", "W": "${env:HOME}"}
    r = proc("plan", str(f), "--json", env=env)
    assert r.code == 0, r.stderr
    no_traceback(r)
    payload = json.loads(r.stdout)["deliveries"][0]["payload"]
    assert payload["query_id"] == "${x}|${x}|${env:HOME}"


# -- the plugin against hostile in-process apps ---------------------------------------

HOSTILE_APPS = """
import asyncio, time

def endless_wsgi(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    def body():
        while True:
            yield b"x" * 65536
    return body()

def blocking_wsgi(environ, start_response):
    time.sleep(20)
    start_response("200 OK", [])
    return [b"late"]

def raising_wsgi(environ, start_response):
    raise RuntimeError("wsgi app exploded")

async def blocking_asgi(scope, receive, send):
    time.sleep(20)  # blocks its event loop, as a buggy app does

async def silent_asgi(scope, receive, send):
    await receive()

async def streaming_asgi(scope, receive, send):
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    for _ in range(200 * 16):  # 200 MB in 64 KiB chunks
        await send({"type": "http.response.body", "body": b"y" * 65536, "more_body": True})
    await send({"type": "http.response.body", "body": b""})

async def raising_asgi(scope, receive, send):
    raise RuntimeError("asgi app exploded")

calls = {"n": 0}

async def flaky_asgi(scope, receive, send):
    calls["n"] += 1
    if calls["n"] == 1:
        raise RuntimeError("first call fails")
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})
"""

HOSTILE_TESTS = """
import time
import resource
import apps

CAP = 64 * 1024

def one(result):
    assert len(result.deliveries) == 1
    return result.deliveries[0]

def test_endless_wsgi_body_is_capped(atscale_engine):
    d = one(atscale_engine.send("slow-query", to=apps.endless_wsgi, check=False, timeout=5))
    assert d.status == 200
    assert "body kept" in d.response_body or len(d.response_body) <= 1100

def test_blocking_wsgi_times_out(atscale_engine):
    start = time.monotonic()
    d = one(atscale_engine.send("slow-query", to=apps.blocking_wsgi, check=False, timeout=2))
    assert d.error_class == "timeout" and time.monotonic() - start < 10

def test_blocking_asgi_times_out(atscale_engine):
    start = time.monotonic()
    d = one(atscale_engine.send("slow-query", to=apps.blocking_asgi, check=False, timeout=2))
    assert d.error_class == "timeout" and time.monotonic() - start < 10

def test_silent_asgi_is_a_500(atscale_engine):
    d = one(atscale_engine.send("slow-query", to=apps.silent_asgi, check=False, timeout=2))
    assert d.status == 500

def test_streaming_asgi_is_read_to_the_cap(atscale_engine):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    d = one(atscale_engine.send("slow-query", to=apps.streaming_asgi, check=False, timeout=10))
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert d.status == 200 and grown_mb < 100, grown_mb

def test_raising_apps_are_500_results(atscale_engine):
    for app in (apps.raising_wsgi, apps.raising_asgi):
        d = one(atscale_engine.send("slow-query", to=app, check=False, retries=1))
        assert d.status == 500 and d.attempts == 2
        assert "exploded" in d.response_body

def test_an_app_failing_once_is_retried(atscale_engine):
    d = one(atscale_engine.send("slow-query", to=apps.flaky_asgi, retries=2))
    assert d.status == 200 and d.attempts == 2
"""


def test_the_plugin_holds_hostile_apps_to_a_deadline(tmp_path: Path) -> None:
    (tmp_path / "apps.py").write_text(HOSTILE_APPS)
    (tmp_path / "test_hostile_apps.py").write_text(HOSTILE_TESTS)
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-W", "ignore"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=90,  # the outer bound: a hung session fails here instead of hanging
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "7 passed" in done.stdout
    assert time.monotonic() - start < 60


# -- untrusted text in XML and on terminals -------------------------------------------

NASTY = "screen\x1b[2Jclear \x1b]8;;http://evil.example\x07link\x1b]8;;\x07 nul\x00 bell\x07 \x9b"


def _nasty_answer(conn: socket.socket, request: bytes) -> None:
    body = json.dumps({"error": NASTY}, ensure_ascii=False).encode()
    conn.sendall(
        b"HTTP/1.1 500 Oops\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
        b"Connection: close\r\n\r\n%s" % (len(body), body)
    )


def _raw_nasty(conn: socket.socket, request: bytes) -> None:
    body = NASTY.encode()
    conn.sendall(
        b"HTTP/1.1 500 Oops\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
        b"Connection: close\r\n\r\n%s" % (len(body), body)
    )


def test_control_characters_never_reach_junit_or_the_terminal(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text("version: 1\nsteps:\n  - event: slow-query\n")
    junit = tmp_path / "junit.xml"
    with RawServer(_raw_nasty) as raw:
        r = proc("run", str(scenario), "--to", raw.url + "/h", "--junit", str(junit))
        sent = proc("send", "slow-query", "--to", raw.url + "/h")
    assert r.code == 1
    ET.parse(junit)  # well-formed
    text = junit.read_text()
    assert "\\u001b[2J" in text and "\x1b" not in text and "\x00" not in text
    for output in (r.stdout + r.stderr, sent.stdout + sent.stderr):
        assert "\x1b" not in output and "\x07" not in output and "\x9b" not in output


PLUGIN_NASTY = """
import json

NASTY = {nasty!r}

def app(environ, start_response):
    start_response("500 Oops", [("Content-Type", "text/plain")])
    return [NASTY.encode()]

def test_nasty(atscale_engine):
    atscale_engine.send("slow-query", to=app)
"""


def test_the_plugins_failure_text_has_no_control_characters(tmp_path: Path) -> None:
    (tmp_path / "test_nasty.py").write_text(PLUGIN_NASTY.format(nasty=NASTY))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--color=no"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 1
    assert "expected status 2xx, got 500" in done.stdout
    assert "\\u001b[2J" in done.stdout
    assert "\x1b" not in done.stdout and "\x07" not in done.stdout
