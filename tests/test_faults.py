"""Delivery realism: faults, signing, retry schedules, replay and the receiver's checks."""

from __future__ import annotations

import asyncio
import json
import random
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from atscale_mock.delivery.faults import MALFORMED_KINDS, Faults, arrange, malform
from atscale_mock.delivery.retry import Retry, deliver
from atscale_mock.delivery.signing import Signing, verify
from atscale_mock.delivery.transport import Outcome, Request
from atscale_mock.errors import UsageError
from atscale_mock.receiver.local import Behaviour, Receiver
from atscale_mock.testing import FakeSender

from .cli_helpers import cli, start_receiver
from .httpserver import ScriptedServer

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
BODY = b'{"event_type":"slow_query_event","query_id":"x"}'


# -- arrange and malform (pure) -------------------------------------------------------


def test_duplicates_repeat_the_same_delivery() -> None:
    slots = list(arrange(200, Faults(duplicates=0.5), random.Random(1)))
    dups = [s for s in slots if s.duplicate]
    assert 60 < len(dups) < 140 and len(slots) == 200 + len(dups)
    for s in dups:
        assert s.labels == (f"duplicate of #{s.index + 1}",)


def test_reorder_shuffles_within_windows_only() -> None:
    slots = list(arrange(40, Faults(reorder=5), random.Random(2)))
    order = [s.index for s in slots]
    assert sorted(order) == list(range(40)) and order != list(range(40))
    for w in range(0, 40, 5):
        assert sorted(order[w : w + 5]) == list(range(w, w + 5))
    assert any(label.startswith("reordered") for s in slots for label in s.labels)


def test_drop_delay_and_seeding() -> None:
    faults = Faults(drop=0.3, delay=0.1, jitter=0.05)
    slots = list(arrange(100, faults, random.Random(3)))
    assert 15 < sum(s.dropped for s in slots) < 45
    assert all(0.1 <= s.delay <= 0.15 for s in slots)
    assert slots == list(arrange(100, faults, random.Random(3)))


@pytest.mark.parametrize("kind", MALFORMED_KINDS)
def test_every_malformed_kind(kind: str) -> None:
    body, headers, label = malform(
        kind, BODY, {"Content-Type": "application/json"}, random.Random(1)
    )
    assert label.startswith("malformed:")
    if kind == "invalid-json":
        with pytest.raises(ValueError):
            json.loads(body)
    elif kind == "wrong-content-type":
        assert headers["Content-Type"] == "text/plain" and body == BODY
    elif kind == "empty":
        assert body == b""
    elif kind == "oversized":
        assert len(body) > 2 * 1024 * 1024
    elif kind == "missing-field":
        assert len(json.loads(body)) == 1
    else:
        changed = json.loads(body)
        assert changed != json.loads(BODY) and set(changed) == {"event_type", "query_id"}


def test_bad_fault_values_are_usage_errors() -> None:
    with pytest.raises(UsageError):
        Faults(duplicates=2)
    with pytest.raises(UsageError):
        Faults(malformed="sideways")


# -- signing --------------------------------------------------------------------------


def test_standard_webhooks_signature_verifies_with_the_reference() -> None:
    headers = Signing("standard-webhooks", SECRET).headers(BODY)
    assert Webhook(SECRET).verify(BODY, headers) == json.loads(BODY)
    assert verify(SECRET, headers, BODY) == "valid"


def test_bad_and_stale_signatures_fail_the_reference() -> None:
    bad = Signing("standard-webhooks", SECRET, bad=True).headers(BODY)
    stale = Signing("standard-webhooks", SECRET, stale=3600).headers(BODY)
    for headers in (bad, stale):
        with pytest.raises(WebhookVerificationError):
            Webhook(SECRET).verify(BODY, headers)
        assert verify(SECRET, headers, BODY).startswith("invalid")


def test_hmac_signature() -> None:
    import hashlib
    import hmac

    headers = Signing("hmac-sha256", "s3cret", header="X-Sig").headers(BODY)
    assert headers == {"X-Sig": "sha256=" + hmac.new(b"s3cret", BODY, hashlib.sha256).hexdigest()}
    assert verify("s3cret", headers, BODY, hmac_header="X-Sig") == "valid"
    bad = Signing("hmac-sha256", "s3cret", header="X-Sig", bad=True).headers(BODY)
    assert verify("s3cret", bad, BODY, hmac_header="X-Sig") == "invalid: signature mismatch"


def test_signer_checks_its_inputs() -> None:
    with pytest.raises(UsageError):
        Signing("rot13", "x")
    with pytest.raises(UsageError):
        Signing("standard-webhooks", "not base64 !!")


# -- retry schedules ------------------------------------------------------------------


def run_with(policy: Retry, outcomes: list[Outcome]) -> tuple[int, list[float]]:
    waits: list[float] = []

    async def sleep(s: float) -> None:
        waits.append(s)

    fake = FakeSender(outcomes)
    asyncio.run(deliver(fake, Request("x", "http://127.0.0.1/", b"{}"), policy, sleep=sleep))
    return len(fake.requests), waits


