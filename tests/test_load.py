"""load: the schedule, histogram merging and thresholds (pure), the payload generator,
and the command end to end against a real local receiver."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atscale_mock.errors import UsageError
from atscale_mock.events.catalogue import find_event
from atscale_mock.events.schema import validation_errors
from atscale_mock.load.generator import DEFAULT_MIX, PayloadGenerator, parse_mix
from atscale_mock.load.schedule import Phase, arrivals
from atscale_mock.load.stats import (
    HIGHEST,
    PERCENTILES,
    Interval,
    Recorder,
    Totals,
    merge,
    new_histogram,
    new_recorders,
    percentiles_ms,
)
from atscale_mock.load.thresholds import evaluate, parse_threshold

from .cli_helpers import cli, no_traceback, proc
from .httpserver import ScriptedServer

UNIQUE_KEYS = ("id", "query_id", "instance_id")


def identity(body: dict) -> str:
    for key in UNIQUE_KEYS:
        if key in body:
            return str(body[key])
    return str(
        body.get("context", {}).get("project_id")
        or body.get("project_id")
        or body.get("created_by_user")
    )


# -- schedule -------------------------------------------------------------------------


def test_constant_rate_arrivals_are_evenly_spaced() -> None:
    times = list(arrivals([Phase(2.0, 100.0)]))
    assert len(times) == 200
    assert times[:3] == [0.0, 0.01, 0.02] and times[-1] < 2.0


def test_ramp_sends_the_integral_of_the_rate() -> None:
    times = list(arrivals([Phase(10.0, 0.0, 100.0)]))
    assert abs(len(times) - 500) <= 1  # (0 + 100) / 2 * 10
    first_half = sum(1 for t in times if t < 5.0)
    assert abs(first_half - 125) <= 1  # 25 / 2 * 5: the rate grows
    assert all(b > a for a, b in zip(times, times[1:], strict=False))


def test_phases_follow_each_other() -> None:
    times = list(arrivals([Phase(1.0, 10.0), Phase(1.0, 20.0)]))
    assert sum(1 for t in times if t < 1.0) == 10 and sum(1 for t in times if t >= 1.0) == 20


# -- stats ----------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=HIGHEST * 2), max_size=300))
def test_recorder_counts_as_hdrh_records(values: list[int]) -> None:
    reference = new_histogram()
    for v in values:
        reference.record_value(min(max(v, 1), HIGHEST))
    recorder = Recorder()
    recorder.record(Counter(values))
    mine = recorder.histogram()
    assert list(mine.counts) == list(reference.counts)
    assert mine.get_total_count() == reference.get_total_count() == len(values)
    if values:
        assert mine.get_min_value() == reference.get_min_value()
        assert mine.get_max_value() == reference.get_max_value()
    recorder.reset()
    assert recorder.histogram().get_total_count() == 0 and not any(recorder.histogram().counts)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=10**9), min_size=1, max_size=300))
def test_percentiles_are_hdrh_percentiles(values: list[int]) -> None:
    h = new_histogram()
    for v in values:
        h.record_value(v)
    expected = {f"p{q:g}": h.get_value_at_percentile(q) / 1000 for q in PERCENTILES}
    assert percentiles_ms(h) == {**expected, "max": h.get_max_value() / 1000}


def test_recorder_folds_seconds_as_microseconds() -> None:
    recorder = Recorder()
    recorder.fold([0.0015, 0.0015, 0.25])
    h = recorder.histogram()
    assert h.get_total_count() == 3 and h.get_value_at_percentile(50) == 1500
    assert 250_000 <= h.get_max_value() <= 250_250  # 3 significant digits


def test_merge_adds_like_hdrh() -> None:
    a, b, reference = new_histogram(), new_histogram(), new_histogram()
    for v in (1, 500, 70_000):
        a.record_value(v)
        reference.record_value(v)
    for v in (2, 500, 9_000_000):
        b.record_value(v)
    reference.add(b)
    merge(a, b)
    assert list(a.counts) == list(reference.counts)
    assert (a.get_total_count(), a.get_min_value(), a.get_max_value()) == (
        reference.get_total_count(),
        reference.get_min_value(),
        reference.get_max_value(),
    )


def test_snapshots_merge_across_workers() -> None:
    a, b = Interval(index=0), Interval(index=0)
    a.sent, a.latency = 3, [0.001, 0.002, 0.003]  # seconds
    a.statuses[200] = 3
    b.sent, b.latency = 1, [0.1]
    b.errors["timeout"] = 1
    totals = Totals(interval=1.0, workers=2)
    totals.add(a.snapshot(new_recorders()))
    totals.add(b.snapshot(new_recorders()))
    assert totals.sent == 4 and totals.ok == 3 and totals.completed == 4
    assert totals.hists["latency"].get_total_count() == 4
    row = totals.series()[0]
    assert row["completed"] == 4 and row["errors"] == {"timeout": 1}
    assert 99.9 <= row["latency_ms"]["max"] <= 100.1  # 3 significant digits
    assert 1.99 <= row["latency_ms"]["p50"] <= 2.01


# -- thresholds -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "metrics", "target", "passed"),
    [
        ("p99<250ms", {"p99": 120.0}, None, True),
        ("p99<250ms", {"p99": 300.0}, None, False),
        ("p99<0.1s", {"p99": 120.0}, None, False),
        ("error_rate<1%", {"error_rate": 0.005}, None, True),
        ("error_rate<1%", {"error_rate": 0.02}, None, False),
        ("rate>=0.99*target", {"rate": 995.0}, 1000.0, True),
        ("rate>=0.99*target", {"rate": 900.0}, 1000.0, False),
        ("not_sent==0", {"not_sent": 0.0}, None, True),
    ],
)
def test_thresholds_both_ways(
    text: str, metrics: dict[str, float], target: float | None, passed: bool
) -> None:
    (result,) = evaluate([parse_threshold(text)], metrics, target)
    assert result["passed"] is passed


@pytest.mark.parametrize("text", ["p99", "p98<1ms", "p99<fast", "error_rate<5ms", "p99<5%"])
def test_bad_thresholds_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError):
        parse_threshold(text)


# -- generator ------------------------------------------------------------------------


def test_generated_payloads_are_valid_unique_and_follow_the_mix() -> None:
    gen = PayloadGenerator(DEFAULT_MIX, 5)
    batch = gen.batch(5000)
    counts = Counter(name for name, _ in batch)
    for name, body in batch:
        payload = json.loads(body)
        assert validation_errors(find_event(name), payload) == []  # type: ignore[arg-type]
    unique = [identity(json.loads(b)) for n, b in batch if n != "schema-publish"]
    assert len(set(unique)) == len(unique)
    share = counts["slow-query"] / len(batch)
    assert 0.65 < share < 0.75  # 70 of 100 in the default mix


def test_generator_is_seeded() -> None:
    now = datetime(2024, 1, 1, tzinfo=UTC)

    def batch(seed: int) -> list[tuple[str, bytes]]:
        return PayloadGenerator(DEFAULT_MIX, seed).batch(50, now)

    assert batch(9) == batch(9) and batch(9) != batch(8)


def test_full_payloads_validate() -> None:
    for name, body in PayloadGenerator(DEFAULT_MIX, 2, full=True).batch(500):
        assert validation_errors(find_event(name), json.loads(body)) == []  # type: ignore[arg-type]


def test_mix_parsing() -> None:
    assert parse_mix("slow-query=8,aggregate_batch_started=1") == {
        "slow-query": 8.0,
        "batch-start": 1.0,
    }
    with pytest.raises(UsageError, match="unknown event"):
        parse_mix("slow-qeury=1")
    with pytest.raises(UsageError):
        parse_mix("slow-query=x")


# -- end to end -----------------------------------------------------------------------


def test_open_loop_load_against_a_real_receiver(srv: ScriptedServer, tmp_path: Path) -> None:
    report = tmp_path / "load.json"
    r = cli(
        "load",
        "--to",
        srv.url + "/ok",
        "--rate",
        "150",
        "--duration",
        "2s",
        "--mix",
        "slow-query=3,batch-start=1",
        "--seed",
        "4",
        "--report",
        str(report),
        "--threshold",
        "error_rate<1%",
        "-q",
    )
    assert r.code == 0, r.stdout + r.stderr
    data = json.loads(report.read_text())
    bodies = srv.bodies()
    assert data["sent"] == data["completed"] == data["ok"] == len(bodies) == 300
    assert data["not_sent"] == 0
    ids = [identity(b) for b in bodies]
    assert len(set(ids)) == len(ids)
    kinds = Counter(b["event_type"] for b in bodies)
    assert set(kinds) == {"slow_query_event", "aggregate_batch_started"}
    assert 0.65 < kinds["slow_query_event"] / 300 < 0.85
    for b in bodies:
        assert validation_errors(find_event(b["event_type"]), b) == []  # type: ignore[arg-type]
    assert data["series"] and data["thresholds"][0]["passed"] is True
    assert "latency (intended)" in r.stdout


def test_closed_loop_counts_what_it_sent(srv: ScriptedServer) -> None:
    r = cli("load", "--to", srv.url + "/ok", "--rate", "max", "-d", "1s", "-c", "4", "--json", "-q")
    data = json.loads(r.stdout)
    assert r.code == 0 and data["mode"] == "closed-loop"
    assert data["completed"] == len(srv.seen) > 0 and data["ok"] == data["completed"]


def test_failed_threshold_exits_1_and_html_report(srv: ScriptedServer, tmp_path: Path) -> None:
    report = tmp_path / "load.html"
    r = cli(
        "load",
        "--to",
        srv.url + "/status/500",
        "--rate",
        "50",
        "-d",
        "1s",
        "-q",
        "--threshold",
        "error_rate<1%",
        "--report",
        str(report),
    )
    assert r.code == 1 and "FAIL error_rate<1%" in r.stdout
    page = report.read_text()
    assert page.startswith("<!doctype html>") and "<svg" in page and "500" in page
    assert "<script" not in page and "http" not in page.split("<p>", 1)[0]


def test_workers_spin_only_when_asked_and_a_core_is_left_over() -> None:
    import os

    from atscale_mock.load.config import LoadConfig, LoadPlan

    cores = os.cpu_count() or 1
    url = "http://127.0.0.1:1/"
    config = LoadConfig(LoadPlan(url, [], 1.0, 10, 1, {"slow-query": 1.0}), url, 1)
    assert config.worker(0).spin is False  # by default a worker sleeps on a timerfd
    asked = replace(config, spin=True)

    def on(processes: int) -> LoadConfig:
        return replace(asked, plan=replace(asked.plan, processes=processes))

    assert on(cores).worker(0).spin is False
    assert on(max(1, cores - 1)).worker(0).spin is (cores > 1)


def test_the_summary_says_whether_workers_spun() -> None:
    r = proc("load", "--to", "local", "--rate", "200", "-d", "0.5s", "--json", "-q")
    assert r.code == 0 and json.loads(r.stdout)["spin"] is False
    r = proc("load", "--to", "local", "--rate", "200", "-d", "0.5s", "--json", "-q", "--spin")
    import os

    assert r.code == 0 and json.loads(r.stdout)["spin"] is ((os.cpu_count() or 1) >= 2)


def test_load_to_local_and_processes() -> None:
    r = proc(
        "load", "--to", "local", "--rate", "100", "-d", "1s", "--processes", "2", "--json", "-q"
    )
    assert r.code == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["processes"] == 2 and data["ok"] == data["sent"] == 100


def test_unreachable_receiver_is_counted_not_crashed() -> None:
    r = proc("load", "--to", "http://127.0.0.1:9/x", "--rate", "50", "-d", "1s", "--json", "-q")
    assert r.code == 0
    data = json.loads(r.stdout)
    assert data["errors"].get("refused") == data["sent"] == 50
    no_traceback(r)


@pytest.mark.parametrize(
    "args",
    [
        ["--rate", "-5"],
        ["--rate", "fast"],
        ["--duration", "soon"],
        ["--ramp", "5"],
        ["--processes", "zero"],
        ["--threshold", "p99"],
        ["--mix", "nope=1"],
        ["--report", "x.txt"],
        ["--rate", "10", "--ramp", "1..2"],
    ],
)
def test_bad_load_options_exit_2(args: list[str]) -> None:
    r = proc("load", "--to", "http://127.0.0.1:9/x", "-d", "1s", *args)
    assert r.code == 2, (r.stdout, r.stderr)
    no_traceback(r)


def test_scenario_load_section(srv: ScriptedServer, tmp_path: Path) -> None:
    path = tmp_path / "load.yaml"
    path.write_text(f"""version: 1
