"""The library: `import atscale_mock` gives the product, typed, with no CLI involved."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import atscale_mock as am
from atscale_mock.delivery.pipeline import Pipeline

from .httpserver import ScriptedServer

ROOT = Path(__file__).resolve().parent.parent
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_the_done_when_one_liner_prints_true() -> None:
    code = "import atscale_mock as am; print(am.send('slow-query', to='local').ok)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"
    assert done.stderr == ""  # the library prints nothing


def test_every_public_name_resolves_and_the_package_is_typed() -> None:
    for name in am.__all__:
        assert getattr(am, name) is not None, name
    assert (ROOT / "atscale_mock" / "py.typed").exists()
    # functions whose names a submodule shares stay the functions
    import atscale_mock.events.payload  # noqa: F401
    import atscale_mock.load.generator  # noqa: F401

    assert callable(am.payload) and callable(am.load)
    assert am.payload.__module__ == "atscale_mock.events.make"


def test_payload_is_deterministic_and_takes_overrides() -> None:
    a = am.payload("slow-query", seed=3, set={"org_id": "acme"})
    b = am.payload("slow-query", seed=3, set={"org_id": "acme"})
    assert a == b
    assert a["org_id"] == "acme"
    with pytest.raises(am.UnknownEventError):
        am.payload("slow-qeury")
    with pytest.raises(am.UnknownFieldError):
        am.payload("slow-query", set={"nope": 1})


def test_send_returns_typed_records_and_json(srv: ScriptedServer) -> None:
    result = am.send("batch-start", to=srv.url + "/ok", count=3, rate=200, seed=1)
    assert result.ok and result.failed == 0
    assert [d.status for d in result.deliveries] == [200, 200, 200]
    assert all(d.attempts == 1 and d.ok for d in result.deliveries)
    data = result.to_json()
    assert data["event"] == "batch-start" and data["seed"] == 1 and data["deliveries"] == 3
    assert len(srv.seen) == 3


def test_send_failure_is_a_result_not_an_exception(srv: ScriptedServer) -> None:
    result = am.send("slow-query", to=srv.url + "/status/500", retries=am.Retry(1, base=0.01))
    assert not result.ok
    record = result.deliveries[0]
    assert record.status == 500 and record.attempts == 2


def test_send_errors_name_parameters_not_flags() -> None:
    with pytest.raises(am.UsageError, match="^to: unsupported URL scheme"):
        am.send("slow-query", to="ftp://127.0.0.1/x")
    with pytest.raises(am.UsageError, match="count must be at least 1"):
        am.send("slow-query", to="local", count=0)
    with pytest.raises(am.UsageError, match="retries must be from 0 to"):
        am.Retry(10**6)


def test_asend_in_async_code(srv: ScriptedServer) -> None:
    import asyncio

    result = asyncio.run(am.asend("unpublish", to=srv.url + "/ok", count=2))
    assert result.ok and result.summary["deliveries"] == 2


def test_run_plan_and_replay(tmp_path: Path, srv: ScriptedServer) -> None:
    scenario = ROOT / "scenarios" / "batch-lifecycle.yaml"
    planned = am.plan(scenario, seed=7)
    run = am.run(scenario, to=srv.url + "/ok", seed=7, time_scale=1000.0)
    assert run.ok, run.to_json()
    assert run.to_json()["sent"] == len(srv.seen) > 0
    assert json.dumps(planned)  # a JSON document
    log = tmp_path / "sent.jsonl"
    seen: list[am.DeliveryRecord] = []
    sent = am.send("slow-query", to=srv.url + "/ok", count=2, on_attempt=None)
    seen.extend(sent.deliveries)
    srv.clear()
    from atscale_mock.redact import Redactor
    from atscale_mock.report.log import JsonlLog

    with JsonlLog(log, Redactor()) as writer:
        am.send("slow-query", to=srv.url + "/ok", count=2, on_attempt=writer.write)
    bodies = [s.body for s in srv.seen]
    srv.clear()
    replayed = am.replay(log, to=srv.url + "/ok")
    assert replayed.ok and [s.body for s in srv.seen] == bodies


def test_receiver_events_and_wait_for() -> None:
    with am.Receiver() as receiver:
        am.send("batch-result", to=receiver.url + "/hooks")
        got = receiver.wait_for("batch-result", timeout=5)
        assert got.event_type == "aggregate_batch_result" and got.valid
        assert len(receiver.events) == 1
        with pytest.raises(TimeoutError):
            receiver.wait_for("unpublish", timeout=0.1)


def test_an_httpx_transport_goes_through_the_same_pipeline() -> None:
    """In-process apps and mocks take httpx; signing, headers and retries still apply."""
    import httpx

    from atscale_mock.delivery.signing import verify

    calls: list[tuple[httpx.Request, bytes]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append((request, request.read()))
        return httpx.Response(503 if len(calls) == 1 else 204)

    result = am.send(
        "slow-query",
        to="http://app.invalid/hooks/{org_id}",
        set={"org_id": "acme"},
        headers={"X-One": "1", "X-Two": "2"},
        retries=am.Retry(1, base=0.001),
        sign=am.Signing("standard-webhooks", SECRET),
        transport=httpx.MockTransport(handler),
    )
    assert result.ok and result.deliveries[0].attempts == 2
    for request, body in calls:
        assert request.url.path == "/hooks/acme"
        assert request.headers["x-one"] == "1" and request.headers["x-two"] == "2"
        assert verify(SECRET, dict(request.headers), body) == "valid"
    assert Pipeline(url="http://127.0.0.1:1/").sender.__class__.__name__ == "PoolSender"


def test_library_installs_no_signal_handler_and_leaves_gc_alone(srv: ScriptedServer) -> None:
    import gc
    import signal

    before = signal.getsignal(signal.SIGTERM)
    frozen = gc.get_freeze_count()
    am.run(ROOT / "scenarios" / "slow-queries.yaml", to=srv.url + "/ok", seed=1, time_scale=1e6)
    am.send("slow-query", to=srv.url + "/ok")
    assert signal.getsignal(signal.SIGTERM) is before
    assert gc.get_freeze_count() == frozen


@pytest.mark.parametrize(("sync", "aio"), [("send", "asend"), ("run", "arun")])
def test_async_twins_take_the_same_typed_keywords(sync: str, aio: str) -> None:
    import inspect

    a, b = inspect.signature(getattr(am, sync)), inspect.signature(getattr(am, aio))
    # names, kinds, defaults and annotations, parameter by parameter
    assert list(a.parameters.values()) == list(b.parameters.values())
    assert all(p.kind is not p.VAR_KEYWORD for p in a.parameters.values())  # no **options
    assert all(p.annotation is not p.empty for p in a.parameters.values())
    assert a.return_annotation == b.return_annotation != a.empty


def _matches(value: object, hint: object) -> bool:
    """Does ``value`` have the shape ``hint`` says (TypedDicts checked key by key)?"""
    import types
    import typing

    if typing.is_typeddict(hint):
        hints = typing.get_type_hints(hint)
        required = hint.__required_keys__  # type: ignore[attr-defined]
        return (
            isinstance(value, dict)
            and required <= value.keys() <= hints.keys()
            and all(_matches(value[k], hints[k]) for k in value)
        )
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, h) for h in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if origin is list:
        (item,) = typing.get_args(hint)
        return isinstance(value, list) and all(_matches(v, item) for v in value)
    if origin is dict:
        k, v = typing.get_args(hint)
        return isinstance(value, dict) and all(
            _matches(x, k) and _matches(y, v) for x, y in value.items()
        )
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint)  # type: ignore[arg-type]


def test_every_result_has_a_typed_summary_and_the_same_names(srv: ScriptedServer) -> None:
    import typing

    sent = am.send("slow-query", to=srv.url + "/ok", count=3, seed=1)
    ran = am.run(ROOT / "scenarios" / "batch-lifecycle.yaml", to=srv.url + "/ok", seed=7,
                 time_scale=1000.0)  # fmt: skip
    loaded = am.load(to=srv.url + "/ok", rate=40, duration=1.0, thresholds=["p99<5s"])
    for result, record in ((sent, am.DeliverySummary), (ran, am.DeliverySummary),
                           (loaded, am.LoadSummary)):  # fmt: skip
        hints = typing.get_type_hints(record)
        wrong = {k: v for k, v in result.summary.items() if not _matches(v, hints.get(k))}
        assert _matches(result.summary, record), (type(result).__name__, wrong)
        assert result.ok is True and result.failed == 0 and result.interrupted is False
        assert isinstance(result.seed, int) and result.seed == result.to_json()["seed"]
        assert isinstance(result.to_json(), dict)
    assert typing.get_type_hints(am.SendResult)["summary"] is am.DeliverySummary
    assert typing.get_type_hints(am.RunResult.summary.fget)["return"] is am.DeliverySummary
    assert sent.summary["deliveries"] == 3 and ran.summary["deliveries"] == ran.sent
    # a load's series is its summary's, row by row, and leaves to_json() lean
    assert loaded.series and loaded.series == loaded.summary["series"]
    assert sum(r["completed"] for r in loaded.series) == loaded.summary["completed"]
    assert "series" not in loaded.to_json()
    assert [t["threshold"] for t in loaded.thresholds] == ["p99<5s"]
    # the checker is not blind: a wrong type or a missing key is seen
    assert not _matches({**sent.summary, "ok": "3"}, am.DeliverySummary)
    assert not _matches({k: v for k, v in sent.summary.items() if k != "ok"}, am.DeliverySummary)


TWIN_USE = """\
import atscale_mock as am


