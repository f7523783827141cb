"""send, demo and receive end to end against real servers on 127.0.0.1."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from atscale_mock.events.catalogue import EVENTS, find_event
from atscale_mock.events.schema import validation_errors

from .cli_helpers import cli, free_port, no_traceback, proc, start_receiver
from .httpserver import ScriptedServer


def test_send_posts_a_valid_payload(srv: ScriptedServer) -> None:
    r = cli("send", "slow-query", "--to", srv.url + "/ok", "--seed", "3")
    assert r.code == 0, r.stderr
    (seen,) = srv.seen
    assert seen.headers["Content-Type"] == "application/json"
    body = seen.json()
    assert body["event_type"] == "slow_query_event"
    assert validation_errors(find_event("slow-query"), body) == []  # type: ignore[arg-type]
    assert "ok " in r.stdout and "200" in r.stdout and "seed: 3" in r.stderr


def test_send_count_rate_and_url_placeholders(srv: ScriptedServer) -> None:
    r = cli(
        "send",
        "batch-start",
        "-n",
        "5",
        "--rate",
        "50",
        "--org",
        "acme",
        "--to",
        srv.url + "/webhooks/orgId/{org_id}/envId/prod",
    )
    assert r.code == 0, r.stderr
    assert [s.path for s in srv.seen] == ["/webhooks/orgId/acme/envId/prod"] * 5
    assert len({b["id"] for b in srv.bodies()}) == 5


def test_send_json_summary_and_log_with_redaction(srv: ScriptedServer, tmp_path: Path) -> None:
    log = tmp_path / "sent.jsonl"
    r = cli(
        "send",
        "batch-result",
        "--to",
        srv.url + "/flaky/1/a",
        "--retries",
        "2",
        "--header",
        "Authorization: Bearer hunter2-token",
        "--log",
        str(log),
        "--json",
    )
    assert r.code == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["attempts"] == 2 and summary["ok"] == 1
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    assert [(x["attempt"], x["status"]) for x in lines] == [(1, 503), (2, 200)]
    assert lines[0]["payload"]["event_type"] == "aggregate_batch_result"
    assert lines[0]["request_headers"]["Authorization"] == "***"
    assert srv.seen[0].headers["Authorization"] == "Bearer hunter2-token"
    assert "hunter2" not in log.read_text() + r.stdout + r.stderr


def test_send_non_2xx_exits_1(srv: ScriptedServer) -> None:
    r = cli("send", "prune-result", "--to", srv.url + "/status/500")
    assert r.code == 1 and "500" in r.stdout


def test_send_400_is_not_retried(srv: ScriptedServer) -> None:
    r = cli("send", "prune-result", "--to", srv.url + "/status/400", "--retries", "3")
    assert r.code == 1 and len(srv.seen) == 1


def test_send_redirect_is_reported_not_followed(srv: ScriptedServer) -> None:
    r = cli("send", "unpublish", "--to", srv.url + "/redirect")
    assert r.code == 1 and "redirect to /ok (not followed)" in r.stdout
    assert [s.path for s in srv.seen] == ["/redirect"]


@pytest.mark.parametrize(
    ("path", "cls"), [("/reset", "reset"), ("/garbage", "protocol"), ("/slow/2", "timeout")]
)
def test_send_transport_failures_get_one_clear_line(
    srv: ScriptedServer, path: str, cls: str
) -> None:
    r = proc("send", "slow-query", "--to", srv.url + path, "--timeout", "0.5")
    assert r.code == 1, r.stderr
    assert "ERR slow-query" in r.stdout and cls in r.stdout
    no_traceback(r)


def test_send_refused_connection() -> None:
    r = proc("send", "slow-query", "--to", f"http://127.0.0.1:{free_port()}/x")
    assert r.code == 1 and "refused" in r.stdout
    no_traceback(r)


@pytest.mark.parametrize(
    "args",
    [
        ["--to", "ftp://127.0.0.1/x"],
        ["--to", "not a url"],
        ["--to", "http://"],
        ["--to", "local", "--count", "0"],
        ["--to", "local", "--rate", "-1"],
        ["--to", "local", "--timeout", "0"],
        ["--to", "local", "--count", "many"],
        ["--to", "local", "--header", "no-colon"],
        ["--to", "local", "--insecure", "--ca-cert", __file__],
    ],
)
def test_bad_command_lines_exit_2(args: list[str]) -> None:
    r = proc("send", "slow-query", *args)
    assert r.code == 2, (r.stdout, r.stderr)
    no_traceback(r)
    assert r.stderr.strip()


def test_send_to_local_shows_both_sides() -> None:
    r = proc("send", "slow-agg-build", "--to", "local", "--seed", "1")
    assert r.code == 0, r.stderr
    assert "<-- POST /hooks  slow_agg_builds" in r.stdout and "schema ok" in r.stdout
    assert "built-in receiver listening on http://127.0.0.1:" in r.stderr


def test_demo_sends_all_seven_to_the_local_receiver() -> None:
    r = proc("demo", "--seed", "2")
    assert r.code == 0, r.stderr
    for e in EVENTS:
        assert f"<-- POST /hooks  {e.event_type}" in r.stdout
    assert r.stdout.count("schema ok") == 7


def test_demo_json_against_a_server(srv: ScriptedServer) -> None:
    r = cli("demo", "--to", srv.url + "/ok", "--json", "--full")
    assert r.code == 0 and json.loads(r.stdout)["ok"] == 7
    types = [b["event_type"] for b in srv.bodies()]
    assert types == [e.event_type for e in EVENTS]


def test_receive_prints_each_event_and_checks_the_schema(srv: ScriptedServer) -> None:
    receiver, base = start_receiver("--status", "202", "--max-events", "2", "--duration", "30")
    try:
        url = base + "/any/path"
        for _ in range(50):
            if proc("send", "batch-start", "--to", url).code == 0:
                break
            time.sleep(0.1)
        bad = proc("send", "slow-query", "--to", url, "--set", "time_taken=slow")
        assert bad.code == 0  # the receiver answers 202 to everything
        out, errs = receiver.communicate(timeout=30)
    finally:
        receiver.kill()
    assert receiver.returncode == 0, errs
    lines = out.splitlines()
    assert "POST /any/path  aggregate_batch_started" in lines[0] and "schema ok" in lines[0]
    assert "INVALID" in lines[1] and "time_taken" in lines[1]
    assert "answering 202" in errs


def test_receive_port_in_use_is_a_clear_error(srv: ScriptedServer) -> None:
    port = srv.url.rsplit(":", 1)[1]
    r = proc("receive", "--port", port, "--duration", "1")
    assert r.code == 2 and "cannot listen" in r.stderr
    no_traceback(r)
