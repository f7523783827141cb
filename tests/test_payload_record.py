"""One ``PayloadOptions`` record says how a payload is made, and every way in makes the
same payload from it: ``payload``, ``send``, ``asend``, the CLI's ``show``, ``send`` and
``trigger`` (one option group), and serve's trigger body (its keys are the record's
fields). Each is checked on what a receiver on 127.0.0.1 got."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

import atscale_mock as am
from atscale_mock.events.payload import PAYLOAD_KEYWORDS
from atscale_mock.serve.model import Trigger, trigger_options

from .cli_helpers import cli
from .httpserver import ScriptedServer

PROJECT = "5a0e3c55-7a3f-4a83-9c7f-1c2b3d4e5f60"
CUBE = "0b1c2d3e-4f50-4617-8a9b-0c1d2e3f4a5b"
QUERY = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"
RECORD = am.PayloadOptions(
    set={"query_id": QUERY},
    failed=True,
    org="acme",
    project=PROJECT,
    cube=CUBE,
    slow_threshold=600.0,
    clock="2024-05-01T10:00:00Z",
)
OPTIONS = [
    "--set", f"query_id={QUERY}", "--failed", "--org", "acme", "--project", PROJECT,
    "--cube", CUBE, "--slow-threshold", "10m", "--clock", "2024-05-01T10:00:00Z",
]  # fmt: skip


def made_by_the_record(body: dict[str, Any]) -> None:
    """Every field RECORD pins, as it pins it (a default anywhere fails one of these)."""
    assert body["event_type"] == "slow_query_event"
    assert body["query_id"] == QUERY
    assert body["query_success"] is False
    assert body["org_id"] == "acme"
    assert body["project_id"] == PROJECT and body["cube_id"] == CUBE
    assert body["time_taken"] >= 600.0
    assert body["finished_at"].startswith("2024-05-01T10:00:00")


def test_the_library_ways_in_make_what_the_record_says(srv: ScriptedServer) -> None:
    made_by_the_record(am.payload("slow-query", seed=1, payload_options=RECORD))
    assert am.send("slow-query", to=srv.url + "/ok", payload_options=RECORD).ok
    made_by_the_record(json.loads(srv.seen[-1].body))
    result = asyncio.run(am.asend("slow-query", to=srv.url + "/ok", payload_options=RECORD))
    assert result.ok
    made_by_the_record(json.loads(srv.seen[-1].body))


def test_show_makes_the_same_bytes_as_payload_from_the_options() -> None:
    shown = cli("show", "slow-query", "--seed", "5", "--compact", *OPTIONS)
    assert shown.code == 0, shown.stderr
    same = am.payload("slow-query", seed=5, payload_options=RECORD)
    assert shown.stdout.strip() == json.dumps(same, separators=(",", ":"))
    made_by_the_record(json.loads(shown.stdout))


def test_cli_send_and_trigger_make_what_the_record_says(srv: ScriptedServer) -> None:
    r = cli("send", "slow-query", "--to", srv.url + "/ok", *OPTIONS)
    assert r.code == 0, r.stderr
    made_by_the_record(json.loads(srv.seen[-1].body))
    with am.EngineServer() as engine:
        httpx.post(engine.url + "/_mock/webhooks", json={"url": srv.url + "/ok"})
        r = cli("trigger", "slow-query", "--server", engine.url, *OPTIONS, "--wait", "10s")
        assert r.code == 0, r.stderr
        made_by_the_record(json.loads(srv.seen[-1].body))
        # serve's body is the record's fields: what Trigger.body() writes reads back
        posted = httpx.post(
            engine.url + "/_mock/events/slow-query", json=Trigger(None, RECORD).body()
        )
        assert posted.status_code == 202, posted.text
        srv.wait_seen(3, timeout=10)
        assert len(srv.seen) == 3
        made_by_the_record(json.loads(srv.seen[-1].body))


def test_a_trigger_body_reads_back_as_the_record_it_was_written_from() -> None:
    for seed in (None, 0, 7):
        asked = Trigger(seed, RECORD)
        assert trigger_options(asked.body()) == asked
    assert Trigger(None, am.PayloadOptions()).body() == {}  # defaults are not written
    assert set(Trigger(1, RECORD).body()) == {"seed", *PAYLOAD_KEYWORDS} - {"full", "error"}


def test_a_keyword_wins_over_the_record_and_set_adds_to_its_paths() -> None:
    body = am.payload(
        "slow-query", seed=1, payload_options=RECORD, org="other", set={"time_taken": 1.5}
    )
    assert body["org_id"] == "other" and body["time_taken"] == 1.5
    assert body["query_id"] == QUERY  # the record's path stays
    assert RECORD.org == "acme" and dict(RECORD.set) == {"query_id": QUERY}  # untouched
    failing = am.payload("slow-query", seed=1, payload_options=RECORD, failed=False)
    assert failing["query_success"] is True


def test_error_implies_failed_and_a_bad_path_names_the_field() -> None:
    body = am.payload("batch-result", seed=2, payload_options=am.PayloadOptions(error="disk"))
    assert body["error"] == "disk"
    with pytest.raises(am.UnknownFieldError, match="querry_id"):
        am.payload("slow-query", payload_options=am.PayloadOptions(set={"querry_id": 1}))
