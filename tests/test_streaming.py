"""Schedules, plans and runs are made as they are taken: a step of a billion deliveries
starts at once and a long run holds no list of what it did (issue 17). The figures
(first send within 0.5 s, flat memory) are in bench/run_stream.py, not asserted here;
what these tests show is the behaviour: nothing waits for the whole schedule."""

from __future__ import annotations

import itertools
import json
import random
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from atscale_mock.events.ids import derive_seed
from atscale_mock.scenario import plan as p
from atscale_mock.scenario.model import EventStep
from atscale_mock.scenario.plan_time import last_offset, sorted_offsets
from atscale_mock.scenario.reading import read_scenario
from tests.cli_helpers import no_traceback, proc
from tests.httpserver import ScriptedServer

BILLION = 10**9
CLOCK = datetime(2024, 1, 1, tzinfo=UTC)


def _scenario(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "big.yaml"
    path.write_text("version: 1\nname: big\n" + body)
    return path


def _steps(tmp_path: Path, body: str) -> list[EventStep]:
    sc = read_scenario(str(_scenario(tmp_path, body)))
    return list(p.event_steps(sc))


def _listed(step: EventStep, seed: int) -> list[tuple[float, int]]:
    """The offsets as a list sorted at the end: what the streaming heap must equal."""
    rng = random.Random(derive_seed(seed, step.id, "jitter"))
    r = step.repeat
    offsets = [
        i * r.interval + (rng.uniform(0, r.jitter) if r.jitter else 0.0) for i in range(r.count)
    ]
    return sorted((off, i) for i, off in enumerate(offsets))


@pytest.mark.parametrize(
    "repeat",
    [
        "{count: 500, rate: 100/s, jitter: 35ms}",  # jitter spans several intervals
        "{count: 500, rate: 1000/s, jitter: 1ms}",  # jitter of exactly one interval
        "{count: 300, every: 2s, jitter: 100ms}",  # never reorders
        "{count: 200, rate: 10/s}",  # no jitter at all
    ],
)
def test_streamed_offsets_equal_the_sorted_list(tmp_path: Path, repeat: str) -> None:
    (step,) = _steps(tmp_path, f"steps:\n  - id: s\n    event: slow-query\n    repeat: {repeat}\n")
    for seed in range(25):
        streamed = list(sorted_offsets(step, seed))
        assert streamed == _listed(step, seed)
        assert last_offset(step, seed) == max(off for off, _ in streamed)


def test_a_billion_deliveries_are_scheduled_without_listing_them(tmp_path: Path) -> None:
    sc = read_scenario(
        str(
            _scenario(
                tmp_path,
                "steps:\n"
                "  - parallel:\n"
                "      - id: a\n        event: slow-query\n"
                f"        repeat: {{count: {BILLION}, rate: 1000/s, jitter: 5ms}}\n"
                "      - id: b\n        event: batch-start\n"
                f"        repeat: {{count: {BILLION}, rate: 500/s}}\n"
                "  - id: c\n    event: slow-query\n",
            )
        )
    )
    assert p.count_deliveries(sc) == 2 * BILLION + 1
    first = list(itertools.islice(p.timeline(sc, 3), 3000))  # a list would never end
    offsets = [x.offset for x in first]
    assert offsets == sorted(offsets)
    assert {x.step.id for x in first} == {"a", "b"}
    # the two branches interleave by time: about two a's for each b
    assert 1.7 < sum(x.step.id == "a" for x in first) / sum(x.step.id == "b" for x in first) < 2.3


def test_plan_json_streams_the_same_document(tmp_path: Path) -> None:
    for path in sorted(Path("scenarios").glob("*.yaml")):
        sc = read_scenario(str(path))
        doc = p.plan_document(sc, 3, CLOCK, "http://127.0.0.1:9/")
        head, deliveries = p.plan_stream(sc, 3, CLOCK, "http://127.0.0.1:9/")
        text = "\n".join(p.plan_json_lines(head, deliveries))
        assert text == json.dumps(doc, indent=2, ensure_ascii=False), path
        assert head["deliveries"] == len(doc["deliveries"])


def test_plan_prints_its_listing_as_it_makes_it(tmp_path: Path) -> None:
    path = _scenario(
        tmp_path,
        f"steps:\n  - id: s\n    event: slow-query\n    repeat: {{count: {BILLION}, rate: 10/s}}\n",
    )
    for extra in ([], ["--json"]):
        child = subprocess.Popen(
            [sys.executable, "-m", "atscale_mock", "plan", str(path), *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        try:
            lines = [child.stdout.readline() for _ in range(40)]
        finally:
            child.kill()
            child.communicate(timeout=30)
        text = "".join(lines)
        assert "slow-query" in text
        if extra:
            assert '"deliveries": [' in text
        else:
            assert f"deliveries: {BILLION}" in text  # the count comes before the listing


def test_run_of_a_billion_starts_at_once_and_stops_at_max_time(
    tmp_path: Path, server: ScriptedServer
) -> None:
    before = len(server.seen)
    path = _scenario(
        tmp_path,
        "steps:\n  - id: s\n    event: slow-query\n"
        f"    repeat: {{count: {BILLION}, rate: 200/s}}\n",
    )
    r = proc("run", str(path), "--to", server.url + "/ok", "--max-time", "2", "--json", "-q")
    no_traceback(r)
    assert r.code == 1, r.stderr
    assert "max-time" in r.stderr or "max time" in r.stderr
    summary = json.loads(r.stdout)
    assert summary["planned"] == BILLION
    assert summary["sent"] > 20  # it sent long before it could have listed a billion
    assert summary["sent"] == summary["passed"]
    assert summary["not_sent"] == BILLION - summary["sent"]
    assert len(server.seen) - before >= summary["sent"]


def test_counts_without_kept_results_match_the_kept_ones() -> None:
    import atscale_mock

    kept = atscale_mock.run("scenarios/slow-queries.yaml", to="local", seed=4, faults=_faults())
    lean = atscale_mock.run(
        "scenarios/slow-queries.yaml", to="local", seed=4, faults=_faults(), keep_results=False
    )
    assert kept.deliveries and not lean.deliveries
    for name in ("planned", "sent", "passed", "failed", "dropped", "copies", "not_sent"):
        assert getattr(kept, name) == getattr(lean, name), name
    assert kept.copies > 0 and kept.dropped > 0  # the faults did something to count
    assert kept.sent == sum(not r.dropped and not r.copy for r in kept.deliveries)
    assert kept.copies == sum(r.copy and not r.dropped for r in kept.deliveries)


def _faults() -> object:
    from atscale_mock import Faults

    return Faults(duplicates=0.3, drop=0.2, reorder=3)
