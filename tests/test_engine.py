"""The engine simulation: every simulated timeline is consistent, for many seeds."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atscale_mock.errors import ScenarioError
from atscale_mock.events.payload import format_timestamp, get_path
from atscale_mock.scenario.expand import expand
from atscale_mock.scenario.model import Scenario
from atscale_mock.scenario.plan import PayloadFactory, timeline
from atscale_mock.scenario.reading import parse_scenario, read_scenario
from atscale_mock.simulation.model import Engine

from .cli_helpers import cli
from .httpserver import ScriptedServer

ROOT = Path(__file__).parent.parent
DAY = ROOT / "scenarios" / "engine-day.yaml"
CLOCK = datetime(2024, 3, 4, tzinfo=UTC)


def simulate(scenario: Scenario, seed: int) -> tuple[list[tuple[float, dict[str, Any]]], Engine]:
    expanded, engine = expand(scenario, seed)
    assert engine is not None
    factory = PayloadFactory(expanded, seed, CLOCK)
    events = [(p.offset, factory.build(p)) for p in timeline(expanded, seed)]
    return sorted(events, key=lambda e: e[0]), engine


def project_of(payload: dict[str, Any]) -> str | None:
    for path in ("project_id", "context.project_id"):
        try:
            return str(get_path(payload, path))
        except KeyError:
            continue
    return None


def check_consistent(events: list[tuple[float, dict[str, Any]]], engine: Engine) -> None:
    """The invariants every simulated timeline keeps."""
    spec = engine.spec
    starts: dict[str, tuple[float, dict[str, Any]]] = {}
    results: dict[str, float] = {}
    unpublished = {
        p.id: p.unpublished_at for p in engine.projects.values() if p.unpublished_at is not None
    }
    cubes = {c.id: c for p in engine.projects.values() for c in p.cubes.values()}
    for offset, e in events:
        kind = e["event_type"]
        project = project_of(e)
        if project in unpublished and kind != "unpublish_schema_success":
            assert offset <= unpublished[project], f"{kind} after unpublish"
        if kind == "aggregate_batch_started":
            starts[e["id"]] = (offset, e)
        elif kind == "aggregate_batch_result":
            assert e["id"] in starts, "batch result without a start"
            start_offset, start = starts[e["id"]]
            assert start_offset <= offset and start["cube_id"] == e["cube_id"]
            results[e["id"]] = offset
        elif kind == "aggregate_prune_result":
            assert e["id"] in results and results[e["id"]] <= offset
            assert cubes[e["cube_id"]].aggregate_limit is not None
        elif kind == "slow_query_event":
            assert e["time_taken"] >= spec.slow_query_threshold
            assert e["query_id"] in engine.queries
            assert e["finished_at"] == format_timestamp(CLOCK + timedelta(seconds=offset))
            query = engine.queries[e["query_id"]]
            assert query.cube.id == e["cube_id"] and query.success == e["query_success"]
        elif kind == "slow_agg_builds":
            assert e["duration"] >= spec.slow_agg_build_threshold * 1000
            instance = engine.instances[e["instance_id"]]
            assert instance.definition.id == e["definition_id"]
            assert e["triggering_query_id"] in engine.queries
            assert instance.definition.triggering_query.id == e["triggering_query_id"]
            batch = [s for s in starts.values() if s[1]["cube_id"] == e["cube_id"]]
            assert batch and batch[-1][0] <= offset, "build before its batch started"
    # every build a result reports on came before the result
    for offset, e in events:
        if e["event_type"] == "slow_agg_builds":
            later = [
                results[i]
                for i, (o, s) in starts.items()
                if s["cube_id"] == e["cube_id"] and i in results and results[i] >= offset
            ]
            assert later, "a slow build after its batch's result"


@pytest.mark.parametrize("seed", range(40))
def test_engine_day_is_consistent_for_many_seeds(seed: int) -> None:
    events, engine = simulate(read_scenario(DAY), seed)
    check_consistent(events, engine)
    kinds = {e["event_type"] for _, e in events}
    assert {
        "aggregate_batch_started",
        "aggregate_batch_result",
        "slow_query_event",
        "unpublish_schema_success",
        "publish_schema_response",
    } <= kinds


def test_engine_day_has_what_the_issue_asks_for() -> None:
    events, engine = simulate(read_scenario(DAY), 2024)
    kinds = [e["event_type"] for _, e in events]
    assert {
        "aggregate_batch_started",
        "aggregate_batch_result",
        "aggregate_prune_result",
        "publish_schema_response",
        "slow_query_event",
        "slow_agg_builds",
        "unpublish_schema_success",
    } == set(kinds)
    failed = [e for _, e in events if e["event_type"] == "aggregate_batch_result" and e["error"]]
    assert len(failed) == 1
    assert kinds.count("unpublish_schema_success") == 1
    assert kinds.count("aggregate_prune_result") == 1
    assert len(engine.projects) == 4


def test_engine_day_plan_is_deterministic_and_summarised() -> None:
    a = cli("plan", str(DAY), "--summary")
    assert a.code == 0 and a.stdout == cli("plan", str(DAY), "--summary").stdout
    assert "time_scale 8640" in a.stdout and "slow-query" in a.stdout


def test_engine_day_runs_against_a_real_receiver(srv: ScriptedServer, tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    r = cli(
        "run",
        str(DAY),
        "--to",
        srv.url + "/ok",
        "--time-scale",
        "200000",
        "--report",
        str(report),
        "-q",
    )
    assert r.code == 0, r.stderr
    planned = json.loads(cli("plan", str(DAY), "--json").stdout)
    assert len(srv.seen) == len(planned["deliveries"]) == json.loads(report.read_text())["sent"]
    sent = sorted(json.dumps(b, sort_keys=True) for b in srv.bodies())
    assert sent == sorted(json.dumps(d["payload"], sort_keys=True) for d in planned["deliveries"])


ENGINE_FRAME = {
    "version": 1,
    "name": "random-engine",
    "clock": "2024-01-01T00:00:00Z",
    "engine": {
        "projects": [
            {"name": "p1", "cubes": [{"name": "c1", "aggregate_limit": 5}, {"name": "c2"}]},
            {"name": "p2", "cubes": [{"name": "c3", "aggregate_limit": 3}]},
        ]
    },
}
CUBES = ["p1/c1", "p1/c2", "p2/c3", "new/c4"]


def batch_step(draw: Any) -> dict[str, Any]:
    return {
        "batch": {
            "cubes": draw(st.lists(st.sampled_from(CUBES), min_size=1, max_size=3, unique=True)),
            "full": draw(st.booleans()),
            "aggregates": draw(st.integers(1, 8)),
            "build_duration": {"median": "2s", "p99": f"{draw(st.integers(2, 60))}s"},
            "failure_probability": draw(st.sampled_from([0, 0.3, 1])),
        }
    }


@st.composite
def engine_scenarios(draw: Any) -> dict[str, Any]:
    steps: list[dict[str, Any]] = [
        {
            "id": "make-new",
            "publish": {
                "project": "new",
                "cubes": [{"name": "c4", "aggregate_limit": 2}],
                "status": draw(st.sampled_from(["success", "failure"])),
            },
        }
    ]
    for i in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["batch", "queries", "unpublish", "parallel"]))
        step: dict[str, Any] = {"id": f"s{i}", "after": f"{draw(st.integers(0, 3600))}s"}
        if kind == "batch":
            step |= batch_step(draw)
        elif kind == "queries":
            step["queries"] = {
                "cubes": draw(st.lists(st.sampled_from(CUBES), min_size=1, unique=True)),
                "count": draw(st.integers(0, 60)),
                "over": "1h",
                "latency": {"median": "1s", "p99": f"{draw(st.integers(1, 30))}s"},
                "success_ratio": draw(st.sampled_from([0, 0.5, 1])),
            }
        elif kind == "unpublish":
            step["unpublish"] = {"project": draw(st.sampled_from(["p1", "p2", "new"]))}
        else:
            step["parallel"] = [
                {
                    "id": f"s{i}-q",
                    "queries": {
                        "project": "p1",
                        "count": 20,
                        "over": "2h",
                        "latency": {"median": "3s", "p99": "20s"},
                    },
                },
                {"id": f"s{i}-b", "after": "30m", **batch_step(draw)},
                {
                    "id": f"s{i}-u",
                    "after": f"{draw(st.integers(0, 120))}m",
                    "unpublish": {"project": "p1"},
                },
            ]
        steps.append(step)
    return {**ENGINE_FRAME, "steps": steps}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(engine_scenarios(), st.integers(0, 2**32))
def test_random_engine_scenarios_are_consistent(doc: dict[str, Any], seed: int) -> None:
    scenario = parse_scenario(yaml.safe_dump(doc).encode(), "random.yaml")
    events, engine = simulate(scenario, seed)
    check_consistent(events, engine)


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ({"batch": {"cubes": ["sales/ordrs"]}}, "did you mean 'sales/orders'?"),
        ({"queries": {"project": "sale", "count": 3, "over": "1h"}}, "did you mean 'sales'?"),
        ({"queries": {"project": "sales", "count": 3}}, "needs `over`"),
        ({"queries": {"project": "sales", "over": "1h"}}, "give `count` or `rate`"),
        (
            {"batch": {"project": "sales", "build_duration": {"median": "5s", "p99": "1s"}}},
            "p99 must be at least the median",
        ),
        ({"batch": {"project": "sales", "failure_probability": 2}}, "bad probability"),
        ({"unpublish": {"project": "nope"}}, "unknown project"),
        ({"publish": {"project": "sales"}}, "already exists"),
        ({"batch": {"project": "sales"}, "event": "slow-query"}, "cannot have more than one"),
    ],
)
def test_engine_step_errors(step: dict[str, Any], message: str) -> None:
    doc = {
        "version": 1,
        "engine": {"projects": [{"name": "sales", "cubes": [{"name": "orders"}]}]},
        "steps": [{"id": "x", **step}],
    }
    with pytest.raises(ScenarioError) as info:
        parse_scenario(yaml.safe_dump(doc).encode(), "e.yaml")
    assert message in info.value.render()


def test_engine_step_cannot_be_referenced() -> None:
    doc = {
        "version": 1,
        "engine": {"projects": [{"name": "s", "cubes": [{"name": "c"}]}]},
        "steps": [
            {"id": "b", "batch": {"project": "s"}},
            {"event": "batch-result", "set": {"id": "${steps.b.payload.id}"}},
        ],
    }
    with pytest.raises(ScenarioError) as info:
        parse_scenario(yaml.safe_dump(doc).encode(), "e.yaml")
    assert "refers to an engine step" in info.value.render()
