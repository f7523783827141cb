"""plan and run end to end: golden plans, every example scenario against a real server,
expectations, references, secrets, reports and interruption."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from atscale_mock.events.catalogue import find_event
from atscale_mock.events.payload import parse_timestamp
from atscale_mock.events.schema import validation_errors
from atscale_mock.scenario.jsonschema import scenario_schema
from atscale_mock.scenario.plan import plan_document
from atscale_mock.scenario.reading import parse_scenario
from atscale_mock.scenario.yamlpos import load

from .cli_helpers import cli, no_traceback
from .httpserver import ScriptedServer

ROOT = Path(__file__).parent.parent
GOOD = sorted((ROOT / "scenarios").glob("*.yaml"))
PLANS = Path(__file__).parent / "golden" / "plans"


@pytest.fixture(autouse=True)
def _repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("RECEIVER_URL", raising=False)
    monkeypatch.delenv("RECEIVER_TOKEN", raising=False)


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("case", GOOD, ids=[c.stem for c in GOOD])
def test_plan_matches_the_golden_file(case: Path) -> None:
    r = cli("plan", f"scenarios/{case.name}")
    assert r.code == 0, r.stderr
    assert r.stdout == (PLANS / f"{case.stem}.txt").read_text()


@pytest.mark.parametrize("case", GOOD, ids=[c.stem for c in GOOD])
def test_every_example_runs_against_a_real_receiver(
    case: Path, srv: ScriptedServer, tmp_path: Path
) -> None:
    report = tmp_path / "report.json"
    r = cli("run", f"scenarios/{case.name}", "--to", srv.url + "/ok", "--report", str(report))
    assert r.code == 0, r.stdout + r.stderr
    planned = json.loads(cli("plan", f"scenarios/{case.name}", "--json").stdout)
    bodies = srv.bodies()
    assert len(bodies) == len(planned["deliveries"]) == json.loads(report.read_text())["passed"]
    for body in bodies:
        event = find_event(body.get("event_type", ""))
        assert event is not None and validation_errors(event, body) == []
    # same seed: what was sent is what plan showed, byte for byte
    sent = sorted(json.dumps(b, sort_keys=True) for b in bodies)
    assert sent == sorted(json.dumps(d["payload"], sort_keys=True) for d in planned["deliveries"])


def test_all_events_covers_the_seven() -> None:
    doc = json.loads(cli("plan", "scenarios/all-events.yaml", "--json").stdout)
    assert {d["event"] for d in doc["deliveries"]} == {
        "batch-start",
        "batch-result",
        "prune-result",
        "schema-publish",
        "slow-query",
        "slow-agg-build",
        "unpublish",
    }


def test_batch_lifecycle_keeps_the_batch_id(srv: ScriptedServer) -> None:
    assert cli("run", "scenarios/batch-lifecycle.yaml", "--to", srv.url + "/ok").code == 0
    bodies = srv.bodies()
    start = next(b for b in bodies if b["event_type"] == "aggregate_batch_started")
    result = next(b for b in bodies if b["event_type"] == "aggregate_batch_result")
    builds = [b for b in bodies if b["event_type"] == "slow_agg_builds"]
    assert result["id"] == start["id"] and result["cube_id"] == start["cube_id"]
    assert len(builds) == 2 and all(b["cube_id"] == start["cube_id"] for b in builds)
    assert [b["event_type"] for b in bodies][0] == "aggregate_batch_started"
    assert [b["event_type"] for b in bodies][-1] == "aggregate_batch_result"


def test_plan_is_identical_for_a_seed_and_differs_for_another() -> None:
    a = cli("plan", "scenarios/slow-queries.yaml", "--seed", "5").stdout
    assert a == cli("plan", "scenarios/slow-queries.yaml", "--seed", "5").stdout
    assert a != cli("plan", "scenarios/slow-queries.yaml", "--seed", "6").stdout


def test_adding_a_step_does_not_change_the_other_steps_values() -> None:
    text = (ROOT / "scenarios" / "batch-lifecycle.yaml").read_text()
    extra = text.replace("steps:\n", "steps:\n  - id: extra\n    event: slow-query\n", 1)
    clock = parse_timestamp("2024-01-01T00:00:00Z")

    def payloads(raw: str) -> dict[str, object]:
        doc = plan_document(parse_scenario(raw.encode(), "x.yaml"), 9, clock, None)
        return {d["label"]: d["payload"] for d in doc["deliveries"]}

    before, after = payloads(text), payloads(extra)
    assert set(after) - set(before) == {"extra"}
    assert all(after[label] == before[label] for label in before)


def test_var_override_and_to_override(srv: ScriptedServer) -> None:
    r = cli(
        "run",
        "scenarios/publish-unpublish.yaml",
        "--var",
        "project=11111111-2222-3333-4444-555555555555",
        "--to",
        srv.url + "/ok",
    )
    assert r.code == 0, r.stderr
    unpublish = srv.bodies()[-1]
    assert unpublish["context"]["project_id"] == "11111111-2222-3333-4444-555555555555"


def test_unknown_var_is_exit_2() -> None:
    r = cli("run", "scenarios/publish-unpublish.yaml", "--var", "projet=x", "--to", "local")
    assert r.code == 2 and "did you mean 'project'?" in r.stderr


def test_no_url_is_exit_2(tmp_path: Path) -> None:
    path = write(tmp_path, "version: 1\nsteps:\n  - event: slow-query\n")
    r = cli("run", str(path))
    assert r.code == 2 and "no receiver URL" in r.stderr


def test_failed_expectations_exit_1_with_junit_details(srv: ScriptedServer, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"""version: 1
name: expectations
defaults: {{to: "{srv.url}/ok", seed: 1}}
steps:
  - id: five-hundred
    event: slow-query
    to: "{srv.url}/status/500"
  - id: too-slow
    event: slow-query
    to: "{srv.url}/slow/0.3"
    expect: {{max_latency: 100ms}}
  - id: body
    event: slow-query
    expect: {{json: {{ok: false}}}}
  - id: fine
    event: slow-query
    expect: {{status: [200, 202], json: {{ok: true}}}}
