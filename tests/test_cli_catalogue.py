"""events, show, schema end to end."""

from __future__ import annotations

import json

from atscale_mock.events.catalogue import EVENTS

from .cli_helpers import cli, no_traceback, proc


def test_events_json_lists_all_seven_with_field_sources() -> None:
    r = cli("events", "--json")
    data = json.loads(r.stdout)
    assert [e["name"] for e in data] == [e.name for e in EVENTS]
    sp = next(e for e in data if e["name"] == "schema-publish")
    sources = {f["path"]: f["source"] for f in sp["fields"]}
    assert sources["callback_url"] == "example" and sources["status"] == "parameters"


def test_events_table_marks_parameter_only_fields() -> None:
    r = cli("events")
    assert r.code == 0
    assert "aggregate_batch_started" in r.stdout
    line = next(ln for ln in r.stdout.splitlines() if "user_defined_name" in ln)
    assert "[parameters]" in line


def test_show_is_byte_identical_for_a_seed() -> None:
    a = cli("show", "slow-query", "--seed", "7")
    b = cli("show", "slow-query", "--seed", "7")
    assert a.code == 0 and a.stdout == b.stdout
    payload = json.loads(a.stdout)
    assert payload["event_type"] == "slow_query_event"
    assert payload["finished_at"] == "2021-12-07T15:44:07.077397Z"
    assert cli("show", "slow-query", "--seed", "8").stdout != a.stdout


def test_show_set_full_failed_and_pins() -> None:
    r = cli(
        "show",
        "schema-publish",
        "--full",
        "--failed",
        "--project",
        "11111111-2222-3333-4444-555555555555",
        "--set",
        "created_by_user=vpareto",
    )
    p = json.loads(r.stdout)
    assert p["status"] == "failure" and p["created_by_user"] == "vpareto"
    assert p["schema_id"] == p["project_id"] == "11111111-2222-3333-4444-555555555555"
    assert json.loads(cli("show", "batch-start", "--set", "cube_id=null").stdout)["cube_id"] is None


def test_show_compact_is_the_wire_body() -> None:
    r = cli("show", "unpublish", "--seed", "1", "--compact")
    assert r.stdout.startswith('{"event_type":"unpublish_schema_success","context":{')


def test_show_warns_when_a_set_breaks_the_schema() -> None:
    r = cli("show", "slow-query", "--set", "time_taken=fast")
    assert r.code == 0 and "warning" in r.stderr and "time_taken" in r.stderr


def test_schema_of_one_and_of_all() -> None:
    one = json.loads(cli("schema", "batch-result").stdout)
    assert one["properties"]["event_type"]["const"] == "aggregate_batch_result"
    everything = json.loads(cli("schema").stdout)
    assert set(everything) == {e.name for e in EVENTS}


def test_unknown_event_is_exit_2_with_did_you_mean() -> None:
    r = proc("show", "slow-qeury")
    assert r.code == 2 and "did you mean 'slow-query'?" in r.stderr
    no_traceback(r)


def test_unknown_field_is_exit_2_listing_valid_paths() -> None:
    r = proc("show", "batch-start", "--set", "nope=1")
    assert r.code == 2 and "valid paths" in r.stderr and "context.project_id" in r.stderr
    no_traceback(r)
