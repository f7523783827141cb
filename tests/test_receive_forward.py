"""``receive --forward-to`` between a stand-in engine and a FastAPI receiver, and the
spec drift report (at receive's end and as ``drift FILE``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

import atscale_mock as am
from atscale_mock.delivery.signing import Signing, verify
from atscale_mock.events.catalogue import EVENTS
from atscale_mock.receiver.forward import Forward, forwarded_headers
from atscale_mock.receiver.local import Behaviour, Receiver
from tests.asgi_server import Served, uvicorn_app
from tests.cli_helpers import free_port, no_traceback, proc

UNDOCUMENTED = "engine_host"  # the stand-in engine adds this to slow-query
MISSING = "cube_id"  # and leaves this out of batch-start


def stand_in_engine(seed: int) -> list[bytes]:
    """What the stand-in engine sends: every catalogue event, in order, as a real engine
    would put it on the wire, with the two deliberate differences from the docs."""
    bodies = []
    for i, event in enumerate(EVENTS):
        payload = am.payload(event.name, seed=seed + i)
        if event.name == "slow-query":
            payload[UNDOCUMENTED] = "engine-7.internal"
        if event.name == "batch-start":
            del payload[MISSING]
        bodies.append(json.dumps(payload, separators=(",", ":")).encode())
    return bodies


def _listening(p: subprocess.Popen[str]) -> None:
    """Wait for receive's 'listening on' line."""
    assert p.stderr is not None
    line = p.stderr.readline()
    assert "listening on" in line, line


@pytest.mark.dev_tools  # FastAPI
@pytest.mark.parametrize("seed", [1, 2])
def test_forward_between_an_engine_and_a_fastapi_receiver(tmp_path: Path, seed: int) -> None:
    from tests.fastapi_receiver import FastApiReceiver

    receiver = FastApiReceiver()
    with uvicorn_app(receiver.app) as served:
        _forward_between(receiver, served, tmp_path, seed)