""",
    )
    junit = tmp_path / "junit.xml"
    r = cli("run", str(path), "--junit", str(junit))
    assert r.code == 1
    suite = ET.parse(junit).getroot()
    assert suite.get("tests") == "4" and suite.get("failures") == "3"
    failures = {c.get("classname"): c.find("failure") for c in suite.iter("testcase")}
    assert "expected status 2xx, got 500" in failures["expectations.five-hundred"].get("message")
    assert "expected latency <= 100 ms" in failures["expectations.too-slow"].get("message")
    assert "expected response ok = False, got True" in failures["expectations.body"].get("message")
    assert failures["expectations.fine"] is None
    assert "FAILED" in r.stdout


def test_status_reference_is_resolved_at_run_time(srv: ScriptedServer, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"""version: 1
defaults: {{to: "{srv.url}/ok"}}
steps:
  - id: first
    event: batch-start
    to: "{srv.url}/status/202"
  - id: second
    event: batch-result
    set: {{error: "first got ${{steps.first.status}}", id: "${{steps.first.payload.id}}"}}
""",
    )
    assert cli("run", str(path)).code == 0
    first, second = srv.bodies()
    assert second["error"] == "first got 202" and second["id"] == first["id"]
    planned = cli("plan", str(path)).stdout
    assert "first got ${steps.first.status}" in planned


def test_parallel_branches_start_together(srv: ScriptedServer, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"""version: 1
defaults: {{to: "{srv.url}/slow/0.4"}}
steps:
  - parallel:
      - {{id: a, event: prune-result}}
      - {{id: b, event: unpublish}}
""",
    )
    start = time.monotonic()
    assert cli("run", str(path)).code == 0
    assert len(srv.seen) == 2
    assert time.monotonic() - start < 0.8 + 0.5  # bounded: the test fails if they run in series


def test_secrets_never_reach_output_logs_or_reports(
    srv: ScriptedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECEIVER_TOKEN", "tok-5up3r-s3cr3t")
    path = write(
        tmp_path,
        f"""version: 1
defaults:
  to: "{srv.url}/status/500"
  headers:
    Authorization: "Bearer ${{secret:RECEIVER_TOKEN}}"
    X-Trace: "${{secret:RECEIVER_TOKEN}}"
steps:
  - id: q
    event: batch-result
    set: {{error: "token is ${{secret:RECEIVER_TOKEN}}"}}