async def main() -> None:
    reveal_type(await am.asend("slow-query", to="local", count=2))
    await am.asend("slow-query", to="local", count="2")
    await am.asend("slow-query", to="local", cuont=2)


reveal_type(am.run("x.yaml", to="local", time_scale=2.0))
am.run("x.yaml", to="local", time_scale="fast")
am.run("x.yaml", nope=1)
"""


@pytest.mark.dev_tools
def test_a_type_checker_sees_the_twins_keywords(tmp_path: Path) -> None:
    """mypy, from a user's file: asend and run check their keywords as send and arun do
    (a wrong type and a misspelt keyword are errors) and return the typed results."""
    (tmp_path / "use.py").write_text(TWIN_USE)
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache"), "use.py"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
        # an editable install is found by an import hook mypy does not run: say where
        env={**os.environ, "MYPYPATH": str(ROOT)},
    )  # fmt: skip
    lines = done.stdout.splitlines()
    # (atscale_mock's own imports of untyped libraries, found through MYPYPATH, are its
    # configuration's business, not the user's file's)
    errors = {
        int(ln.split(":")[1]) for ln in lines if ln.startswith("use.py:") and ": error:" in ln
    }
    assert errors == {6, 7, 11, 12}, done.stdout
    assert 'Revealed type is "atscale_mock.api.results.SendResult"' in done.stdout
    assert 'Revealed type is "atscale_mock.scenario.result.RunResult"' in done.stdout
    assert 'Unexpected keyword argument "cuont" for "asend"' in done.stdout


def test_a_twin_refuses_a_missing_or_unknown_keyword_like_any_function() -> None:
    import asyncio
    import inspect

    with pytest.raises(TypeError, match="'to'"):
        asyncio.run(am.asend("slow-query"))
    with pytest.raises(TypeError, match="'cuont'"):
        asyncio.run(am.asend("slow-query", to="local", cuont=2))
    with pytest.raises(TypeError, match="'nope'"):
        am.run(ROOT / "scenarios" / "batch-lifecycle.yaml", nope=1)
    assert inspect.iscoroutinefunction(am.asend) and not inspect.iscoroutinefunction(am.run)
    assert am.asend.__name__ == "asend" and "async code" in (am.asend.__doc__ or "")


CALLBACK_USE = """\
import atscale_mock as am


