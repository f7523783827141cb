"""AtScale's own webhook REST API on serve (/org/{orgId}/webhooks), as the code that
registers a receiver meets it: the envelope, the required fields, bearer tokens, and
a webhook created here receiving the events it names."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from atscale_mock import EngineServer

from .httpserver import ScriptedServer

TOKEN = {"Authorization": "Bearer session-token"}


@pytest.fixture
def engine() -> Any:
    with EngineServer() as server:
        yield server


def api(engine: EngineServer, method: str, path: str, **kwargs: Any) -> httpx.Response:
    kwargs.setdefault("headers", TOKEN)
    return httpx.request(method, engine.url + path, timeout=10, **kwargs)


def hook(url: str, kind: str = "slow-query", org: str = "default", project: str = "") -> dict:
    return {"org_id": org, "notification_type": kind, "url": url, "project_id": project}


def _envelope(r: httpx.Response) -> Any:
    body = r.json()
    assert set(body) == {"status", "response", "time_to_process"}, body
    assert body["status"]["code"] == r.status_code
    assert set(body["status"]) == {"code", "i18n_message", "message"}
    return body["response"]


def test_create_list_get_delete_in_atscales_envelope(
    engine: EngineServer, srv: ScriptedServer
) -> None:
    created = api(engine, "POST", "/org/default/webhooks", json=hook(srv.url + "/a"))
    assert created.status_code == 200
    hook_id = _envelope(created)["id"]
    other = api(
        engine, "POST", "/org/default/webhooks",
        json=hook(srv.url + "/b", "aggregate_batch_result", project="p1"),
    )  # fmt: skip
    listed = _envelope(api(engine, "GET", "/org/default/webhooks"))
    assert {h["id"] for h in listed} == {hook_id, _envelope(other)["id"]}
    assert all(set(h) == {"id", "org_id", "notification_type", "url", "project_id"} for h in listed)
    by_project = _envelope(api(engine, "GET", "/org/default/webhooks?projectId=p1"))
    assert [h["url"] for h in by_project] == [srv.url + "/b"]
    by_type = _envelope(api(engine, "GET", "/org/default/webhooks?notificationType=slow-query"))
    assert [h["id"] for h in by_type] == [hook_id]
    assert _envelope(api(engine, "GET", "/org/elsewhere/webhooks")) == []
    one = _envelope(api(engine, "GET", f"/org/default/webhooks/{hook_id}"))
    assert one == {"id": hook_id, **hook(srv.url + "/a")}
    # it is a subscription of the engine: visible in /_mock, and deleted here, gone there
    assert hook_id in {
        w["id"] for w in httpx.get(engine.url + "/_mock/webhooks").json()["webhooks"]
    }
    deleted = api(engine, "DELETE", f"/org/default/webhooks/{hook_id}")
    assert deleted.status_code == 200 and _envelope(deleted) == {"id": hook_id}
    assert api(engine, "GET", f"/org/default/webhooks/{hook_id}").status_code == 404
    assert api(engine, "DELETE", f"/org/default/webhooks/{hook_id}").status_code == 404
    assert hook_id not in {
        w["id"] for w in httpx.get(engine.url + "/_mock/webhooks").json()["webhooks"]
    }


def test_a_webhook_created_through_the_api_gets_the_events_it_names(
    engine: EngineServer, srv: ScriptedServer
) -> None:
    api(engine, "POST", "/org/default/webhooks", json=hook(srv.url + "/q"))
    api(engine, "POST", "/org/acme/webhooks", json=hook(srv.url + "/acme", "all", org="acme"))
    fired = httpx.post(engine.url + "/_mock/events/slow-query", json={"seed": 1}).json()
    assert len(fired["deliveries"]) == 1  # org default's slow-query hook; not acme's
    httpx.post(engine.url + "/_mock/events/batch-start", json={"seed": 1})  # nobody's
    acme = httpx.post(engine.url + "/_mock/events/unpublish", json={"org": "acme"}).json()
    assert len(acme["deliveries"]) == 1
    srv.wait_seen(2)
    assert sorted(s.path for s in srv.seen) == ["/acme", "/q"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"url": None}, "missing: url"),
        ({"notification_type": "nope"}, "unknown notification_type 'nope'"),
        ({"org_id": "other"}, "is not the org of the path"),
        ({"url": "ftp://x"}, "unsupported URL scheme"),
        ({"extra": 1}, "unknown field(s): extra"),
    ],
)
def test_a_bad_create_body_is_400_saying_why(
    engine: EngineServer, change: dict, message: str
) -> None:
    body = {**hook("http://127.0.0.1:9/x"), **change}
    body = {k: v for k, v in body.items() if v is not None}
    r = api(engine, "POST", "/org/default/webhooks", json=body)
    assert r.status_code == 400 and _envelope(r) is None
    assert message in r.json()["status"]["message"]
    assert httpx.get(engine.url + "/_mock/webhooks").json()["webhooks"] == []


def test_calls_need_a_bearer_token_and_serves_admin_token_when_set(srv: ScriptedServer) -> None:
    with EngineServer() as open_engine:
        for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer"}):
            r = api(open_engine, "GET", "/org/default/webhooks", headers=headers)
            assert r.status_code == 401 and _envelope(r) is None
        assert api(open_engine, "GET", "/org/default/webhooks").status_code == 200
        assert api(open_engine, "GET", "/org/no%20such/webhooks").status_code == 404
    with EngineServer(admin_token="s3cret") as guarded:
        assert api(guarded, "GET", "/org/default/webhooks").status_code == 401
        ok = api(
            guarded, "GET", "/org/default/webhooks", headers={"Authorization": "Bearer s3cret"}
        )
        assert ok.status_code == 200


def test_a_client_written_from_atscales_docs_logs_in_and_registers_a_receiver(
    srv: ScriptedServer,
) -> None:
    """Only what AtScale documents, plus the (not stated) shape of the auth call: log in
    for a session token, create, list by projectId, get, get an event, delete."""
    with (
        EngineServer(admin_token="adm-token") as engine,
        httpx.Client(base_url=engine.url, timeout=10) as client,
    ):
        assert client.get("/default/auth", auth=("admin", "wrong")).status_code == 401
        assert client.get("/default/auth").status_code == 401
        login = client.get("/default/auth", auth=("admin", "adm-token"))
        assert login.status_code == 200 and login.headers["content-type"].startswith("text/plain")
        bearer = {"Authorization": f"Bearer {login.text}"}
        assert client.get("/org/default/webhooks").status_code == 401
        body = {
            "org_id": "default",
            "notification_type": "slow_query_event",
            "url": srv.url + "/mine",
            "project_id": "p-42",
        }
        created = client.post("/org/default/webhooks", json=body, headers=bearer).json()
        hook_id = created["response"]["id"]
        client.post("/org/default/webhooks", json={**body, "project_id": "other"}, headers=bearer)
        listed = client.get(
            "/org/default/webhooks", params={"projectId": "p-42"}, headers=bearer
        ).json()["response"]
        assert [h["id"] for h in listed] == [hook_id]
        one = client.get(f"/org/default/webhooks/{hook_id}", headers=bearer).json()
        assert one["response"]["url"] == srv.url + "/mine"
        fired = httpx.post(
            engine.url + "/_mock/events/slow-query",
            json={"project": "p-42"},
            headers={"Authorization": "Bearer adm-token"},
        )
        assert fired.status_code == 202 and len(fired.json()["deliveries"]) == 1
        srv.wait_seen(1)
        assert srv.seen[0].path == "/mine"
        assert json.loads(srv.seen[0].body)["project_id"] == "p-42"
        gone = client.delete(f"/org/default/webhooks/{hook_id}", headers=bearer)
        assert gone.json()["response"] == {"id": hook_id}
        left = client.get("/org/default/webhooks", params={"projectId": "p-42"}, headers=bearer)
        assert left.json()["response"] == []
