"""``atscale-mock serve``: the mock engine as a service, driven over its control API the
way a user's integration suite drives it (a real server in a subprocess or on a thread,
a real receiver on 127.0.0.1)."""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from atscale_mock.events.catalogue import EVENTS
from atscale_mock.serve import EngineServer

from .cli_helpers import no_traceback, proc
from .httpserver import ScriptedServer
from .serve_helpers import ServeProcess, journal_rows, settle

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SCENARIOS = Path(__file__).parent.parent / "scenarios"


@pytest.fixture
def engine() -> Any:
    with EngineServer() as server:
        yield server


def call(engine: EngineServer, method: str, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.request(method, engine.url + path, timeout=10, **kwargs)


def test_done_when_subscriptions_events_scenario_journal_reset(
    srv: ScriptedServer, tmp_path: Path
) -> None:
    """The issue's first "done when", as a user runs it: the real `serve` command, two
    subscriptions, the seven events and a scenario; the journal holds exactly what was
    delivered, signed deliveries verify with `standardwebhooks`, reset empties it."""
    journal = tmp_path / "engine.sqlite3"
    server = ServeProcess(
        "--journal", str(journal), "--scenario", str(SCENARIOS / "all-events.yaml")
    )
    try:
        api = server.api
        assert api("GET", "/_mock/health").status_code == 200
        only = api(
            "POST", "/_mock/webhooks", json={"url": srv.url + "/only", "events": ["slow-query"]}
        )
        signed = api(
            "POST",
            "/_mock/webhooks",
            json={
                "url": srv.url + "/signed",
                "signing": {"scheme": "standard-webhooks", "secret": SECRET},
            },
        )
        assert only.status_code == signed.status_code == 201
        only_id, signed_id = only.json()["id"], signed.json()["id"]
        listed = api("GET", "/_mock/webhooks").json()["webhooks"]
        assert {w["id"] for w in listed} == {only_id, signed_id}
        assert SECRET not in json.dumps(listed)

        fired: dict[str, list[str]] = {}
        for event in EVENTS:
            answer = api("POST", f"/_mock/events/{event.name}", json={"seed": 7})
            assert answer.status_code == 202
            fired[event.name] = answer.json()["deliveries"]
        assert {e: len(ids) for e, ids in fired.items()} == {
            e.name: 2 if e.name == "slow-query" else 1 for e in EVENTS
        }
        run = api("POST", "/_mock/scenarios", json={"name": "all-events", "seed": 3})
        assert run.status_code == 202
        settle(api)
        run_state = api("GET", f"/_mock/scenarios/{run.json()['id']}").json()
        assert run_state["status"] == "finished"

        rows = api("GET", "/_mock/deliveries?limit=1000").json()["deliveries"]
        scenario_rows = [r for r in rows if r["run_id"] == run_state["id"]]
        trigger_rows = [r for r in rows if r["run_id"] is None]
        # every event to the signed webhook, slow-query to both, one attempt each
        assert Counter((r["webhook_id"], r["event"]) for r in trigger_rows) == Counter(
            {(signed_id, e.name): 1 for e in EVENTS} | {(only_id, "slow-query"): 1}
        )
        assert {r["id"] for r in trigger_rows} == {i for ids in fired.values() for i in ids}
        planned = api("GET", "/_mock/scenarios").json()["runs"][0]["deliveries"]
        assert len(scenario_rows) == planned == run_state["deliveries"]
        assert all(r["status"] == 200 and r["attempt"] == 1 for r in rows)
        # what the receiver got is exactly what the journal says was delivered
        assert len(srv.seen) == len(rows)
        assert sum(s.path == "/only" for s in srv.seen) == sum(
            r["webhook_id"] == only_id for r in rows
        )
        assert all(
            json.loads(s.body)["event_type"] == "slow_query_event"
            for s in srv.seen
            if s.path == "/only"
        )
        # the signed ones verify with the reference implementation
        verifier = Webhook(SECRET)
        signed_seen = [s for s in srv.seen if s.path == "/signed"]
        assert len(signed_seen) == sum(r["webhook_id"] == signed_id for r in rows)
        for seen in signed_seen:
            verifier.verify(seen.body, {k.lower(): v for k, v in seen.headers.items()})
        assert all("webhook-signature" not in s.headers for s in srv.seen if s.path == "/only")

        assert api("POST", "/_mock/reset").status_code == 204
        assert api("GET", "/_mock/deliveries").json() == {"deliveries": []}
        assert api("GET", "/_mock/webhooks").json() == {"webhooks": []}
    finally:
        code, err = server.stop()
    assert code == 130, err
    no_traceback_text(err)
    assert journal_rows(journal) == []  # reset emptied the file too


def no_traceback_text(text: str) -> None:
    assert "Traceback" not in text


def test_sigterm_mid_scenario_then_restart_keeps_every_attempt(
    srv: ScriptedServer, tmp_path: Path
) -> None:
    journal = tmp_path / "engine.sqlite3"
    scenario = (
        "version: 1\nname: steady\nsteps:\n  - id: q\n    event: slow-query\n"
        "    repeat: {count: 400, rate: 40/s}\n"
    )
    server = ServeProcess("--journal", str(journal))
    server.api("POST", "/_mock/webhooks", json={"url": srv.url + "/slow/0.3"})
    run = server.api("POST", "/_mock/scenarios", json={"scenario": scenario})
    assert run.status_code == 202, run.text
    time.sleep(1.5)  # mid-scenario, with attempts in flight (the receiver takes 0.3 s)
    code, err = server.stop(signal.SIGTERM)
    assert code == 130, err
    assert "Traceback" not in err
    before = journal_rows(journal)
    arrived = len(srv.seen)
    assert 10 < arrived < 400
    # every request that reached the receiver is in the journal, and the ones cut off
    # are recorded as interrupted: nothing in flight went unrecorded
    answered = [r for r in before if r["status"] == 200]
    interrupted = [r for r in before if r["error_class"] == "interrupted"]
    assert interrupted, "in-flight attempts must be journaled as interrupted"
    assert len(answered) + len(interrupted) == len(before)
    assert len(answered) <= arrived <= len(before)

    again = ServeProcess("--journal", str(journal))
    try:
        kept = again.api("GET", "/_mock/deliveries?limit=10000").json()["deliveries"]
        assert [r["seq"] for r in kept] == [r["seq"] for r in before]
        assert [r["id"] for r in kept] == [r["delivery_id"] for r in before]
        again.api("POST", "/_mock/webhooks", json={"url": srv.url + "/after"})
        again.api("POST", "/_mock/events/unpublish", json={})
        settle(again.api)
        assert again.api("GET", "/_mock/health").json()["attempts"] == len(before) + 1
    finally:
        again.stop()


def test_engine_fault_fail_next_two_makes_the_receiver_see_duplicates(
    engine: EngineServer, srv: ScriptedServer
) -> None:
    """`fail the next 2`: the engine sends, calls it failed, retries; a receiver that
    deduplicates by webhook-id sees one webhook three times."""
    sub = call(
        engine,
        "POST",
        "/_mock/webhooks",
        json={
            "url": srv.url + "/dedup",
            "signing": {"scheme": "standard-webhooks", "secret": SECRET},
            "retry": {"schedule": "0s,0s,0s"},
        },
    ).json()["id"]
    fault = call(
        engine, "POST", "/_mock/faults", json={"action": "fail", "count": 2, "status": 503}
    )
    assert fault.status_code == 201
    ids = call(engine, "POST", "/_mock/events/batch-result", json={}).json()["deliveries"]
    settle(lambda m, p: call(engine, m, p))
    rows = call(engine, "GET", f"/_mock/deliveries?id={ids[0]}").json()["deliveries"]
    assert [r["attempt"] for r in rows] == [1, 2, 3]
    # the engine's pretend 503 is a status like a receiver's, so ?status=503 finds it
    assert [r["status"] for r in rows] == [503, 503, 200]
    assert [r["error_class"] for r in rows] == [None, None, None]
    assert "treated as 503" in rows[0]["error"] and "answered 200" in rows[0]["error"]
    assert rows[0]["fault"] and not rows[2]["fault"]
    found = call(engine, "GET", f"/_mock/deliveries?id={ids[0]}&status=503").json()
    assert [r["attempt"] for r in found["deliveries"]] == [1, 2]
    unique = {s.headers["webhook-id"] for s in srv.seen}
    assert len(srv.seen) == 3 and len(unique) == 1
    assert all(r["webhook_id"] == sub for r in rows)
    assert call(engine, "GET", "/_mock/faults").json()["faults"][0]["remaining"] == 0


def test_engine_fault_drop_and_delay(engine: EngineServer, srv: ScriptedServer) -> None:
    call(engine, "POST", "/_mock/webhooks", json={"url": srv.url + "/x", "retry": {"retries": 1}})
    call(engine, "POST", "/_mock/faults", json={"action": "drop", "count": 1})
    ids = call(engine, "POST", "/_mock/events/unpublish", json={}).json()["deliveries"]
    settle(lambda m, p: call(engine, m, p))
    rows = call(engine, "GET", f"/_mock/deliveries?id={ids[0]}").json()["deliveries"]
    assert [(r["attempt"], r["status"]) for r in rows][-1][1] == 200
    assert "not sent" in rows[0]["error"] and len(srv.seen) == 1
    call(engine, "DELETE", "/_mock/faults")
    call(engine, "POST", "/_mock/faults", json={"action": "delay", "delay": 0.4, "seconds": 30})
    started = time.monotonic()
    call(engine, "POST", "/_mock/events/unpublish", json={})
    settle(lambda m, p: call(engine, m, p))
    assert time.monotonic() - started >= 0.4
    assert len(srv.seen) == 2


def test_validation_errors_name_the_field(engine: EngineServer) -> None:
    cases = [
        ({"url": "ftp://x"}, "url"),
        ({}, "url"),
        ({"url": "http://127.0.0.1:9/", "evnts": []}, "evnts"),
        ({"url": "http://127.0.0.1:9/", "events": ["slow-qury"]}, "events[0]"),
        (
            {"url": "http://127.0.0.1:9/", "signing": {"scheme": "md5", "secret": "x"}},
            "signing.scheme",
        ),
        (
            {"url": "http://127.0.0.1:9/", "signing": {"scheme": "standard-webhooks"}},
            "signing.secret",
        ),
        ({"url": "http://127.0.0.1:9/", "headers": {"X-A": "a\r\nb"}}, "headers.X-A"),
        ({"url": "http://127.0.0.1:9/", "timeout": -1}, "timeout"),
        ({"url": "http://127.0.0.1:9/", "retry": {"retries": 1000}}, "retry.retries"),
    ]
    for body, field in cases:
        answer = call(engine, "POST", "/_mock/webhooks", json=body)
        assert answer.status_code == 422, body
        assert answer.json()["field"] == field, answer.json()
    bad_json = call(
        engine,
        "POST",
        "/_mock/webhooks",
        content=b"{nope",
        headers={"Content-Type": "application/json"},
    )
    assert bad_json.status_code == 422 and bad_json.json()["field"] == "body"
    unknown = call(engine, "POST", "/_mock/events/slow-qury", json={})
    assert unknown.status_code == 422 and "did you mean 'slow-query'" in unknown.json()["hint"]
    field = call(engine, "POST", "/_mock/events/slow-query", json={"set": {"nope": 1}})
    assert field.status_code == 422 and "no field 'nope'" in field.json()["error"]
    assert call(engine, "GET", "/_mock/deliveries?status=teapot").json()["field"] == "status"
    assert call(engine, "GET", "/_mock/deliveries?limit=0").json()["field"] == "limit"
    assert call(engine, "DELETE", "/_mock/webhooks/nope").status_code == 404
    bad = call(engine, "POST", "/_mock/scenarios", json={"scenario": "steps: [\n"})
    assert bad.status_code == 422
    assert (
        call(engine, "POST", "/_mock/faults", json={"action": "explode"}).json()["field"]
        == "action"
    )
    named = call(engine, "POST", "/_mock/scenarios", json={"name": []})  # found by the fuzzer
    assert named.status_code == 422 and named.json()["field"] == "name"


def test_query_filters_and_export_replays(
    engine: EngineServer, srv: ScriptedServer, tmp_path: Path
) -> None:
    call(engine, "POST", "/_mock/webhooks", json={"url": srv.url + "/ok"})
    call(
        engine,
        "POST",
        "/_mock/webhooks",
        json={"url": srv.url + "/status/503", "events": ["unpublish"]},
    )
    since = time.time()
    for event in ("slow-query", "unpublish", "unpublish"):
        call(engine, "POST", f"/_mock/events/{event}", json={})
    settle(lambda m, p: call(engine, m, p))
    q = lambda s: call(engine, "GET", "/_mock/deliveries?" + s).json()["deliveries"]  # noqa: E731
    assert len(q("event=unpublish")) == 4
    assert len(q("event=unpublish_schema_success")) == 4
    assert len(q("status=503")) == len(q("status=5xx")) == len(q("status=failed")) == 2
    assert len(q("status=ok")) == 3
    assert len(q(f"since={since}")) == 5 and q(f"since={time.time() + 60}") == []
    assert len(q("limit=2")) == 2
    exported = call(engine, "GET", "/_mock/deliveries.jsonl")
    lines = exported.text.splitlines()
    assert len(lines) == 5 and all(json.loads(line)["event"] for line in lines)
    log = tmp_path / "journal.jsonl"
    log.write_text(exported.text)
    srv.clear()
    replayed = proc("replay", str(log), "--to", srv.url + "/again", "--json")
    assert replayed.code == 0, replayed.stderr
    assert json.loads(replayed.stdout)["deliveries"] == 5
    assert sorted(s.body for s in srv.seen) == sorted(
        json.loads(line)["body"].encode() for line in lines
    )


def test_replay_a_delivery_sends_the_same_webhook_again(
    engine: EngineServer, srv: ScriptedServer
) -> None:
    call(
        engine,
        "POST",
        "/_mock/webhooks",
        json={"url": srv.url + "/r", "signing": {"scheme": "standard-webhooks", "secret": SECRET}},
    )
    first = call(engine, "POST", "/_mock/events/slow-query", json={}).json()["deliveries"][0]
    settle(lambda m, p: call(engine, m, p))
    again = call(engine, "POST", f"/_mock/deliveries/{first}/replay")
    assert again.status_code == 202 and again.json()["deliveries"][0] != first
    settle(lambda m, p: call(engine, m, p))
    assert len(srv.seen) == 2 and srv.seen[0].body == srv.seen[1].body
    assert srv.seen[0].headers["webhook-id"] == srv.seen[1].headers["webhook-id"]
    for seen in srv.seen:
        Webhook(SECRET).verify(seen.body, {k.lower(): v for k, v in seen.headers.items()})
    assert call(engine, "POST", "/_mock/deliveries/nope/replay").status_code == 404


def test_project_filter_and_lifecycle_is_one_batch(
    engine: EngineServer, srv: ScriptedServer
) -> None:
    call(engine, "POST", "/_mock/webhooks", json={"url": srv.url + "/p1", "project_id": "p1"})
    call(engine, "POST", "/_mock/webhooks", json={"url": srv.url + "/all"})
    call(engine, "POST", "/_mock/events/unpublish", json={"set": {"context.project_id": "p2"}})
    call(engine, "POST", "/_mock/events/unpublish", json={"set": {"context.project_id": "p1"}})
    answer = call(engine, "POST", "/_mock/lifecycles/batch", json={"prune": True, "project": "p1"})
    assert answer.status_code == 202
    assert list(answer.json()["stages"]) == ["batch-start", "batch-result", "prune-result"]
    settle(lambda m, p: call(engine, m, p))
    got = [s.json() for s in srv.seen if s.path == "/all"]
    assert len([s for s in srv.seen if s.path == "/p1"]) == 1 + 3
    batch = [b for b in got if b["event_type"].startswith("aggregate_")]
    assert [b["event_type"] for b in batch] == [
        "aggregate_batch_started",
        "aggregate_batch_result",
        "aggregate_prune_result",
    ]
    assert len({b["id"] for b in batch}) == 1


def test_continuous_engine_scenario_runs_until_stopped(
    engine: EngineServer, srv: ScriptedServer
) -> None:
    call(engine, "POST", "/_mock/webhooks", json={"url": srv.url + "/live"})
    scenario = (SCENARIOS / "publish-unpublish.yaml").read_text()
    run = call(
        engine,
        "POST",
        "/_mock/scenarios",
        content=scenario.encode(),
        headers={"Content-Type": "application/yaml"},
        params={"continuous": "true", "time_scale": "1000"},
    )
    assert run.status_code == 202, run.text
    run_id = run.json()["id"]
    deadline = time.monotonic() + 15
    while call(engine, "GET", f"/_mock/scenarios/{run_id}").json()["cycles"] < 2:
        assert time.monotonic() < deadline, "a continuous run must start again"
        time.sleep(0.05)
    stopped = call(engine, "DELETE", f"/_mock/scenarios/{run_id}").json()
    assert stopped["status"] == "stopped"
    # nothing is sent after the stop answered: every attempt (an interrupted one too) is
    # journaled before it, and the receiver, however slow to read what was already on
    # the wire, never sees more requests than that
    journaled = call(engine, "GET", "/_mock/health").json()["attempts"]
    time.sleep(0.5)
    assert call(engine, "GET", "/_mock/health").json()["attempts"] == journaled
    assert call(engine, "GET", "/_mock/health").json()["in_flight"] == 0
    assert 0 < len(srv.seen) <= journaled


def test_admin_token_guards_every_control_call(srv: ScriptedServer) -> None:
    with EngineServer(admin_token="s3cret-token") as server:
        denied = httpx.get(server.url + "/_mock/webhooks")
        assert denied.status_code == 401
        assert httpx.post(server.url + "/_mock/reset").status_code == 401
        wrong = httpx.get(server.url + "/_mock/webhooks", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        ok = httpx.get(
            server.url + "/_mock/health", headers={"Authorization": "Bearer s3cret-token"}
        )
        assert ok.status_code == 200 and "journal" in ok.json()
        # a health check needs no secret, and learns nothing else
        bare = httpx.get(server.url + "/_mock/health")
        assert bare.status_code == 200 and bare.json() == {"status": "ok"}
        assert httpx.get(server.url + "/").status_code == 200  # the page asks for the token


def test_secrets_are_write_only_and_redacted(engine: EngineServer, srv: ScriptedServer) -> None:
    hmac_secret = "hmac-secret-value-123"
    call(
        engine,
        "POST",
        "/_mock/webhooks",
        json={
            "url": srv.url.replace("://", "://user:pa55word@") + "/userinfo",
            "headers": {"Authorization": "Bearer tok-abcdef"},
            "signing": {"scheme": "hmac-sha256", "secret": hmac_secret},
        },
    )
    call(engine, "POST", "/_mock/events/slow-query", json={})
    settle(lambda m, p: call(engine, m, p))
    assert srv.seen and srv.seen[0].headers["Authorization"] == "Bearer tok-abcdef"
    shown = "".join(
        call(engine, "GET", path).text
        for path in ("/_mock/webhooks", "/_mock/deliveries", "/_mock/deliveries.jsonl")
    )
    rows = journal_rows(engine.engine.journal.path)
    assert rows
    for secret in (hmac_secret, "tok-abcdef", "pa55word"):
        assert secret not in shown
        assert secret not in json.dumps(rows, default=str)


def test_refuses_other_addresses_without_a_token() -> None:
    r = proc("serve", "--host", "0.0.0.0", "--port", "0")
    assert r.code == 2
    assert "--admin-token: refusing to listen on 0.0.0.0 without an admin token" in r.stderr
    no_traceback(r)


@pytest.mark.dev_tools
def test_openapi_is_served_valid_and_covers_every_route(engine: EngineServer) -> None:
    from openapi_spec_validator import validate

    served = call(engine, "GET", "/_mock/openapi.json").json()
    in_repo = json.loads(
        (Path(__file__).parent.parent / "atscale_mock" / "serve" / "openapi.json").read_text()
    )
    assert served == in_repo
    validate(served)
    from starlette.routing import Route

    routes = {
        (r.path, m.lower())
        for r in engine.app.routes
        if isinstance(r, Route) and r.path != "/"  # every route but the console page
        for m in (r.methods or ())
        if m != "HEAD"
    }
    documented = {(p, m) for p, ops in served["paths"].items() for m in ops}
    assert routes == documented


def test_trigger_command(srv: ScriptedServer, engine: EngineServer) -> None:
    call(engine, "POST", "/_mock/webhooks", json={"url": srv.url + "/t", "events": ["slow-query"]})
    ok = proc(
        "trigger", "slow-query", "--server", engine.url, "--seed", "4", "--wait", "10", "--json"
    )
    assert ok.code == 0, ok.stderr
    data = json.loads(ok.stdout)
    assert data["finished"] and data["results"][0]["status"] == 200
    assert srv.seen[0].json()["event_type"] == "slow_query_event"
    call(
        engine,
        "POST",
        "/_mock/webhooks",
        json={"url": srv.url + "/status/500", "events": ["unpublish"]},
    )
    bad = proc("trigger", "unpublish", "--server", engine.url, "--wait", "10")
    assert bad.code == 1 and "500" in bad.stdout
    none = proc("trigger", "schema-publish", "--server", engine.url)
    assert none.code == 1 and "no subscription wants schema-publish" in none.stderr
    assert "nothing was sent" in none.stderr
    none_json = proc("trigger", "schema-publish", "--server", engine.url, "--json")
    assert none_json.code == 1 and json.loads(none_json.stdout)["deliveries"] == []
    typo = proc("trigger", "slow-qury", "--server", engine.url)
    assert typo.code == 2 and "did you mean 'slow-query'" in typo.stderr
    no_traceback(typo)


def test_trigger_against_nothing_is_a_clear_error() -> None:
    from .cli_helpers import free_port

    r = proc("trigger", "slow-query", "--server", f"http://127.0.0.1:{free_port()}")
    assert r.code == 2 and "cannot reach the mock engine" in r.stderr
    no_traceback(r)


def test_trigger_server_local_says_what_local_is() -> None:
    r = proc("trigger", "slow-query", "--server", "local")
    assert r.code == 2, r.stderr
    assert "'local' is the built-in receiver, not a running mock engine" in r.stderr
    assert "atscale-mock serve" in r.stderr and "scheme" not in r.stderr
    bare = proc("trigger", "slow-query", "--server", "127.0.0.1:10600")
    assert bare.code == 2 and "http://127.0.0.1:10600" in bare.stderr
    assert "'local'" not in bare.stderr  # the hint for --to does not fit --server
    no_traceback(r)


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (401, {"error": "token"}, "wants an admin token"),
        (422, {"error": "url: required", "field": "url"}, "url: required"),
        (500, "oops", "oops"),
    ],
)
def test_trigger_client_maps_http_errors(status: int, body: Any, message: str) -> None:
    """The CLI's control-API client, at the HTTP edge (respx)."""
    import respx

    from atscale_mock.cli.serve_cmd import _Client
    from atscale_mock.errors import UsageError

    with respx.mock:
        content = json.dumps(body) if isinstance(body, dict) else body
        respx.post("http://127.0.0.1:10600/_mock/events/slow-query").respond(
            status, content=content
        )
        with pytest.raises(UsageError) as caught:
            _Client("http://127.0.0.1:10600", None).call("POST", "/_mock/events/slow-query", {})
    assert message in caught.value.message