def on_attempt(attempt: am.Attempt) -> None:
    request: am.Request = attempt.request
    outcome: am.Outcome = attempt.outcome
    print(request.url, outcome.status, outcome.error_class)


def on_result(result: am.DeliveryResult) -> None:
    print(result.passed, result.attempts + 1, len(result.tries))


def on_check(result: am.CheckResult) -> None:
    print(result.name, result.verdict)


def on_received(got: am.Received) -> None:
    print(got)


am.send("slow-query", to="local", on_attempt=on_attempt, on_received=on_received)
am.run("s.yaml", to="local", on_attempt=on_attempt, on_result=on_result)
am.check("local", on_check=on_check)
wrong: am.Outcome = 5
to: am.Target = "local"
extra: am.JSON = {"cube_id": None, "tags": ["a", 1, 2.5, True]}
am.send("slow-query", to=to, set={"cube_id": None}, transport=None)
chosen: am.Transport | None = None
am.run("s.yaml", to=to, transport=chosen, vars={"project": "p1"})
"""


@pytest.mark.dev_tools
def test_a_users_callbacks_annotated_with_the_exported_types_type_check(
    tmp_path: Path,
) -> None:
    (tmp_path / "use.py").write_text(CALLBACK_USE)
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache"),
         "use.py"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
        env={**os.environ, "MYPYPATH": str(ROOT)},
    )  # fmt: skip
    errors = [ln for ln in done.stdout.splitlines() if ln.startswith("use.py:")]
    # the one planted error, and nothing else: every exported type is what it names
    assert len(errors) == 1 and errors[0].startswith("use.py:25:"), done.stdout


def test_send_and_run_name_a_deliverys_facts_alike(srv: ScriptedServer) -> None:
    """event, label, status, error_class, error and latency read the same on a send's
    record and a run's result (the last attempt decides)."""
    sent = am.send("slow-query", to=srv.url + "/status/503", retries=0).deliveries[0]
    ran = am.run(
        "version: 1\nsteps:\n  - event: slow-query\n", to=srv.url + "/status/503", retries=0
    ).deliveries[0]
    for record in (sent, ran):
        assert record.event == "slow-query"
        assert record.status == 503 and record.error_class is None
        assert record.latency > 0
    refused = am.run("version: 1\nsteps:\n  - event: slow-query\n", to="http://127.0.0.1:9/x")
    assert refused.deliveries[0].error_class == "refused" and refused.deliveries[0].error


