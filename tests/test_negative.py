"""Negative tests that mean what they say: a bad signature never verifies, a duplicate
is the same delivery again, a rightly rejected delivery can be the expected result."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import random
from collections import Counter
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from atscale_mock.delivery.signing import Signing
from atscale_mock.events.catalogue import EVENTS
from atscale_mock.events.payload import build_payload, encode

from .cli_helpers import cli, proc, start_receiver
from .httpserver import ScriptedServer

WHSEC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
HMAC_KEY = "s3cr3t-hmac-key"
SEEDS = range(1000)


def _body(seed: int) -> bytes:
    return encode(build_payload(EVENTS[seed % len(EVENTS)], seed))


def _hmac_verifiers(key: str, body: bytes, header: str) -> list[bool]:
    """Every reasonable way to check an hmac-sha256 header: a byte compare, a hex compare
    in either case, and a compare of the decoded digests."""
    digest = hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
    given = header.removeprefix("sha256=")
    try:
        decoded_equal = bytes.fromhex(given) == bytes.fromhex(digest)
    except ValueError:
        decoded_equal = False
    return [
        hmac.compare_digest(header, "sha256=" + digest),
        given.lower() == digest.lower(),
        given.upper() == digest.upper(),
        decoded_equal,
    ]


def test_standard_webhooks_good_verify_and_bad_or_stale_never_do() -> None:
    hook = Webhook(WHSEC)
    good, bad = Signing("standard-webhooks", WHSEC), Signing("standard-webhooks", WHSEC, bad=True)
    stale = Signing("standard-webhooks", WHSEC, stale=3600)
    for seed in SEEDS:
        body = _body(seed)
        msg = f"msg_{seed:032x}"
        hook.verify(body, good.headers(body, msg))  # raises when wrong
        for signer in (bad, stale):
            with pytest.raises(WebhookVerificationError):
                hook.verify(body, signer.headers(body, msg))


def test_hmac_good_verify_every_way_and_bad_never_does() -> None:
    good, bad = Signing("hmac-sha256", HMAC_KEY), Signing("hmac-sha256", HMAC_KEY, bad=True)
    for seed in SEEDS:
        body = _body(seed)
        assert all(_hmac_verifiers(HMAC_KEY, body, good.headers(body)["X-Signature"]))
        assert not any(_hmac_verifiers(HMAC_KEY, body, bad.headers(body)["X-Signature"]))


def test_the_seed_the_issue_found_now_fails_as_asked(srv: ScriptedServer) -> None:
    r = cli(
        "send", "slow-query", "--seed", "5", "--clock", "2024-01-01T00:00:00Z", "--sign",
        "hmac-sha256", "--secret", HMAC_KEY, "--bad-signature", "--expect-status", "401",
        "--to", srv.url + "/ok",
    )  # fmt: skip
    assert r.code == 1  # accepted by a receiver that checks nothing: the test failed
    header = srv.seen[0].headers["X-Signature"]
    assert not any(_hmac_verifiers(HMAC_KEY, srv.seen[0].body, header))


def test_stale_timestamp_is_a_usage_error_with_hmac() -> None:
    r = cli("send", "slow-query", "--to", "local", "--sign", "hmac-sha256", "--secret", "k",
            "--stale-timestamp", "600")  # fmt: skip
    assert r.code == 2 and "needs --sign standard-webhooks" in r.stderr


def test_unpadded_whsec_secrets_are_accepted_like_the_reference() -> None:
    rng = random.Random(1)
    verified = unpadded = 0
    for _ in range(50):
        raw = WHSEC.removeprefix("whsec_")[: rng.randrange(20, 32)]
        raw = raw[: len(raw) - len(raw) % 4 + (2 if len(raw) % 4 == 1 else len(raw) % 4)]
        secret = "whsec_" + raw.rstrip("=")
        try:
            hook = Webhook(secret)
        except Exception:
            continue
        body = _body(rng.randrange(1000))
        hook.verify(body, Signing("standard-webhooks", secret).headers(body, "msg_1"))
        verified += 1
        unpadded += len(raw.rstrip("=")) % 4 != 0
    assert verified >= 25 and unpadded >= 10, (verified, unpadded)  # not all skipped


def test_expected_rejection_passes_and_acceptance_fails(srv: ScriptedServer) -> None:
    receiver, url = start_receiver("--secret", WHSEC, "--duration", "30")
    try:
        args = ["send", "slow-query", "--sign", "standard-webhooks", "--secret", WHSEC,
                "--bad-signature", "--expect-status", "401"]  # fmt: skip
        for _ in range(50):  # the receiver may still be starting
            r = cli(*args, "--to", url + "/hooks")
            if "refused" not in r.stdout:
                break
        assert r.code == 0, r.stdout + r.stderr  # a verifying receiver rightly said 401
        assert r.stdout.startswith("ok ")
        r = cli(*args, "--to", srv.url + "/ok")
        assert r.code == 1 and r.stdout.startswith("ERR")  # accepted: the test failed
        good = cli(*args[:-3], "--to", url + "/hooks")
        assert good.code == 0  # and a good signature gets through
    finally:
        receiver.kill()
        out, _ = receiver.communicate(timeout=10)


def test_receive_counts_signatures_and_can_accept_invalid() -> None:
    receiver, url = start_receiver("--secret", WHSEC, "--max-events", "3", "--duration", "30")
    sign = ["--sign", "standard-webhooks", "--secret", WHSEC]
    try:
        for args in (sign, [*sign, "--bad-signature"], []):
            for _ in range(50):
                r = cli("send", "unpublish", "--to", url, "--json", *args)
                if json.loads(r.stdout)["statuses"]:
                    break
        out, err = receiver.communicate(timeout=20)
    finally:
        receiver.kill()
    assert "signatures: 1 valid, 1 invalid, 1 unsigned" in err
    assert out.count("answered 401") == 2


def _dedup(seen: list) -> int:
    """What a receiver that deduplicates by webhook-id counts as duplicates."""
    ids = Counter(s.headers["webhook-id"] for s in seen)
    return sum(n - 1 for n in ids.values())


SIGN = ["--sign", "standard-webhooks", "--secret", WHSEC]


def test_duplicates_are_counted_by_a_deduplicating_receiver(
    srv: ScriptedServer, tmp_path: Path
) -> None:
    r = cli("send", "batch-start", "-n", "40", "--duplicates", "0.3", "--reorder", "4",
            "--malformed", "wrong-type", "--malformed-rate", "0.3", "--seed", "2",
            "--to", srv.url + "/ok", "--json", *SIGN)  # fmt: skip
    sent = json.loads(r.stdout)["duplicates"]
    assert sent > 0 and _dedup(srv.seen) == sent
    by_id: dict[str, set[bytes]] = {}
    for s in srv.seen:
        by_id.setdefault(s.headers["webhook-id"], set()).add(s.body)
    assert all(len(bodies) == 1 for bodies in by_id.values())  # same id, same bytes
    srv.clear()
    path = tmp_path / "d.yaml"
    path.write_text(f"""version: 1
