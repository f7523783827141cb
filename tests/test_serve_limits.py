"""serve against its own callers: it cannot be turned on itself, starved by a hanging
receiver, poisoned with non-JSON numbers, made to read its environment for a local
caller, or stalled by what it is posted. Each test is the attack, against a real serve
on 127.0.0.1, bounded in count and time."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from atscale_mock.serve import EngineServer

from .httpserver import ScriptedServer
from .serve_helpers import ServeProcess, settle


@pytest.fixture
def engine() -> Iterator[EngineServer]:
    with EngineServer() as server:
        yield server


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


# -- never itself ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "localhost", "LOCALHOST.", "127.0.0.2", "[::ffff:127.0.0.1]", "0.0.0.0"],
)
def test_a_subscription_to_serve_itself_is_refused(engine: EngineServer, host: str) -> None:
    url = f"http://{host}:{_port(engine.url)}/_mock/scenarios"
    r = httpx.post(engine.url + "/_mock/webhooks", json={"url": url})
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "url" and "itself" in r.json()["error"]
    assert httpx.get(engine.url + "/_mock/webhooks").json()["webhooks"] == []


def test_a_delivery_that_reaches_a_control_api_is_refused_and_starts_nothing(
    srv: ScriptedServer,
) -> None:
    """Two serves subscribed to each other's trigger: each delivery reaches the other's
    control API, which answers 508 and starts nothing. Without the guard every
    delivery triggered another, forever."""
    with EngineServer() as a, EngineServer() as b:
        for one, other in ((a, b), (b, a)):
            hook = {"url": other.url + "/_mock/events/slow-query", "retry": {"retries": 0}}
            assert httpx.post(one.url + "/_mock/webhooks", json=hook).status_code == 201
        assert httpx.post(a.url + "/_mock/events/slow-query", json={}).status_code == 202
        time.sleep(1.0)
        rows_a = httpx.get(a.url + "/_mock/deliveries").json()["deliveries"]
        rows_b = httpx.get(b.url + "/_mock/deliveries").json()["deliveries"]
    assert [r["status"] for r in rows_a] == [508]
    assert rows_b == []  # b started nothing


def test_deliver_to_limits_where_serve_delivers(srv: ScriptedServer) -> None:
    with EngineServer(deliver_to=("10.0.0.0/8", "receiver")) as engine:
        r = httpx.post(engine.url + "/_mock/webhooks", json={"url": srv.url + "/ok"})
        assert r.status_code == 422 and "--deliver-to" in r.json()["error"]
        ok = httpx.post(engine.url + "/_mock/webhooks", json={"url": "http://receiver:8000/h"})
        assert ok.status_code == 201
    with EngineServer(deliver_to=("127.0.0.0/8",)) as engine:
        r = httpx.post(engine.url + "/_mock/webhooks", json={"url": srv.url + "/ok"})
        assert r.status_code == 201


# -- a hanging receiver does not starve serve -----------------------------------------


class Silent:
    """A TCP listener that accepts and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.conns: list[socket.socket] = []
        self.stop = threading.Event()
        self.sock.settimeout(0.1)
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/hooks"

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                self.conns.append(self.sock.accept()[0])
            except OSError:
                continue

    def close(self) -> None:
        self.stop.set()
        self.thread.join(2)
        for c in self.conns:
            c.close()
        self.sock.close()


@pytest.fixture
def silent() -> Iterator[Silent]:
    s = Silent()
    yield s
    s.close()