def test_sigint_stops_serve_like_sigterm(srv: ScriptedServer, tmp_path: Path) -> None:
    journal = tmp_path / "j.sqlite3"
    server = ServeProcess("--journal", str(journal))
    server.api("POST", "/_mock/webhooks", json={"url": srv.url + "/slow/2"})
    server.api("POST", "/_mock/events/unpublish", json={})
    time.sleep(0.5)  # the delivery is in flight (the receiver takes 2 s)
    code, err = server.stop(signal.SIGINT)
    assert code == 130 and "Traceback" not in err
    rows = journal_rows(journal)
    assert [r["error_class"] for r in rows] == ["interrupted"]


def test_a_webhook_as_get_shows_it_can_be_posted_back(
    engine: EngineServer, srv: ScriptedServer
) -> None:
    """GET /_mock/webhooks shows retry.schedule as seconds; that very object, posted
    back, makes the same subscription (the schedule included)."""
    first = call(
        engine,
        "POST",
        "/_mock/webhooks",
        json={"url": srv.url + "/x", "retry": {"schedule": "1s,5s,2m"}, "timeout": 3},
    )
    assert first.status_code == 201, first.text
    shown = first.json()["webhook"]
    assert shown["retry"] == {"retries": 3, "schedule": [1.0, 5.0, 120.0]}
    again = {k: v for k, v in shown.items() if k not in ("id", "signing", "headers")}
    second = call(engine, "POST", "/_mock/webhooks", json=again)
    assert second.status_code == 201, second.text
    assert {k: v for k, v in second.json()["webhook"].items() if k != "id"} == {
        k: v for k, v in shown.items() if k != "id"
    }
    bad = call(
        engine, "POST", "/_mock/webhooks", json={"url": srv.url, "retry": {"schedule": [True]}}
    )
    assert bad.status_code == 422 and bad.json()["field"] == "retry.schedule"