defaults: {{to: "{srv.url}/ok", seed: 3}}
steps:
  - id: s
    event: slow-query
    repeat: {{count: 30, every: 1ms}}
""")
    r = cli("run", str(path), "--duplicates", "0.3", "--json", *SIGN)
    data = json.loads(r.stdout)
    assert r.code == 0 and data["duplicates"] > 0
    assert _dedup(srv.seen) == data["duplicates"]
    assert data["passed"] == data["sent"] == 30 and data["planned"] == 30
    srv.clear()
    r = cli("load", "--to", srv.url + "/ok", "--rate", "60", "-d", "1s", "-q", "--json",
            "--duplicates", "0.3", *SIGN)  # fmt: skip
    data = json.loads(r.stdout)
    assert data["faults"]["duplicate"] > 0 and _dedup(srv.seen) == data["faults"]["duplicate"]


def test_demo_tells_the_truth() -> None:
    r = proc("demo", "--seed", "4")
    assert r.code == 0
    assert "OUT OF ORDER" not in r.stdout and "DUPLICATE" not in r.stdout
    assert "INVALID" not in r.stdout and "warning" not in r.stderr.lower()


def test_an_exported_secret_does_not_break_unsigned_sends() -> None:
    env = {**os.environ, "ATSCALE_MOCK_SECRET": WHSEC}
    assert proc("send", "slow-query", "--to", "local", env=env).code == 0
    signed = proc("send", "slow-query", "--to", "local", "--sign", "standard-webhooks", env=env)
    assert signed.code == 0 and "signature" not in signed.stderr


def test_a_bad_step_between_good_ones(tmp_path: Path) -> None:
    """Signing and faults per step: a rejected step can be the expected result, and
    counts in text, JSON and JUnit agree."""
    from atscale_mock.receiver.local import Behaviour, Receiver

    with Receiver(behaviour=Behaviour(secret=WHSEC)) as receiver:
        path = tmp_path / "neg.yaml"
        path.write_text(f"""version: 1
name: negative
defaults: {{to: "{receiver.url}/hooks", seed: 5}}
steps:
  - id: good
    event: batch-start
  - id: forged
    event: batch-result
    bad_signature: true
    expect: {{status: 401}}
  - id: replayed-late
    event: slow-query
    stale_timestamp: 10m
    expect: {{status: 401}}
  - id: unsigned
    event: prune-result
    sign: false
    expect: {{status: 401}}
  - id: twice
    event: unpublish
    duplicates: 1
    repeat: {{count: 2}}
  - id: good-again
    event: slow-query
""")
        junit, report = tmp_path / "j.xml", tmp_path / "r.json"
        r = cli("run", str(path), "--json", "--junit", str(junit), "--report", str(report),
                *SIGN)  # fmt: skip
        assert r.code == 0, r.stdout + r.stderr
        data = json.loads(r.stdout)
        assert (data["planned"], data["sent"], data["passed"], data["failed"]) == (7, 7, 7, 0)
        assert data["duplicates"] == 2 and data["attempts"] == 9
        statuses = [g.answered for g in receiver.events]
        assert statuses.count(401) == 3 and statuses.count(200) == 6
        import xml.etree.ElementTree as ET

        suite = ET.parse(junit).getroot()
        assert suite.get("failures") == "0" and suite.get("tests") == "9"
        assert json.loads(report.read_text())["failed"] == 0
    r = cli("run", str(path), "--to", "local")
    assert r.code == 2 and "need signing" in r.stderr  # a forged step needs --sign


def test_reorder_moves_deliveries_across_steps(tmp_path: Path) -> None:
    """--reorder reaches across steps: a batch result can arrive before its start, and
    still names that start's batch (payloads are built in planned order)."""
    from atscale_mock.receiver.local import Receiver

    crossed = 0
    for seed in range(12):
        with Receiver() as receiver:
            r = cli("run", "scenarios/batch-lifecycle.yaml", "--to", receiver.url + "/h",
                    "--seed", str(seed), "--reorder", "4", "--time-scale", "1000")  # fmt: skip
            assert r.code == 0, r.stdout + r.stderr
            got = receiver.events
        starts = {g.payload["id"] for g in got if g.event_type == "aggregate_batch_started"}
        results = [g for g in got if g.event_type == "aggregate_batch_result"]
        assert results and all(g.payload["id"] in starts for g in results)
        crossed += any(g.order == "before its batch start" for g in results)
    assert crossed > 0
