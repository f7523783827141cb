"""``scenario from-recording``: a recording of a simulated engine-day becomes a scenario
that validates and replays the same events, in order, results paired, ids fresh."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

import atscale_mock as am
from atscale_mock.receiver.local import Behaviour, Receiver
from tests.cli_helpers import no_traceback, proc

FRESH = ("id", "query_id", "instance_id")


def _record_engine_day(tmp_path: Path) -> tuple[Path, list[dict[str, Any]]]:
    record = tmp_path / "got.jsonl"
    with record.open("w") as fh, Receiver(behaviour=Behaviour(record=fh)) as r:
        result = am.run("scenarios/engine-day.yaml", to=r.url + "/hooks", time_scale=86400)
        assert result.ok
        got = [e.payload for e in r.events]
    return record, got


def _replay(scenario: Path) -> list[dict[str, Any]]:
    with Receiver() as r:
        done = proc("run", str(scenario), "--to", r.url + "/hooks", "-q", timeout=120)
        no_traceback(done)
        assert done.code == 0, done.stderr
        return [e.payload for e in r.events]


def _ids(payloads: list[dict[str, Any]]) -> set[str]:
    return {p[k] for p in payloads for k in FRESH if isinstance(p.get(k), str)}


def _assert_paired(payloads: list[dict[str, Any]]) -> int:
    """Every batch-result and prune-result names a batch a batch-start began before it
    (same id and project); the number of results checked."""
    started: dict[str, str] = {}
    checked = 0
    for p in payloads:
        kind = p["event_type"]
        if kind == "aggregate_batch_started":
            started[p["id"]] = p["context"]["project_id"]
        elif kind in ("aggregate_batch_result", "aggregate_prune_result"):
            assert started.get(p["id"]) == p["context"]["project_id"], p
            checked += 1
    return checked


def test_an_engine_day_recording_replays_in_order_paired_and_fresh(tmp_path: Path) -> None:
    record, recorded = _record_engine_day(tmp_path)
    assert len(recorded) > 50
    scenario = tmp_path / "replay.yaml"
    made = proc("scenario", "from-recording", str(record), "-o", str(scenario))
    no_traceback(made)
    assert made.code == 0, made.stderr
    assert f"{len(recorded)} steps" in made.stderr
    valid = proc("validate", str(scenario))
    assert valid.code == 0, valid.stderr
    first, second = _replay(scenario), _replay(scenario)
    kinds = [p["event_type"] for p in recorded]
    assert [p["event_type"] for p in first] == kinds
    assert [p["event_type"] for p in second] == kinds
    assert _assert_paired(first) > 0 and _assert_paired(second) > 0
    # ids made per run: no collision between the two runs, nor with the recording
    assert _ids(first) and not _ids(first) & _ids(second)
    assert not _ids(first) & _ids(recorded)
    # the recorded values (not ids) come back as recorded
    assert [p.get("time_taken") for p in first] == [p.get("time_taken") for p in recorded]
    assert [p.get("project_id") or p.get("context", {}).get("project_id") for p in first] == [
        p.get("project_id") or p.get("context", {}).get("project_id") for p in recorded
    ]


def test_the_scenario_keeps_the_recorded_offsets(tmp_path: Path) -> None:
    record = tmp_path / "got.jsonl"
    times = ["2024-03-04T00:00:00+00:00", "2024-03-04T00:00:00.250000+00:00",
             "2024-03-04T00:01:40+00:00"]  # fmt: skip
    start = am.payload("batch-start", seed=1)
    lines = [
        {"time": times[0], "body": json.dumps(start)},
        {"time": times[1], "body": json.dumps({**am.payload("slow-query", seed=2), "x": 1})},
        {"time": times[2], "body": json.dumps(
            {**am.payload("batch-result", seed=3), "id": start["id"]})},
    ]  # fmt: skip
    record.write_text("".join(json.dumps(x) + "\n" for x in lines))
    out = tmp_path / "s.yaml"
    made = proc("scenario", "from-recording", str(record), "-o", str(out))
    assert made.code == 0
    assert "the catalogue does not name: x" in made.stderr  # said, and in the header
    doc = yaml.safe_load(out.read_text())
    assert "not replayed: slow_query_event" in out.read_text()
    assert [s["at"] for s in doc["steps"]] == ["0ms", "250ms", "100000ms"]
    assert doc["time_scale"] == 50  # 100 s compressed to 2
    assert doc["steps"][2]["set"]["id"] == "${steps.batch-start-1.payload.id}"
    assert "id" not in doc["steps"][0].get("set", {})
    kept = proc("scenario", "from-recording", str(record), "-o", str(out), "--keep-timing")
    assert kept.code == 2 and "exists" in kept.stderr and "--force" in kept.stderr
    kept = proc(
        "scenario", "from-recording", str(record), "-o", str(out), "--keep-timing", "--force"
    )
    assert kept.code == 0 and "time_scale" not in yaml.safe_load(out.read_text())
    plan = am.plan(out, seed=1)
    assert [d["event"] for d in plan["deliveries"]] == ["batch-start", "slow-query", "batch-result"]


@pytest.mark.parametrize(
    "content",
    ["", '{"time": "x", "body": "not json"}\n', '{"body": "{\\"event_type\\": \\"nope\\"}"}\n'],
)
def test_a_recording_without_engine_events_is_a_clear_error(tmp_path: Path, content: str) -> None:
    record = tmp_path / "got.jsonl"
    record.write_text(content)
    r = proc("scenario", "from-recording", str(record), "-o", str(tmp_path / "s.yaml"))
    no_traceback(r)
    assert r.code == 2 and "no engine event" in r.stderr
    assert not (tmp_path / "s.yaml").exists()


def test_a_recorded_value_that_looks_like_a_reference_stays_data(tmp_path: Path) -> None:
    record = tmp_path / "got.jsonl"
    body = {**am.payload("slow-agg-build", seed=1, full=True), "message": "${env:HOME}"}
    record.write_text(json.dumps({"body": json.dumps(body)}) + "\n")
    out = tmp_path / "s.yaml"
    assert proc("scenario", "from-recording", str(record), "-o", str(out)).code == 0
    plan = am.plan(out, seed=1)
    assert plan["deliveries"][0]["payload"]["message"] == "${env:HOME}"
