"""The catalogue and payload builder against the spec: pure, parametrised over events."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from atscale_mock.errors import UnknownEventError, UnknownFieldError, UsageError
from atscale_mock.events.catalogue import EVENTS, Event, find_event
from atscale_mock.events.payload import (
    PayloadOptions,
    build_payload,
    get_path,
    parse_assignment,
    resolve_event,
)
from atscale_mock.events.schema import event_schema, validation_errors

from .conftest import GOLDEN, spec_example

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
IDS = [e.name for e in EVENTS]


def structure(value: object) -> object:
    """Keys in order, recursively, with the JSON type of each leaf."""
    if isinstance(value, dict):
        return [(k, structure(v)) for k, v in value.items()]
    return type(value).__name__


def test_seven_events_with_the_issue_names() -> None:
    assert {e.name: e.event_type for e in EVENTS} == {
        "batch-start": "aggregate_batch_started",
        "batch-result": "aggregate_batch_result",
        "prune-result": "aggregate_prune_result",
        "schema-publish": "publish_schema_response",
        "slow-query": "slow_query_event",
        "slow-agg-build": "slow_agg_builds",
        "unpublish": "unpublish_schema_success",
    }


@pytest.mark.parametrize("event", EVENTS, ids=IDS)
def test_default_payload_has_the_example_wire_shape(event: Event) -> None:
    example = spec_example(event.name)
    payload = build_payload(event, 1)
    if payload.get("cube_id", "") is None:  # "null if not available": a string's place
        payload["cube_id"] = example["cube_id"]
    assert structure(payload) == structure(example)


@pytest.mark.parametrize("event", [e for e in EVENTS if e.field("cube_id")], ids=lambda e: e.name)
def test_cube_id_is_null_in_about_one_payload_in_sixteen(event: Event) -> None:
    """The spec: "UUID of the cube; null if not available". The share is our choice."""
    from atscale_mock.events.schema import validation_errors

    payloads = [build_payload(event, seed) for seed in range(800)]
    nulls = [p for p in payloads if p["cube_id"] is None]
    assert 0.03 < len(nulls) / len(payloads) < 0.10
    assert all(not validation_errors(event, p) for p in nulls[:20])
    pinned = build_payload(event, 1, PayloadOptions(cube="48d6ad30-f139-4f77-517f-36158d7b032b"))
    assert pinned["cube_id"] == "48d6ad30-f139-4f77-517f-36158d7b032b"


@pytest.mark.parametrize("event", EVENTS, ids=IDS)
def test_example_values_reproduce_the_example_exactly(event: Event) -> None:
    example = spec_example(event.name)
    overrides = {p: get_path(example, p) for p in event.example_paths}
    payload = build_payload(event, 99, PayloadOptions(set=overrides))
    raw = (GOLDEN / "spec" / f"{event.name}.json").read_text()
    assert json.dumps(payload) == json.dumps(json.loads(raw))
    assert list(payload) == list(json.loads(raw))


@pytest.mark.parametrize("event", EVENTS, ids=IDS)
def test_spec_example_validates_against_the_schema(event: Event) -> None:
    assert validation_errors(event, spec_example(event.name)) == []


@pytest.mark.parametrize("event", EVENTS, ids=IDS)
@pytest.mark.parametrize("full", [False, True])
def test_generated_payloads_validate(event: Event, full: bool) -> None:
    for seed in range(30):
        payload = build_payload(event, seed, PayloadOptions(full=full))
        assert validation_errors(event, payload) == [], payload


@pytest.mark.parametrize("event", EVENTS, ids=IDS)
def test_schema_rejects_an_unknown_key_and_a_wrong_type(event: Event) -> None:
    payload = build_payload(event, 3)
    assert validation_errors(event, {**payload, "surprise": 1})
    assert validation_errors(event, {**payload, "event_type": "something_else"})


@pytest.mark.parametrize("event", EVENTS, ids=IDS)
def test_ids_are_lowercase_8_4_4_4_12(event: Event) -> None:
    payload = build_payload(event, 5, PayloadOptions(full=True))
    for f in event.fields:
        if f.kind in ("uuid", "same_as_project"):
            value = get_path(payload, f.path)
            if value is None and f.path == "cube_id":
                continue  # null if not available (see the test below)
            assert UUID_RE.match(value), f.path


@pytest.mark.parametrize("event", EVENTS, ids=IDS)
def test_same_seed_same_bytes_other_seed_other_values(event: Event) -> None:
    options = PayloadOptions(clock=datetime(2024, 1, 1, tzinfo=UTC), full=True)
    first = json.dumps(build_payload(event, 42, options))
    assert first == json.dumps(build_payload(event, 42, options))
    if any(f.kind == "uuid" for f in event.fields):
        assert first != json.dumps(build_payload(event, 43, options))


def test_full_adds_the_documented_parameters_in_place() -> None:
    sp = build_payload(resolve_event("schema-publish"), 1, PayloadOptions(full=True))
    assert list(sp) == [
        "event_type",
        "callback_url",
        "created_by_user",
        "org_id",
        "project_id",
        "schema_id",
        "status",
    ]
    assert sp["schema_id"] == sp["project_id"] and sp["status"] == "success"
    agg = build_payload(resolve_event("slow-agg-build"), 1, PayloadOptions(full=True))
    keys = list(agg)
    assert keys.index("triggering_query_id") + 1 == keys.index("user_defined_id")
    assert {"user_defined_name", "message"} <= set(keys)
    assert "user_defined_id" not in build_payload(resolve_event("slow-agg-build"), 1)


def test_field_sources_follow_the_spec() -> None:
    sp = resolve_event("schema-publish")
    assert {f.path for f in sp.fields if f.source == "parameters"} == {
        "org_id",
        "project_id",
        "schema_id",
        "status",
    }
    agg = resolve_event("slow-agg-build")
    assert {f.path for f in agg.fields if f.source == "parameters"} == {
        "user_defined_id",
        "user_defined_name",
        "message",
    }
    schema = event_schema(sp)
    assert schema["properties"]["callback_url"]["x-source"] == "example"
    assert "x-not-in-spec" in schema["properties"]["callback_url"]


def test_value_formats() -> None:
    clock = datetime(2021, 12, 7, 15, 44, 7, 77397, tzinfo=UTC)
    sq = build_payload(resolve_event("slow-query"), 1, PayloadOptions(clock=clock))
    assert sq["finished_at"] == "2021-12-07T15:44:07.077397Z"
    assert isinstance(sq["time_taken"], float) and sq["query_success"] is True
    assert sq["org_id"] == "default"
    agg = build_payload(resolve_event("slow-agg-build"), 1)
    assert isinstance(agg["duration"], int)
    assert build_payload(resolve_event("batch-result"), 1)["error"] is None


def test_slow_values_are_at_or_over_their_thresholds() -> None:
    sq, agg = resolve_event("slow-query"), resolve_event("slow-agg-build")
    for seed in range(300):
        assert build_payload(sq, seed)["time_taken"] >= 4.0
        assert build_payload(sq, seed, PayloadOptions(slow_threshold=10))["time_taken"] >= 10
        assert build_payload(agg, seed)["duration"] >= 4000


def test_failure_variants() -> None:
    failed = PayloadOptions(failed=True)
    assert isinstance(build_payload(resolve_event("batch-result"), 1, failed)["error"], str)
    custom = PayloadOptions(failed=True, error="disk full")
    assert build_payload(resolve_event("batch-result"), 1, custom)["error"] == "disk full"
    assert build_payload(resolve_event("schema-publish"), 1, failed)["status"] == "failure"
    assert build_payload(resolve_event("slow-query"), 1, failed)["query_success"] is False
    with pytest.raises(UsageError, match="no failure variant"):
        build_payload(resolve_event("prune-result"), 1, failed)


def test_a_variant_does_not_shift_the_other_values() -> None:
    br = resolve_event("batch-result")
    ok, bad = build_payload(br, 8), build_payload(br, 8, PayloadOptions(failed=True))
    assert ok["id"] == bad["id"] and ok["cube_id"] == bad["cube_id"]


def test_pins_and_null_cube() -> None:
    options = PayloadOptions(
        org="acme",
        project="11111111-2222-3333-4444-555555555555",
        cube="66666666-7777-8888-9999-000000000000",
    )
    bs = build_payload(resolve_event("batch-start"), 1, options)
    assert bs["context"] == {"org_id": "acme", "project_id": "11111111-2222-3333-4444-555555555555"}
    assert bs["cube_id"] == "66666666-7777-8888-9999-000000000000"
    nulled = build_payload(resolve_event("slow-query"), 1, PayloadOptions(set={"cube_id": None}))
    assert nulled["cube_id"] is None
    assert validation_errors(resolve_event("slow-query"), nulled) == []


def test_event_type_is_accepted_as_a_name() -> None:
    assert find_event("slow_query_event") is resolve_event("slow-query")


def test_unknown_event_suggests_the_closest() -> None:
    with pytest.raises(UnknownEventError) as info:
        resolve_event("slow-qeury")
    assert info.value.suggestion == "slow-query"
    assert "did you mean 'slow-query'?" in info.value.render()


def test_unknown_field_lists_valid_paths() -> None:
    with pytest.raises(UnknownFieldError) as info:
        build_payload(
            resolve_event("batch-start"), 1, PayloadOptions(set={"context.projectid": "x"})
        )
    assert "did you mean 'context.project_id'?" in info.value.render()
    assert "is_full_build" in info.value.render()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a=true", ("a", True)),
        ("a=null", ("a", None)),
        ("a=3.5", ("a", 3.5)),
        ("a=hello", ("a", "hello")),
        ('a="7"', ("a", "7")),
        ("a.b=x=y", ("a.b", "x=y")),
    ],
)
def test_set_values_parse_as_json_else_string(text: str, expected: tuple[str, object]) -> None:
    assert parse_assignment(text) == expected


@pytest.mark.parametrize("text", ["novalue", "=3"])
def test_set_without_path_or_equals_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError):
        parse_assignment(text)