def test_fixed_schedule_with_time_scale() -> None:
    policy = Retry(schedule=(5.0, 300.0, 1800.0, 7200.0), time_scale=3600)
    sent, waits = run_with(policy, [Outcome(503, 0.0)] * 10)
    assert sent == 5 and waits == [5 / 3600, 300 / 3600, 0.5, 2.0]


def test_schedule_honours_retry_after_and_stops_on_410() -> None:
    policy = Retry(schedule=(1.0, 1.0, 1.0))
    sent, waits = run_with(policy, [Outcome(429, 0.0, retry_after="30"), Outcome(410, 0.0)])
    assert sent == 2 and waits == [30.0]


# -- end to end -----------------------------------------------------------------------


def test_send_with_faults_and_signature(srv: ScriptedServer, tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    r = cli(
        "send",
        "batch-start",
        "-n",
        "12",
        "--seed",
        "5",
        "--duplicates",
        "0.5",
        "--drop",
        "0.2",
        "--sign",
        "standard-webhooks",
        "--secret",
        SECRET,
        "--to",
        srv.url + "/ok",
        "--log",
        str(log),
        "--json",
    )
    assert r.code == 0, r.stderr
    summary = json.loads(r.stdout)
    records = [json.loads(x) for x in log.read_text().splitlines()]
    dropped = [x for x in records if x["error_class"] == "dropped"]
    assert summary["dropped"] == len(dropped) > 0
    assert len(srv.seen) == summary["deliveries"] == len(records) - len(dropped)
    bodies = [s.body for s in srv.seen]
    assert len(set(bodies)) < len(bodies)  # duplicates: the same bytes, the same id
    for seen in srv.seen:
        Webhook(SECRET).verify(seen.body, {k.lower(): v for k, v in seen.headers.items()})
    assert all(x["faults"] for x in records if x["error_class"] == "dropped")
    assert SECRET not in log.read_text() + r.stdout + r.stderr
    assert SECRET.removeprefix("whsec_") not in log.read_text()


@pytest.mark.parametrize("kind", MALFORMED_KINDS)
def test_send_malformed_reaches_the_receiver(srv: ScriptedServer, kind: str) -> None:
    r = cli("send", "slow-query", "--malformed", kind, "--to", srv.url + "/ok")
    assert r.code == 0 and "malformed" in r.stdout
    (seen,) = srv.seen
    if kind == "empty":
        assert seen.body == b""
    elif kind == "wrong-content-type":
        assert seen.headers["Content-Type"] == "text/plain"
    elif kind == "invalid-json":
        with pytest.raises(ValueError):
            json.loads(seen.body)


def test_send_reorder_changes_the_arrival_order(srv: ScriptedServer) -> None:
    assert (
        cli(
            "send",
            "batch-start",
            "-n",
            "10",
            "--reorder",
            "5",
            "--seed",
            "1",
            "--to",
            srv.url + "/ok",
            "--clock",
            "2024-01-01T00:00:00Z",
        ).code
        == 0
    )
    order = [b["id"] for b in srv.bodies()]
    natural = [json.loads(cli("show", "batch-start", "--seed", "1").stdout)["id"]]
    assert len(order) == 10 and len(set(order)) == 10
    assert natural  # the ids are seeded; the arrival order is shuffled in windows of 5
    again = [b["id"] for b in srv.bodies()]
    assert again == order


def test_send_delay_waits(srv: ScriptedServer) -> None:
    start = time.monotonic()
    assert cli("send", "unpublish", "-n", "2", "--delay", "0.3", "--to", srv.url + "/ok").code == 0
    assert time.monotonic() - start >= 0.6


def test_retry_schedule_end_to_end(srv: ScriptedServer) -> None:
    r = cli(
        "send",
        "prune-result",
        "--retry-schedule",
        "2s,2s",
        "--retry-time-scale",
        "100",
        "--to",
        srv.url + "/flaky/2/x",
        "--json",
    )
    assert r.code == 0 and json.loads(r.stdout)["attempts"] == 3


def test_replay_from_log_is_byte_for_byte(srv: ScriptedServer, tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    assert (
        cli(
            "send",
            "slow-agg-build",
            "-n",
            "3",
            "--malformed",
            "invalid-json",
            "--to",
            srv.url + "/status/500",
            "--log",
            str(log),
        ).code
        == 1
    )
    original = [s.body for s in srv.seen]
    srv.clear()
    r = cli("replay", str(log), "--to", srv.url + "/ok", "--only-failed")
    assert r.code == 0, r.stderr
    assert [s.body for s in srv.seen] == original


def test_replay_from_receive_record(srv: ScriptedServer, tmp_path: Path) -> None:
    record = tmp_path / "got.jsonl"
    with record.open("a") as fh, Receiver(behaviour=Behaviour(record=fh)) as receiver:
        assert cli("send", "batch-result", "-n", "2", "--to", receiver.url + "/in").code == 0
    sent = [g.body for g in receiver.received]
    r = cli("replay", str(record), "--to", srv.url + "/ok", "--keep-timing")
    assert r.code == 0 and [s.body for s in srv.seen] == sent


def test_replay_rejects_other_files(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"nothing": 1}\n')
    r = cli("replay", str(path), "--to", "local")
    assert r.code == 2 and "no body to replay" in r.stderr


def test_receiver_checks_signatures_duplicates_and_order() -> None:
    got = []
    behaviour = Behaviour(secret=SECRET, fail_rate=0.5, seed=3)
    with Receiver(on_request=got.append, behaviour=behaviour) as receiver:
        url = receiver.url + "/h"
        assert cli(
            "send",
            "batch-result",
            "--seed",
            "1",
            "--sign",
            "standard-webhooks",
            "--secret",
            SECRET,
            "--duplicates",
            "1",
            "--to",
            url,
        ).code in (0, 1)
        cli(
            "send",
            "batch-start",
            "--sign",
            "standard-webhooks",
            "--secret",
            SECRET,
            "--bad-signature",
            "--to",
            url,
        )
    assert got[0].order == "before its batch start" and got[1].duplicate
    assert got[0].signature == "valid" and got[-1].signature == "invalid: signature mismatch"
    assert {g.answered for g in got[:-1]} <= {200, 500}
    assert got[-1].answered == 401  # a bad signature is rejected, as a verifier would
    assert receiver.tracker.summary()["results_without_start"] == 1


def test_receive_cli_fail_rate_and_delay(tmp_path: Path) -> None:
    proc, base = start_receiver(
        "--fail-rate", "1", "--delay", "0.2", "--max-events", "1", "--duration", "20"
    )
    try:
        for _ in range(50):
            r = cli("send", "unpublish", "--to", base + "/x", "--json")
            if json.loads(r.stdout)["statuses"]:
                break
            time.sleep(0.1)
        data = json.loads(r.stdout)
        assert data["statuses"] == {"500": 1} and data["latency_ms"]["p50"] >= 200
        out, _ = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert "answered 500" in out


def test_scenario_faults_are_labelled_in_junit(srv: ScriptedServer, tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text(f"""version: 1
defaults: {{to: "{srv.url}/ok", seed: 4}}
faults: {{duplicates: 0.5, drop: 0.3, malformed: wrong-type, malformed_rate: 0.3}}
steps:
  - id: q
    event: slow-query
    repeat: {{count: 10}}
""")
    junit, report = tmp_path / "j.xml", tmp_path / "r.json"
    r = cli("run", str(path), "--junit", str(junit), "--report", str(report))
    assert r.code == 0, r.stdout + r.stderr
    cases = list(ET.parse(junit).getroot().iter("testcase"))
    assert any(c.find("skipped") is not None for c in cases)
    assert any("duplicate of" in (c.get("name") or "") for c in cases)
    data = json.loads(report.read_text())
    assert any(d["dropped"] for d in data["results"])
    assert len(srv.seen) == sum(not d["dropped"] for d in data["results"])


def test_hmac_signing_end_to_end_with_the_receiver() -> None:
    got = []
    behaviour = Behaviour(secret="s3cret", signature_header="X-Hook-Signature")
    with Receiver(on_request=got.append, behaviour=behaviour) as receiver:
        for extra in ([], ["--bad-signature", "--expect-status", "401"]):
            assert (
                cli(
                    "send",
                    "prune-result",
                    "--sign",
                    "hmac-sha256",
                    "--secret",
                    "s3cret",
                    "--signature-header",
                    "X-Hook-Signature",
                    *extra,
                    "--to",
                    receiver.url + "/h",
                ).code
                == 0
            )
        assert cli("send", "prune-result", "--to", receiver.url + "/h").code == 1  # 401
    assert [g.signature for g in got] == ["valid", "invalid: signature mismatch", "unsigned"]
    assert [g.answered for g in got] == [200, 401, 401]
    assert got[0].headers["X-Hook-Signature"].startswith("sha256=")


def test_arrange_streams_and_pairs_across_windows() -> None:
    """Sends are made as they are taken (a trillion deliveries cost nothing up front),
    and a duplicate split from its original by a reorder window is still a pair."""
    first = next(arrange(10**12, Faults(duplicates=0.5, reorder=4), random.Random(5)))
    assert first.index in range(4)
    slots = list(arrange(300, Faults(duplicates=0.5, reorder=4), random.Random(6)))
    by_index: dict[int, list[bool]] = {}
    for s in slots:
        by_index.setdefault(s.index, []).append(s.paired)
    for flags in by_index.values():
        assert flags in ([False], [True, True])
    assert sum(len(f) == 2 for f in by_index.values()) > 100