@pytest.mark.parametrize(
    "content_type", ["application/yaml", "application/x-yaml", "text/yaml", "text/plain", None]
)
def test_a_scenario_posted_as_yaml_needs_a_yaml_content_type(
    engine: EngineServer, srv: ScriptedServer, content_type: str | None
) -> None:
    """The YAML itself as the body runs with any of the YAML content types the README
    names; text/plain or none (what a browser may send cross-site unasked) is refused
    with a 415 that says which type to send."""
    call(engine, "POST", "/_mock/webhooks", json={"url": srv.url + "/ok"})
    scenario = (SCENARIOS / "publish-unpublish.yaml").read_text()
    headers = {"Content-Type": content_type} if content_type else {}
    r = call(engine, "POST", "/_mock/scenarios?seed=3", content=scenario, headers=headers)
    if content_type in (None, "text/plain"):
        assert r.status_code == 415 and "application/yaml" in r.json()["error"], r.text
        return
    assert r.status_code == 202, r.text
    assert r.json()["name"] == "inline"
    from .docs_text import everything

    assert "Content-Type: application/yaml" in everything()


def test_a_scenario_in_serve_passes_the_retry_loop_once_per_delivery(
    srv: ScriptedServer, engine: EngineServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A serve scenario's deliveries are fed to the subscriptions once each: N
    deliveries to one subscription, N passes through the retry loop (before, the run's
    own loop passed each one more time, with nothing to retry)."""
    import time

    from atscale_mock.delivery import dispatch

    passes: list[str] = []
    real = dispatch.deliver

    async def counted(*args: Any, **kwargs: Any) -> Any:
        passes.append(args[1].event)
        return await real(*args, **kwargs)

    monkeypatch.setattr(dispatch, "deliver", counted)
    call(engine, "POST", "/_mock/webhooks", json={"url": srv.url + "/one"})
    scenario = "version: 1\nsteps:\n  - event: slow-query\n    repeat: {count: 5, every: 10ms}\n"
    run = call(
        engine, "POST", "/_mock/scenarios", content=scenario,
        headers={"Content-Type": "application/yaml"},
    )  # fmt: skip
    assert run.status_code == 202, run.text
    deadline = time.monotonic() + 20
    while call(engine, "GET", f"/_mock/scenarios/{run.json()['id']}").json()["status"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    srv.wait_seen(5)
    assert len(srv.seen) == 5
    assert passes == ["slow-query"] * 5
