"""One Delivery record, the same on every way in: send, run, replay, adeliver, check and
load each deliver with its headers and signing; keyword shortcuts win over it; a field a
function cannot honour is refused by name."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

import atscale_mock as am
from atscale_mock.receiver.local import Behaviour, Receiver

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
RECORD = am.Delivery(
    headers={"X-Tenant": "t1"},
    sign=am.Signing("standard-webhooks", SECRET),
    timeout=5,
)


WAYS = ("send", "run", "replay", "adeliver", "check", "load")


def _every_way_in(url: str, tmp_path: Path) -> None:
    """Each way in delivers to its own path, with the one record."""
    log = tmp_path / "sent.jsonl"
    am.send("slow-query", to=url + "/send", delivery=RECORD)
    scenario = "version: 1\nname: d\nsteps:\n  - event: batch-start\n"
    am.run(scenario, to=url + "/run", delivery=RECORD)
    unsigned = am.send("unpublish", to=url + "/plain", seed=1)
    assert unsigned.deliveries[0].status == 401  # the receiver verifies: signing matters
    body = '{"event_type": "unpublish_schema_success"}'
    log.write_text(json.dumps({"event": "unpublish", "body": body}) + "\n")
    am.replay(log, to=url + "/replay", delivery=RECORD)
    payload = am.payload("schema-publish", seed=2)
    asyncio.run(am.adeliver("schema-publish", payload, to=url + "/adeliver", delivery=RECORD))
    am.check(url + "/check", delivery=RECORD, only=["events"])
    am.load(to=url + "/load", rate=20, duration=0.3, delivery=RECORD)


def test_the_record_means_the_same_on_every_way_in(tmp_path: Path) -> None:
    with Receiver(behaviour=Behaviour(secret=SECRET)) as r:
        _every_way_in(r.url + "/hooks", tmp_path)
        got = r.events
    for way in WAYS:
        arrived = [g for g in got if g.path == "/hooks/" + way]
        assert arrived, way
        assert all(g.headers.get("X-Tenant") == "t1" for g in arrived), way
        assert all(g.signature == "valid" for g in arrived), way
    (plain,) = [g for g in got if g.path == "/hooks/plain"]
    assert plain.signature == "unsigned" and "X-Tenant" not in plain.headers


def test_a_shortcut_wins_over_the_record() -> None:
    with Receiver() as r:
        am.send(
            "slow-query",
            to=r.url,
            delivery=am.Delivery(headers={"X-A": "record", "X-B": "b"}),
            headers={"X-A": "keyword"},
        )
        (got,) = r.events
    assert got.headers["X-A"] == "keyword" and got.headers["X-B"] == "b"


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: am.check("local", delivery=am.Delivery(retry=am.Retry(2))), "retry"),
        (
            lambda: am.check("local", delivery=am.Delivery(faults=am.Faults(duplicates=1))),
            "faults",
        ),
        (lambda: am.load(to="local", duration=0.2, delivery=am.Delivery(max_in_flight=3)), None),
    ],
)
def test_a_field_a_function_cannot_honour_is_refused_by_name(call: object, field: str) -> None:
    with pytest.raises(am.UsageError) as refused:
        call()  # type: ignore[operator]
    name = field or "max_in_flight"
    assert refused.value.message.startswith(f"delivery.{name}:")


def test_the_record_validates_and_hides_header_values() -> None:
    with pytest.raises(am.UsageError, match="timeout must be a positive"):
        am.Delivery(timeout=0)
    with pytest.raises(am.UsageError, match="max_in_flight must be at least 1"):
        am.Delivery(max_in_flight=0)
    shown = repr(am.Delivery(headers={"Authorization": "Bearer s3cret"}))
    assert "Authorization" in shown and "s3cret" not in shown