defaults: {{to: "{srv.url}/ok"}}
load:
  phases:
    - {{duration: 1s, rate: 40/s}}
    - {{duration: 1s, rate: 40/s, ramp_to: 80/s}}
  connections: 4
  thresholds: [error_rate<1%]
steps:
  - event: prune-result
    repeat: {{count: 3}}
  - event: unpublish
""")
    r = cli("load", str(path), "--json", "-q")
    assert r.code == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["sent"] == len(srv.seen) and 95 <= data["sent"] <= 102  # 40 + 60
    kinds = Counter(b["event_type"] for b in srv.bodies())
    assert set(kinds) == {"aggregate_prune_result", "unpublish_schema_success"}
    assert data["thresholds"][0]["passed"] is True


def test_load_faults_are_counted(srv: ScriptedServer) -> None:
    r = cli(
        "load",
        "--to",
        srv.url + "/ok",
        "--rate",
        "100",
        "-d",
        "1s",
        "--seed",
        "2",
        "--duplicates",
        "0.3",
        "--drop",
        "0.2",
        "--malformed",
        "wrong-content-type",
        "--malformed-rate",
        "0.5",
        "--json",
        "-q",
    )
    assert r.code == 0, r.stderr
    data = json.loads(r.stdout)
    faults = data["faults"]
    assert faults["dropped"] > 0 and faults["duplicate"] > 0
    assert faults["malformed wrong-content-type"] > 0
    types = Counter(s.headers["Content-Type"] for s in srv.seen)
    malformed = faults["malformed wrong-content-type"]  # duplicates of these go out again
    assert malformed <= types["text/plain"] <= malformed + faults["duplicate"]
    bodies = [s.body for s in srv.seen]
    assert len(bodies) - len(set(bodies)) >= faults["duplicate"] - 1


def test_load_reorder_delay_and_jitter(srv: ScriptedServer) -> None:
    r = cli(
        "load",
        "--to",
        srv.url + "/ok",
        "--rate",
        "100",
        "-d",
        "1s",
        "--reorder",
        "5",
        "--delay",
        "0.2",
        "--jitter",
        "0.05",
        "--json",
        "-q",
    )
    assert r.code == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["faults"]["delayed"] == data["sent"] == len(srv.seen) == 100
    assert data["faults"]["reordered"] > 0
    assert data["dispatch_lag_ms"]["p99"] < 50  # delays move the intended time, not the lag


def test_load_delay_needs_an_open_loop() -> None:
    r = cli("load", "--to", "local", "--delay", "0.1", "-d", "1s")
    assert r.code == 2 and "open-loop" in r.stderr


def test_schedule_delays_stay_in_order() -> None:
    import random

    from atscale_mock.load.schedule import delayed

    times = list(delayed(arrivals([Phase(1.0, 200.0)]), 0.5, 0.1, random.Random(1)))
    assert times == sorted(times) and len(times) == 200 and times[0] >= 0.5


def test_in_process_snapshots_merge_without_encoding() -> None:
    hists = new_recorders()
    iv = Interval(index=0)
    iv.sent, iv.latency, iv.service, iv.lag = 2, [0.0005, 0.0015], [0.0004, 0.0014], [1e-6, 2e-6]
    iv.statuses[204] = 2
    totals = Totals(interval=1.0)
    totals.add(iv.snapshot(hists, encode=False))
    assert totals.hists["latency"].get_total_count() == 2
    assert totals.series()[0]["latency_ms"]["max"] >= 1.49 and totals.statuses == {"204": 2}
    assert totals.hists["service"].get_total_count() == 2 and totals.ok == 2


def test_closed_loop_latency_is_also_service_time() -> None:
    hists = new_recorders()
    iv = Interval(index=0)
    iv.sent, iv.latency = 3, [0.001, 0.002, 0.003]
    iv.statuses[200], iv.statuses[500] = 2, 1
    snap = iv.snapshot(hists, encode=False, closed_loop=True)
    assert snap["ok"] == 2
    assert snap["service"].get_total_count() == 3 and snap["lag"].get_total_count() == 0
    assert snap["latency"].get_value_at_percentile(100) == snap["service"].get_value_at_percentile(
        100
    )


# -- scheduler: the timerfd waker and the injected clock ---------------------------------


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="timerfd is Linux's")
def test_waker_calls_back_once_per_arming() -> None:
    from atscale_mock.load.waker import Waker

    async def main() -> list[float]:
        fired: list[float] = []
        done = asyncio.get_running_loop().create_future()

        def callback() -> None:
            fired.append(time.perf_counter())
            if len(fired) < 3:
                waker.arm(0.0005)
            else:
                done.set_result(None)

        waker = Waker.create(callback)
        assert waker is not None
        start = time.perf_counter()
        waker.arm(0.0005)
        await asyncio.wait_for(done, 5)
        waker.close()
        return [t - start for t in fired]

    fired = asyncio.run(main())
    assert len(fired) == 3 and fired == sorted(fired) and fired[0] > 0


def test_open_loop_with_an_injected_clock_sends_the_whole_schedule(srv: ScriptedServer) -> None:
    """A clock that runs ten times as fast as the wall clock: the worker cannot use the
    timerfd (which keeps real time), falls back to timers, and still sends every request
    of the schedule: 2 simulated seconds at 100/s in about 0.2 real seconds."""
    from atscale_mock.load.config import LoadConfig, LoadPlan
    from atscale_mock.load.schedule import Phase
    from atscale_mock.load.worker import Worker

    origin = time.perf_counter()

    def fast_clock() -> float:
        return origin + (time.perf_counter() - origin) * 10

    snapshots: list[dict[str, object]] = []
    plan = LoadPlan(srv.url + "/ok", [Phase(2.0, 100.0)], 2.0, 4, 1, {"slow-query": 1.0})
    run = LoadConfig(plan, plan.to, 3)
    config = replace(run.worker(0), encode=False, spin=True)
    worker = Worker(config, snapshots.append, clock=fast_clock)
    result = asyncio.run(worker.run())
    assert worker.waker is None
    assert result.not_sent == 0
    assert sum(s["sent"] for s in snapshots) == 200 == len(srv.seen)  # type: ignore[misc]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="timerfd is Linux's")
def test_open_loop_without_spinning_dispatches_from_the_timerfd(srv: ScriptedServer) -> None:
    from atscale_mock.load.config import LoadConfig, LoadPlan
    from atscale_mock.load.schedule import Phase
    from atscale_mock.load.worker import Worker

    snapshots: list[dict[str, object]] = []
    plan = LoadPlan(srv.url + "/ok", [Phase(1.0, 300.0)], 1.0, 4, 1, {"slow-query": 1.0})
    run = LoadConfig(plan, plan.to, 3)
    config = replace(run.worker(0), encode=False, spin=False)  # as when every core works
    worker = Worker(config, snapshots.append)
    result = asyncio.run(worker.run())
    assert worker.waker is not None and result.not_sent == 0
    assert sum(s["sent"] for s in snapshots) == 300 == len(srv.seen)  # type: ignore[misc]


def test_a_receiver_holding_every_connection_is_named_as_the_reason(
    srv: ScriptedServer, tmp_path: Path
) -> None:
    page = tmp_path / "r.html"
    slow = srv.url + "/slow/0.1"
    r = cli("load", "--to", slow, "--rate", "40", "-d", "1s", "-c", "1", "--report", str(page))
    assert r.code == 0, r.stdout + r.stderr
    assert "behind schedule" in r.stdout and "all 1 connections busy" in r.stdout
    assert "behind schedule" in page.read_text()
    r = cli(
        "load", "--to", srv.url + "/slow/0.1", "--rate", "40", "-d", "1s", "-c", "1", "-q", "--json"
    )
    data = json.loads(r.stdout)
    assert data["pool_exhausted"] > 0 and data["late"] + data["not_sent"] > 0
    assert "--connections" in data["behind"]


def test_behind_names_the_machine_when_connections_were_free() -> None:
    from atscale_mock.load.summary import behind

    assert behind(True, 10, 0, 0, 50) is None  # closed loop: no schedule to be behind
    assert behind(False, 0, 0, 3, 50) is None  # on time
    text = behind(False, 12, 0, 0, 50)
    assert text is not None and "could not send on time" in text and "--processes" in text
    text = behind(False, 0, 7, 2, 50)
    assert text is not None and "all 50 connections busy" in text


@pytest.mark.parametrize("threshold", [0.5, 4.0, 9.5, 95.0])
def test_prepared_requests_carry_their_exact_content_length(threshold: float) -> None:
    from atscale_mock.load.client import Target

    head = Target.parse("http://127.0.0.1:1/hooks", (("X-Team", "a%b"),)).json_head
    gen = PayloadGenerator(DEFAULT_MIX, 6, head=head, slow_threshold=threshold)
    for name, request in gen.batch(3000):
        top, body = request.split(b"\r\n\r\n", 1)
        lines = top.split(b"\r\n")
        assert lines[0] == b"POST /hooks HTTP/1.1" and b"X-Team: a%b" in lines
        assert lines.count(b"Content-Type: application/json") == 1
        assert int(lines[-1].removeprefix(b"Content-Length: ")) == len(body)
        payload = json.loads(body)
        assert validation_errors(find_event(name), payload) == []  # type: ignore[arg-type]
        if name == "slow-query":
            assert payload["time_taken"] >= threshold


def test_waker_fires_once_per_arm_and_never_spins() -> None:
    """The timerfd is read only when the callback did not arm it again (re-arming
    resets its count): either way it must fire once per arm, and not again on its own."""
    import asyncio
    import sys

    from atscale_mock.load.waker import Waker

    if not sys.platform.startswith("linux"):
        return  # a timerfd is Linux's; elsewhere the worker sleeps by the loop's timers
    fired: list[float] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        waker: Waker | None = None

        def again() -> None:  # re-arms itself four times, then lets the timer rest
            fired.append(loop.time())
            if len(fired) < 5:
                assert waker is not None
                waker.arm(0.005)

        waker = Waker.create(again)
        assert waker is not None
        waker.arm(0.005)
        await asyncio.sleep(0.3)  # a spinning reader would call back thousands of times
        waker.close()

    asyncio.run(main())
    assert len(fired) == 5
    gaps = [b - a for a, b in zip(fired, fired[1:], strict=False)]
    assert all(g >= 0.004 for g in gaps), gaps


LOAD_CASES = {
    "open loop": ["--rate", "150"],
    "two processes": ["--rate", "150", "--processes", "2"],
    "closed loop": ["--rate", "max", "-c", "2"],
    "faults": ["--rate", "150", "--duplicates", "0.2", "--drop", "0.1", "--reorder", "4"],
    "signed": ["--rate", "150", "--sign", "hmac-sha256", "--secret", "k"],
}


@pytest.mark.parametrize("case", sorted(LOAD_CASES))
def test_load_counts_each_event_as_the_receiver_got_it(srv: ScriptedServer, case: str) -> None:
    """The per-event table counts requests written, event by event: against a receiver
    that answers them all, exactly what it got of each event (duplicates sent twice,
    drops never), and the shares add up."""
    r = proc(
        "load", "--to", srv.url + "/ok", "-d", "1s", "-c", "4", "--seed", "5", "--json",
        "--mix", "slow-query=3,batch-start=1,unpublish=1", *LOAD_CASES[case],
        timeout=60,
    )  # fmt: skip
    assert r.code == 0, r.stderr
    data = json.loads(r.stdout)
    got = Counter(find_event(b["event_type"]).name for b in srv.bodies())  # type: ignore[union-attr]
    counted = {e["event"]: e["requests"] for e in data["events"]}
    assert set(counted) == {"slow-query", "batch-start", "unpublish"}
    assert {k: v for k, v in counted.items() if v} == dict(got)
    assert sum(counted.values()) == data["sent"] == len(srv.seen) > 20
    assert abs(sum(e["share"] for e in data["events"]) - 1) < 1e-3
    assert [e["mix_share"] for e in data["events"]] == [0.6, 0.2, 0.2]


def test_load_report_has_a_table_by_event(srv: ScriptedServer, tmp_path: Path) -> None:
    report = tmp_path / "load.html"
    r = proc(
        "load", "--to", srv.url + "/ok", "-d", "1s", "--rate", "60", "--seed", "2",
        "--mix", "slow-query=1,prune-result=1", "--report", str(report),
        timeout=60,
    )  # fmt: skip
    assert r.code == 0, r.stderr
    assert "by event: slow-query " in r.stdout + r.stderr
    page = report.read_text()
    section = page[page.index("<h2>By event</h2>") :]
    got = Counter(find_event(b["event_type"]).name for b in srv.bodies())  # type: ignore[union-attr]
    for name in ("slow-query", "prune-result"):
        cell = section.index(f"<td>{name}</td>")
        assert f">{got[name]}</td>" in section[cell : cell + 200], section[cell : cell + 200]


def test_load_report_says_when_it_started_and_the_command_without_its_secrets(
    srv: ScriptedServer, tmp_path: Path
) -> None:
    report = tmp_path / "load.html"
    before = datetime.now(UTC)
    r = proc(
        "load", "--to", srv.url + "/ok", "-d", "1s", "--rate", "30", "--json",
        "--sign", "hmac-sha256", "--secret", "s3cr3t-load-key",
        "-H", "Authorization: Bearer tok-9f8e7d", "--threshold", "p95<5s",
        "--report", str(report),
        timeout=60,
    )  # fmt: skip
    assert r.code == 0, r.stderr
    data = json.loads(r.stdout)
    started = datetime.fromisoformat(data["started_at"].replace("Z", "+00:00"))
    assert before <= started <= datetime.now(UTC)  # when this run began, not a fixed time
    command = data["command"]
    assert command.startswith("atscale-mock load --to ") and "--threshold 'p95<5s'" in command
    assert "--secret ***" in command and "Authorization: ***" in command
    assert data["latency_ms"]["p95"] > 0 and data["thresholds"][0]["threshold"] == "p95<5s"
    page = report.read_text()
    for secret in ("s3cr3t-load-key", "tok-9f8e7d"):
        assert secret not in page and secret not in r.stdout + r.stderr
    assert "<td>started</td>" in page and data["started_at"] in page
    assert "<td>command</td><td>atscale-mock load --to " in page


def test_the_old_engine_keyword_still_works_and_warns() -> None:
    import atscale_mock as am

    with pytest.warns(DeprecationWarning, match="generator="):
        result = am.load(to="local", duration=0.2, engine="builtin")
    assert result.summary["sent"] > 0
    with pytest.raises(am.UsageError, match="unknown load generator 'k6'"):
        am.load(to="local", duration=0.2, generator="k6")