def test_checks_against_a_hanging_receiver_do_not_starve_serve(silent: Silent) -> None:
    body = {"url": silent.url, "only": ["events"], "timeout": 30}
    serve = ServeProcess()
    try:
        answers: list[int] = []

        def post() -> None:
            try:
                answers.append(serve.api("POST", "/_mock/checks", json=body).status_code)
            except httpx.HTTPError:
                answers.append(-1)

        threads = [threading.Thread(target=post, daemon=True) for _ in range(6)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 20
        while len(answers) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        started = time.monotonic()
        for path in ("/_mock/health", "/_mock/deliveries", "/_mock/report.html"):
            assert serve.api("GET", path).status_code == 200
        assert time.monotonic() - started < 5  # answered while six checks hang
        assert answers.count(429) == 4  # two run, four are told to come back
        # reset stops the running checks: their clients get no scorecard, soon
        assert serve.api("POST", "/_mock/reset").status_code == 204
        for t in threads:
            t.join(10)
        assert all(not t.is_alive() for t in threads)
        # and SIGTERM ends serve at once, no traceback, no check keeping it alive
        threading.Thread(target=post, daemon=True).start()
        time.sleep(1.0)
        t0 = time.monotonic()
        code, err = serve.stop()
        assert time.monotonic() - t0 < 8
    finally:
        if serve.proc.poll() is None:
            serve.proc.kill()
    assert code == 130, err
    assert "Traceback" not in err and "CancelledError" not in err


def test_a_check_stops_when_its_client_hangs_up(silent: Silent) -> None:
    with EngineServer() as engine:
        body = {"url": silent.url, "only": ["events"], "timeout": 30}
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(engine.url + "/_mock/checks", json=body, timeout=1.0)
        deadline = time.monotonic() + 5
        while engine.engine.checks.running and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not engine.engine.checks.running  # the check stopped: its slot is free again


# -- non-JSON numbers -----------------------------------------------------------------


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_serve_refuses_numbers_json_cannot_carry(
    engine: EngineServer, srv: ScriptedServer, text: str
) -> None:
    httpx.post(engine.url + "/_mock/webhooks", json={"url": srv.url + "/ok"})
    body = '{"set": {"time_taken": ' + text + "}}"
    r = httpx.post(
        engine.url + "/_mock/events/slow-query",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 422 and r.json()["field"] == "body", r.text
    settle(lambda m, p: httpx.request(m, engine.url + p))
    listed = httpx.get(engine.url + "/_mock/deliveries")
    assert listed.status_code == 200 and listed.json()["deliveries"] == []


def test_a_yaml_infinity_never_reaches_the_wire(engine: EngineServer, srv: ScriptedServer) -> None:
    httpx.post(engine.url + "/_mock/webhooks", json={"url": srv.url + "/ok"})
    scenario = "version: 1\nsteps:\n  - event: slow-query\n    set: {time_taken: .inf}\n"
    r = httpx.post(
        engine.url + "/_mock/scenarios",
        content=scenario,
        headers={"Content-Type": "application/yaml"},
    )
    assert r.status_code == 202
    settle(lambda m, p: httpx.request(m, engine.url + p))
    run = httpx.get(engine.url + "/_mock/scenarios").json()["runs"][0]
    assert run["status"] == "failed" and "time_taken" in run["error"]
    assert httpx.get(engine.url + "/_mock/deliveries").status_code == 200
    assert not [s for s in srv.seen if b"Infinity" in s.body]


# -- the environment of the user who started serve ------------------------------------


def test_a_posted_scenario_cannot_read_serves_environment(srv: ScriptedServer) -> None:
    os.environ["PLANTED_SECRET_FOR_TEST"] = "topsecret_ENV_42"
    try:
        with EngineServer() as engine:
            httpx.post(engine.url + "/_mock/webhooks", json={"url": srv.url + "/ok"})
            scenario = (
                "version: 1\nsteps:\n  - event: slow-query\n"
                "    set: {query_id: '${env:PLANTED_SECRET_FOR_TEST}'}\n"
            )
            r = httpx.post(
                engine.url + "/_mock/scenarios",
                content=scenario,
                headers={"Content-Type": "application/yaml"},
            )
            assert r.status_code == 422
            assert "--scenario-env PLANTED_SECRET_FOR_TEST" in json.dumps(r.json())
            rows = httpx.get(engine.url + "/_mock/deliveries").text
        assert "topsecret_ENV_42" not in rows + r.text
        with EngineServer(scenario_env=("PLANTED_SECRET_FOR_TEST",)) as engine:
            r = httpx.post(
                engine.url + "/_mock/scenarios",
                content=scenario,
                headers={"Content-Type": "application/yaml"},
            )
            assert r.status_code == 202  # named by its owner: allowed
    finally:
        del os.environ["PLANTED_SECRET_FOR_TEST"]


# -- the event loop stays free --------------------------------------------------------


def test_a_big_posted_scenario_does_not_stall_other_calls(engine: EngineServer) -> None:
    steps = "".join(f"  - event: slow-query\n    set: {{query_id: q{i}}}\n" for i in range(40_000))
    text = "version: 1\nsteps:\n" + steps
    got: list[int] = []

    def post() -> None:
        got.append(
            httpx.post(
                engine.url + "/_mock/scenarios",
                content=text,
                headers={"Content-Type": "application/yaml"},
                timeout=60,
            ).status_code
        )

    t = threading.Thread(target=post)
    t.start()
    answered_meanwhile = 0
    while t.is_alive():
        httpx.get(engine.url + "/_mock/health", timeout=30)
        if t.is_alive():  # answered while the scenario was still being parsed
            answered_meanwhile += 1
        time.sleep(0.05)
    t.join()
    assert got == [202]
    # parsing on the loop froze every call until it ended: one health at most got in
    assert answered_meanwhile >= 3, answered_meanwhile


def test_an_empty_continuous_run_is_paced_and_ended_runs_are_pruned(
    engine: EngineServer,
) -> None:
    scenario = "version: 1\nsteps:\n  - event: slow-query\n"  # no subscription: no delivery
    r = httpx.post(
        engine.url + "/_mock/scenarios",
        json={"scenario": scenario, "continuous": True},
    )
    run_id = r.json()["id"]
    time.sleep(1.2)
    cycles = httpx.get(engine.url + f"/_mock/scenarios/{run_id}").json()["cycles"]
    httpx.delete(engine.url + f"/_mock/scenarios/{run_id}")
    assert 1 <= cycles <= 4  # paced at MIN_CYCLE, not spinning thousands of cycles
    from atscale_mock.serve.state import MAX_RUNS_KEPT

    for _ in range(MAX_RUNS_KEPT + 20):
        httpx.post(engine.url + "/_mock/scenarios", json={"scenario": scenario})
    settle(lambda m, p: httpx.request(m, engine.url + p))
    assert len(httpx.get(engine.url + "/_mock/scenarios").json()["runs"]) <= MAX_RUNS_KEPT + 1


def test_many_subscriptions_wait_for_a_slot_not_against_their_timeout(
    engine: EngineServer, srv: ScriptedServer
) -> None:
    """600 subscriptions to one receiver that takes 0.5 s: the sender's pool holds 64
    connections, so most wait (about 5 s for the last); the wait is not the receiver's
    time, none times out."""
    for _ in range(600):
        hook = {"url": srv.url + "/slow/0.5", "timeout": 3, "retry": {"retries": 0}}
        httpx.post(engine.url + "/_mock/webhooks", json=hook)
    httpx.post(engine.url + "/_mock/events/slow-query", json={})
    settle(lambda m, p: httpx.request(m, engine.url + p), timeout=30)
    rows = httpx.get(engine.url + "/_mock/deliveries?limit=1000").json()["deliveries"]
    assert len(rows) == 600
    assert {r["status"] for r in rows} == {200}, {r["error_class"] for r in rows}


def test_health_says_degraded_while_the_journal_cannot_write(
    engine: EngineServer, srv: ScriptedServer
) -> None:
    """The journal's connection swapped for a read-only one: every write fails as on a
    full disk (SQLite refuses it), and health says so until a write succeeds again."""
    import sqlite3

    journal = engine.engine.journal
    api = lambda m, p: httpx.request(m, engine.url + p)  # noqa: E731
    httpx.post(engine.url + "/_mock/webhooks", json={"url": srv.url + "/ok"})
    writable = journal._db
    read_only = sqlite3.connect(
        f"file:{journal.path}?mode=ro", uri=True, check_same_thread=False, isolation_level=None
    )
    with journal._lock:
        journal._db = read_only
    try:
        httpx.post(engine.url + "/_mock/events/slow-query", json={})
        settle(api)
        deadline = time.monotonic() + 5
        while journal.errors == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        r = httpx.get(engine.url + "/_mock/health")
        assert r.status_code == 503, r.text
        assert r.json()["status"] == "degraded" and "readonly" in r.json()["journal_error"]
    finally:
        with journal._lock:
            journal._db = writable
        read_only.close()
    httpx.post(engine.url + "/_mock/events/slow-query", json={})
    settle(api)
    deadline = time.monotonic() + 5
    while journal.failing and time.monotonic() < deadline:
        time.sleep(0.05)
    assert httpx.get(engine.url + "/_mock/health").json()["status"] == "ok"