def _forward_between(receiver: Any, served: Served, tmp_path: Path, seed: int) -> None:
    target = served.url + "/hooks"
    record = tmp_path / "got.jsonl"
    port = free_port()
    bodies = stand_in_engine(seed)
    proxy = subprocess.Popen(
        [sys.executable, "-m", "atscale_mock", "receive", "--port", str(port),
         "--forward-to", target, "--record", str(record), "--strict",
         "--max-events", str(len(bodies) + 1)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        _listening(proxy)
        url = f"http://127.0.0.1:{port}/engine-hooks"
        statuses = []
        with httpx.Client(timeout=10) as engine:
            for body in bodies:
                r = engine.post(
                    url, content=body, headers={"Content-Type": "application/json", "X-Eng": "1"}
                )
                statuses.append((json.loads(body)["event_type"], r.status_code, r.text))
            served.stop()  # the receiver goes away: the next forward is refused
            last = engine.post(url, content=bodies[0], headers={"Content-Type": "application/json"})
        out, err = proxy.communicate(timeout=30)
    finally:
        proxy.kill()
    # the receiver got every body byte for byte, with the engine's own headers
    assert receiver.bodies == bodies
    assert all(h.get("x-eng") == "1" for h in receiver.headers)
    # the engine got the receiver's answers: its 200s, its 500, and 502 when it was gone
    assert [s for _, s, _ in statuses] == [
        500 if t == "unpublish_schema_success" else 200 for t, _, _ in statuses
    ]
    assert dict((t, body) for t, _, body in statuses)["unpublish_schema_success"] == (
        '{"error": "boom"}'
    )
    assert last.status_code == 502
    assert "could not forward" in last.json()["error"]
    # each line shows both legs: timing and both statuses
    lines = [x for x in out.splitlines() if x.startswith("<--")]
    assert len(lines) == len(bodies) + 1
    assert all("engine -> atscale-mock" in x and " ms -> receiver " in x for x in lines)
    assert "-> receiver 500 in" in "\n".join(lines) and lines[-1].endswith("engine got 502")
    assert "FAILED (connection failed" in lines[-1]
    # the drift report at the end names both differences; --strict exits 1
    assert proxy.returncode == 1, err
    assert f"undocumented {UNDOCUMENTED}" in err and f"missing      {MISSING}" in err
    assert "Traceback" not in out + err
    # every request is in the record, with the forward's outcome
    records = [json.loads(x) for x in record.read_text().splitlines()]
    assert [r["forward"]["status"] for r in records] == [s for _, s, _ in statuses] + [None]
    assert records[-1]["forward"]["error_class"] == "refused" and records[-1]["status"] == 502


def test_drift_command_names_both_differences_and_strict_fails(tmp_path: Path) -> None:
    with (
        (tmp_path / "got.jsonl").open("w") as fh,
        Receiver(behaviour=Behaviour(record=fh)) as r,
        httpx.Client() as engine,
    ):
        for body in stand_in_engine(3):
            engine.post(r.url + "/hooks", content=body)
    plain = proc("drift", str(tmp_path / "got.jsonl"))
    assert plain.code == 0 and "DRIFT" in plain.stdout
    strict = proc("drift", str(tmp_path / "got.jsonl"), "--strict", "--json")
    no_traceback(strict)
    assert strict.code == 1
    report = json.loads(strict.stdout)
    assert report["drift"] is True and report["payloads"] == len(EVENTS)
    found = {
        (event, f["kind"], f["field"])
        for event, data in report["events"].items()
        for f in data["findings"]
    }
    assert found == {
        ("slow_query_event", "undocumented", UNDOCUMENTED),
        ("aggregate_batch_started", "missing", MISSING),
    }
    slow = report["events"]["slow_query_event"]["findings"][0]
    assert slow["count"] == 1 and slow["examples"] == ['"engine-7.internal"']


def test_payloads_as_documented_are_no_drift(tmp_path: Path) -> None:
    report = am.drift([am.payload(e.name, seed=i, full=True) for i, e in enumerate(EVENTS)])
    assert not report.drifted, report.lines()
    assert report.to_json()["events"]["slow_query_event"]["never_seen"] == []
    plain = am.drift([am.payload(e.name, seed=i) for i, e in enumerate(EVENTS)])
    assert not plain.drifted  # fields only the parameter lists name are not drift
    assert "status" in plain.to_json()["events"]["publish_schema_response"]["never_seen"]


@pytest.mark.parametrize(
    ("change", "kind", "detail"),
    [
        (lambda p: p.update(query_id="not-a-uuid"), "format", "not a UUID"),
        (lambda p: p.update(finished_at=p["finished_at"][:-1]), "format", "without Z"),
        (lambda p: p.update(project_id=None), "type", "null where the docs say a value"),
        (lambda p: p.update(time_taken="4.2"), "type", "string where the docs say number"),
    ],
)
def test_drift_names_type_and_format_differences(change: Any, kind: str, detail: str) -> None:
    payload = am.payload("slow-query", seed=5)
    change(payload)
    report = am.drift([payload, am.payload("slow-query", seed=6)])
    (finding,) = report.to_json()["events"]["slow_query_event"]["findings"]
    assert finding["kind"] == kind and detail in finding["detail"] and finding["count"] == 1


def test_a_version_without_an_event_counts_it_as_drift() -> None:
    prune = am.payload("prune-result", seed=1)
    assert not am.drift([prune]).drifted
    old = am.drift([prune], atscale_version="I2022.4.1")
    assert old.drifted and old.to_json()["not_in_version"] == {"aggregate_prune_result": 1}


def test_resign_replaces_the_signature_and_keeps_the_message_id() -> None:
    body = b'{"event_type":"slow_query_event"}'
    theirs = Signing("standard-webhooks", "whsec_" + "b" * 32)
    ours = "whsec_" + "a" * 32
    signed = Signing("standard-webhooks", ours).headers(body, "msg_1")
    out = dict(
        forwarded_headers({**signed, "Host": "x", "Content-Length": "3", "X-A": "1"}, body, theirs)
    )
    assert "Host" not in out and "Content-Length" not in out and out["X-A"] == "1"
    assert out["webhook-id"] == "msg_1" and out["webhook-timestamp"] == signed["webhook-timestamp"]
    assert verify(theirs.secret, out, body) == "valid"
    assert verify(ours, out, body) == "invalid: signature mismatch"


def test_resign_end_to_end_makes_a_signature_the_receiver_accepts(tmp_path: Path) -> None:
    theirs = "whsec_" + "c" * 32
    with (
        Receiver(behaviour=Behaviour(secret=theirs)) as target,
        Receiver(
            behaviour=Behaviour(
                secret="whsec_" + "d" * 32,
                forward=Forward(target.url + "/hooks", resign=Signing("standard-webhooks", theirs)),
            )
        ) as proxy,
    ):
        result = am.send(
            "slow-query", to=proxy.url, sign=am.Signing("standard-webhooks", "whsec_" + "d" * 32)
        )
    assert result.ok
    assert proxy.events[0].signature == "valid" and target.events[0].signature == "valid"


def test_forward_options_that_answer_instead_are_refused() -> None:
    for extra in (["--status", "404"], ["--fail-rate", "0.5"], ["--accept-invalid"]):
        r = proc("receive", "--forward-to", "http://127.0.0.1:9/x", *extra)
        no_traceback(r)
        assert r.code == 2 and "cannot be used with --forward-to" in r.stderr
    r = proc("receive", "--forward-to", "127.0.0.1:9/x")
    assert r.code == 2 and "has no scheme" in r.stderr
    r = proc("receive", "--resign", "k")
    assert r.code == 2 and "--resign needs --forward-to" in r.stderr


def test_drift_prints_hostile_field_names_and_values_escaped(tmp_path: Path) -> None:
    payload = {**am.payload("slow-query", seed=9), "\x1b]8;;x\x07evil": "\u202eabc\x1b[2J"}
    record = tmp_path / "got.jsonl"
    record.write_text(json.dumps({"body": json.dumps(payload)}) + "\n")
    r = proc("drift", str(record))
    assert r.code == 0
    assert "\x1b" not in r.stdout and "\u202e" not in r.stdout
    assert "\\u001b]8;;x" in r.stdout  # shown, escaped


def test_drift_memory_stays_bounded_under_endless_new_names() -> None:
    from atscale_mock.events.drift import MAX_FINDINGS, MAX_UNKNOWN, OTHERS

    report = am.Drift()
    base = am.payload("slow-query", seed=1)
    for i in range(5000):
        report.observe({**base, f"field_{i}": i})
        report.observe({"event_type": f"nope_{i}"})
    data = report.to_json()
    findings = data["events"]["slow_query_event"]["findings"]
    assert len(findings) <= MAX_FINDINGS + 1
    assert sum(f["count"] for f in findings) == 5000  # nothing lost, only grouped
    assert any(f["field"] == OTHERS for f in findings)
    assert len(data["unknown_event_types"]) == MAX_UNKNOWN + 1
    assert data["unknown_event_types"][OTHERS] == 5000 - MAX_UNKNOWN