def test_send_run_replay_and_check_give_one_per_delivery_record(
    srv: ScriptedServer, tmp_path: Path
) -> None:
    """.event, .status, .error, .attempts (a number everywhere) read alike on what each
    way in returns per delivery; run's --json has the same counts as send's."""
    log = tmp_path / "sent.jsonl"
    url = srv.url + "/status/503"
    from .cli_helpers import proc

    sent = am.send("slow-query", to=url, retries=1).deliveries[0]
    assert proc("send", "slow-query", "--to", url, "--log", str(log)).code == 1
    ran = am.run("version: 1\nsteps:\n  - event: slow-query\n", to=url, retries=1)
    replayed = am.replay(log, to=url).deliveries[0]
    probe = am.check(url, only=["events"], seed=1).result("events").probes[0]
    for record in (sent, ran.deliveries[0], replayed, probe):
        assert record.event in ("slow-query", "batch-start"), record
        assert record.status == 503 and record.error_class is None
        assert isinstance(record.attempts, int) and not isinstance(record.attempts, bool)
    assert sent.attempts == ran.deliveries[0].attempts == 2 and probe.attempts == 1
    data = ran.to_json(deliveries=False)
    assert data["deliveries"] == 1 and data["duplicates"] == 0 and data["dropped"] == 0
    assert not {"dropped_planned", "duplicates_sent"} & set(data)
    assert set(am.send("slow-query", to=url).to_json()) - {"event", "url", "schedule"} <= set(data)


def test_a_scenario_error_says_its_first_problem_in_its_message(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nsteps:\n  - event: slow-qery\n  - event: nope\n")
    with pytest.raises(am.ScenarioError) as caught:
        am.run(bad, to="local")
    text = str(caught.value)
    assert text.startswith(f"{bad}:3:")  # file:line:column, what pytest prints
    assert "slow-qery" in text and "and 1 more problem" in text
    assert "did you mean 'slow-query'" in caught.value.hint
    assert len(caught.value.problems) == 2


@pytest.mark.parametrize(("rate", "per_second"), [("20/s", 20.0), ("1200/m", 20.0), ("20", 20.0)])
def test_the_librarys_rate_takes_the_clis_spellings(
    srv: ScriptedServer, rate: str, per_second: float
) -> None:
    result = am.send("slow-query", to=srv.url, rate=rate, count=3)
    assert result.summary["ok"] == 3 and len(srv.seen) == 3
    assert am.api.options.as_rate(rate) == per_second


@pytest.mark.parametrize("rate", ["fast", "0/s", "-1", float("inf"), float("nan"), "nan", 0])
def test_a_bad_library_rate_is_an_error_naming_rate(rate: object) -> None:
    with pytest.raises(am.AtscaleMockError) as caught:
        am.send("slow-query", to="local", rate=rate)  # type: ignore[arg-type]
    assert caught.value.field == "rate" and str(caught.value).startswith("rate")