""",
    )
    files = [tmp_path / n for n in ("log.jsonl", "junit.xml", "report.json")]
    r = cli(
        "run",
        str(path),
        "--log",
        str(files[0]),
        "--junit",
        str(files[1]),
        "--report",
        str(files[2]),
    )
    p = cli("plan", str(path))
    assert r.code == 1
    assert srv.seen[0].headers["Authorization"] == "Bearer tok-5up3r-s3cr3t"
    for text in [r.stdout, r.stderr, p.stdout, *(f.read_text() for f in files)]:
        assert "tok-5up3r-s3cr3t" not in text
    assert "***" in files[0].read_text()


def test_scenario_schema_accepts_every_example() -> None:
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(scenario_schema())
    for case in GOOD:
        doc, problems = load(case.read_bytes(), case.name)  # timestamps stay text, as in editors
        assert problems == [] and list(validator.iter_errors(doc.data)) == [], case
    assert json.loads(cli("schema", "--scenario").stdout)["title"].startswith("atscale-mock")
    assert json.loads((ROOT / "atscale-mock-scenario.schema.json").read_text()) == scenario_schema()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_writes_summary_reports_and_every_attempt(
    srv: ScriptedServer, tmp_path: Path, sig: signal.Signals
) -> None:
    path = write(
        tmp_path,
        f"""version: 1
defaults: {{to: "{srv.url}/ok", seed: 1}}
steps:
  - id: many
    event: slow-query
    repeat: {{count: 200, rate: 20/s}}
""",
    )
    log, report = tmp_path / "log.jsonl", tmp_path / "report.json"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "atscale_mock",
            "run",
            str(path),
            "--log",
            str(log),
            "--report",
            str(report),
            "-q",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    srv.wait_seen(10)
    proc.send_signal(sig)
    out, errs = proc.communicate(timeout=30)
    assert proc.returncode == 130, errs
    assert "INTERRUPTED" in errs and "Traceback" not in errs
    data = json.loads(report.read_text())
    # the server saw 10; a delivery or two may still have been waiting for its answer
    assert data["interrupted"] is True and 8 <= data["sent"] < 200
    assert data["not_sent"] == 200 - data["sent"]
    attempts = [json.loads(x) for x in log.read_text().splitlines()]
    assert len(attempts) >= data["sent"] and len(attempts) == len(srv.seen)


def test_run_missing_file_is_a_clear_error() -> None:
    r = cli("run", "nope.yaml", "--to", "local")
    assert r.code == 2 and "cannot read the file" in r.stderr
    no_traceback(r)


@pytest.mark.parametrize("path", ["bigjson", "gzjson"])
@pytest.mark.parametrize("transport", ["pool", "httpx"])
def test_expect_json_reads_the_whole_decoded_body(
    srv: ScriptedServer, tmp_path: Path, path: str, transport: str
) -> None:
    """`expect: json` decodes the whole body (gzip undone, past the 1 KiB logs keep)."""
    import httpx

    import atscale_mock as am

    scenario = (
        "version: 1\nname: j\nsteps:\n  - id: a\n    event: unpublish\n"
        "    expect: {json: {ok: true}}\n"
    )
    extra = {"transport": httpx.AsyncHTTPTransport()} if transport == "httpx" else {}
    result = am.run(scenario, to=f"{srv.url}/{path}", **extra)
    assert result.failed == 0, [r.failures for r in result.deliveries]
    assert result.passed == 1
    kept = result.deliveries[0].tries[-1].outcome
    assert kept.full_body is None and len(kept.body) <= 1025  # not held after the check
    wrong = scenario.replace("ok: true", "ok: false")
    assert am.run(wrong, to=f"{srv.url}/{path}", **extra).failed == 1


def test_plan_summary_counts_without_listing(tmp_path: Path) -> None:
    """`plan --summary` counts from the timing alone: ten million deliveries are counted
    (not built), and for a small scenario it agrees with the full plan."""
    from datetime import UTC, datetime

    from atscale_mock.scenario.plan import plan_summary

    big = tmp_path / "big.yaml"
    big.write_text(
        "version: 1\nname: big\nsteps:\n  - id: q\n    event: slow-query\n"
        "    repeat: {count: 10000000, rate: 1000/s}\n"
    )
    r = cli("plan", str(big), "--summary", "--json", "--seed", "1")
    assert r.code == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["deliveries"] == 10_000_000 and data["events"] == {"slow-query": 10_000_000}
    assert data["span_seconds"] == pytest.approx(9999.999)
    clock = datetime(2024, 1, 1, tzinfo=UTC)
    for name in ("slow-queries.yaml", "engine-day.yaml", "batch-lifecycle.yaml"):
        scenario = parse_scenario((ROOT / "scenarios" / name).read_bytes(), name)
        full = plan_document(scenario, 5, clock, None)
        counted = plan_summary(scenario, 5, clock, None)
        assert counted["deliveries"] == len(full["deliveries"]), name
        assert counted["span_seconds"] == pytest.approx(full["span_seconds"]), name
        by_event: dict[str, int] = {}
        for d in full["deliveries"]:
            by_event[d["event"]] = by_event.get(d["event"], 0) + 1
        assert counted["events"] == by_event, name
