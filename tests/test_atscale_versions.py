"""``--atscale-version``: each documented AtScale version's engine event catalogue
(I2022.4.1: six events, no prune-result; I2023.4.1 and later: seven)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import atscale_mock as am
from atscale_mock import EngineServer
from atscale_mock.events.versions import catalogue
from atscale_mock.receiver.local import Behaviour, Receiver
from tests.cli_helpers import cli, no_traceback, proc

SIX = {"batch-start", "batch-result", "schema-publish", "slow-query", "slow-agg-build", "unpublish"}


def test_send_refuses_an_event_the_version_does_not_have() -> None:
    r = proc("send", "prune-result", "--atscale-version", "I2022.4.1", "--to", "local")
    no_traceback(r)
    assert r.code == 2
    assert "not in AtScale I2022.4.1's catalogue" in r.stderr
    assert "versions that have it: I2023.4.1, I2024.1.x, I2024.2.1 and later" in r.stderr
    assert "seed:" not in r.stderr  # refused before anything is made or sent
    ok = proc("send", "prune-result", "--atscale-version", "I2024.2.1", "--to", "local", "-q")
    assert ok.code == 0, ok.stderr


@pytest.mark.parametrize(("version", "sends_prune"), [("I2022.4.1", False), ("I2023.4.1", True)])
def test_check_sends_only_the_versions_events(version: str, sends_prune: bool) -> None:
    with Receiver() as r:
        done = cli("check", "--to", r.url + "/hooks", "--atscale-version", version, "--json")
        kinds = {e.event for e in r.events if e.event}
    assert done.code == 0, done.stderr
    assert ("prune-result" in kinds) is sends_prune
    assert kinds >= SIX


def test_events_lists_a_versions_catalogue() -> None:
    six = json.loads(cli("events", "--atscale-version", "I2022.4.1", "--json").stdout)
    assert {e["name"] for e in six} == SIX
    later = json.loads(cli("events", "--atscale-version", "I2025.1.0", "--json").stdout)
    assert len(later) == 7
    assert len(json.loads(cli("events", "--json").stdout)) == 7


@pytest.mark.parametrize(
    ("version", "says"),
    [
        ("I2022.3.0", "four engine events but not which four (not stated)"),
        ("I2023.1.0", "is not stated in the documentation"),
        ("2024.1", "is not an AtScale version"),
    ],
)
def test_a_version_without_a_documented_catalogue_is_refused(version: str, says: str) -> None:
    r = proc("events", "--atscale-version", version)
    no_traceback(r)
    assert r.code == 2 and says in r.stderr and "--atscale-version" in r.stderr
    assert "I2022.4.1" in r.stderr  # the documented ones are named


def test_a_scenarios_defaults_name_its_version(tmp_path: Path) -> None:
    f = tmp_path / "old.yaml"
    f.write_text(
        "version: 1\nname: old\ndefaults: {atscale_version: I2022.4.1}\n"
        "steps:\n  - id: a\n    event: batch-start\n  - id: p\n    event: prune-result\n"
    )
    r = proc("validate", str(f))
    assert r.code == 2 and f"{f}:8:12" in r.stderr and "not in AtScale I2022.4.1" in r.stderr
    r = proc("run", "scenarios/all-events.yaml", "--atscale-version", "I2022.4.1", "--to", "local")
    no_traceback(r)
    assert r.code == 2 and "step 'prune'" in r.stderr


def test_an_older_engine_simulation_sends_no_prune_results() -> None:
    latest = am.plan("scenarios/engine-day.yaml", seed=1)
    old = am.plan("scenarios/engine-day.yaml", seed=1, atscale_version="I2022.4.1")
    assert "prune-result" in {d["event"] for d in latest["deliveries"]}
    assert {d["event"] for d in old["deliveries"]} <= SIX
    assert len(old["deliveries"]) == len(latest["deliveries"]) - sum(
        d["event"] == "prune-result" for d in latest["deliveries"]
    )


def test_receive_judges_by_the_version() -> None:
    with Receiver(behaviour=Behaviour(atscale_version="I2022.4.1")) as r:
        am.send("prune-result", to=r.url)
        am.send("batch-start", to=r.url)
        prune, start = r.events
    assert not prune.valid and "not in AtScale I2022.4.1" in prune.problems[0]
    assert start.valid


def test_the_library_takes_the_version_too() -> None:
    with pytest.raises(am.UsageError, match="not in AtScale I2022.4.1") as refused:
        am.payload("prune-result", atscale_version="I2022.4.1")
    assert refused.value.hint.startswith("versions that have it: I2023.4.1")
    assert am.demo(atscale_version="I2022.4.1").summary["deliveries"] == 6
    assert catalogue("latest").names == catalogue(None).names
    assert len(catalogue("i2024.2.1").events) == 7  # as a user may type it


def test_serve_refuses_to_trigger_an_event_its_version_lacks() -> None:
    import httpx

    with EngineServer(atscale_version="I2022.4.1") as engine, Receiver() as r:
        httpx.post(engine.url + "/_mock/webhooks", json={"url": r.url + "/hooks"})
        refused = httpx.post(engine.url + "/_mock/events/prune-result", json={})
        sent = httpx.post(engine.url + "/_mock/events/batch-start", json={})
        r.wait_for("batch-start")
        listed = httpx.get(engine.url + "/_mock/events").json()
        posted = httpx.post(
            engine.url + "/_mock/scenarios",
            json={"scenario": "version: 1\nname: p\nsteps:\n  - event: prune-result\n"},
        )
        card = httpx.post(
            engine.url + "/_mock/checks",
            json={"url": r.url + "/checked", "only": ["events", "spec-examples"]},
            timeout=60,
        )
    assert refused.status_code == 422 and "I2022.4.1" in refused.text
    assert sent.status_code == 202
    assert [e.event for e in r.events if e.path == "/hooks"] == ["batch-start"]
    assert listed["atscale_version"] == "I2022.4.1"
    assert {e["name"] for e in listed["events"]} == SIX
    assert posted.status_code in (400, 422) and "prune-result" in posted.text
    assert card.status_code == 200
    checked = {e.event for e in r.events if e.path == "/checked"}
    assert checked == SIX


def test_load_keeps_the_default_mix_to_the_versions_events() -> None:
    result = am.load(to="local", duration=0.3, atscale_version="I2022.4.1")
    assert set(result.summary["mix"]) == SIX
    assert {e["event"] for e in result.summary["events"]} <= SIX
    with pytest.raises(am.UsageError, match="not in AtScale I2022.4.1"):
        am.load(to="local", duration=0.3, mix={"prune-result": 1}, atscale_version="I2022.4.1")


def test_validate_judges_every_file_by_the_version() -> None:
    r = proc(
        "validate", "scenarios/all-events.yaml", "scenarios/batch-lifecycle.yaml",
        "--atscale-version", "I2022.4.1",
    )  # fmt: skip
    no_traceback(r)
    assert r.code == 2
    assert "step 'prune'" in r.stderr and "ok: scenarios/batch-lifecycle.yaml" in r.stderr
    assert "1 of 2 file(s) invalid" in r.stderr
