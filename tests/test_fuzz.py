"""The fuzz suite: hypothesis drives command-line option values, scenario documents
and control-API bodies. Whatever it finds, nothing ends in a traceback, every exit code
is a documented one, and the engine's API never answers 500. Bounded: small counts, a
dead or built-in receiver on 127.0.0.1, and --max-time on everything that sends."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from atscale_mock.errors import AtscaleMockError

from .cli_helpers import cli

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

_BAD = st.sampled_from(
    ["0", "-1", "nan", "inf", "-inf", "1e309", "1e-9", "abc", "", " 3", "\u0663", "1e9"]
)
_GOOD = st.sampled_from(["1", "2", "0.05", "0.3", "0.5", "3"])
NUMBERS = st.one_of(_GOOD, _GOOD, _GOOD, _BAD)  # mostly past validation, into the code
URLS = st.sampled_from(
    [
        "local",
        "http://127.0.0.1:9/x",  # nothing listens there: refused at once
        "http://[::1",
        "http://127.0.0.1:99999/",
        "ftp://127.0.0.1/",
        "http://",
        "127.0.0.1:9",
        "http://user:pw@127.0.0.1:9/{org_id}",
        "http://127.0.0.1:9/{nope}",
        "http://127.0.0.1:9/\x1b[2J",
    ]
)
TEXT = st.text(max_size=20)
GOOD_TEXT = {
    "--header": st.sampled_from(["X-A: 1", "Authorization: Bearer t0k", "X-Empty:"]),
    "--set": st.sampled_from(["context.project_id=p1", "cube_id=null", "status=true"]),
    "--clock": st.sampled_from(["2024-01-01T00:00:00Z", "now"]),
    "--error": TEXT,
    "--org": TEXT,
}


def _ok(code: int, output: str) -> None:
    event(f"exit {code}")  # --hypothesis-show-statistics: how many got past validation
    assert code in (0, 1, 2), (code, output)
    assert "Traceback" not in output


@FUZZ
@given(
    to=st.one_of(st.sampled_from(["local", "http://127.0.0.1:9/x"]), URLS),
    count=st.sampled_from(["1", "2", "1", "2", "0", "-3", "nan", "x"]),
    options=st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "--rate",
                    "--timeout",
                    "--retries",
                    "--delay",
                    "--jitter",
                    "--duplicates",
                    "--drop",
                    "--malformed-rate",
                    "--slow-threshold",
                    "--retry-time-scale",
                ]
            ),
            NUMBERS,
        ),
        max_size=4,
    ),
    texts=st.lists(
        st.tuples(st.sampled_from(["--header", "--set", "--clock", "--error", "--org"]), TEXT),
        max_size=1,
    ),
    good=st.lists(
        st.sampled_from(sorted(GOOD_TEXT)).flatmap(
            lambda name: st.tuples(st.just(name), GOOD_TEXT[name])
        ),
        max_size=3,
    ),
)
def test_send_options(
    to: str, count: str, options: list[Any], texts: list[Any], good: list[Any]
) -> None:
    args = ["send", "unpublish", "--to", to, "-n", count, "--max-time", "3", "--json"]
    for name, value in [*options, *texts, *good]:
        args += [name, value]
    r = cli(*args)
    _ok(r.code, r.stdout + r.stderr)


@FUZZ
@given(
    options=st.lists(
        st.tuples(
            st.sampled_from(["--rate", "--connections", "--processes", "--timeout", "--drop"]),
            NUMBERS,
        ),
        max_size=3,
    ),
    duration=st.one_of(
        st.sampled_from(["0.2s", "200ms", "0.1s"]),
        st.sampled_from(["0", "-1s", "nan", "inf", "1e309s", "abc"]),
    ),
    header=st.one_of(GOOD_TEXT["--header"], TEXT),
)
def test_load_options(options: list[Any], duration: str, header: str) -> None:
    args = ["load", "--to", "local", "-d", duration, "-q", "--json", "-H", header]
    for name, value in options:
        args += [name, value]
    r = cli(*args)
    _ok(r.code, r.stdout + r.stderr)


@FUZZ
@given(
    options=st.lists(
        st.tuples(st.sampled_from(["--delay", "--fail-rate", "--status", "--port"]), NUMBERS),
        max_size=3,
    ),
    duration=st.one_of(
        st.sampled_from(["0.05", "0.1"]), st.sampled_from(["0", "-1", "nan", "inf", "x"])
    ),
    host=st.sampled_from(["127.0.0.1", "::1", "localhost", "256.0.0.1", "", "[::1]"]),
)
def test_receive_options(options: list[Any], duration: str, host: str) -> None:
    args = ["receive", "--duration", duration, "--host", host, "--port", "0"]
    for name, value in options:
        if name != "--port":
            args += [name, value]
    r = cli(*args)
    _ok(r.code, r.stdout + r.stderr)


# -- scenario documents ---------------------------------------------------------------

LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
    st.sampled_from(
        ["slow-query", "1s", "-5ms", "10/s", "${env:NOPE}", "${secret:X:-y}", "${vars.a}",
         "${steps.a.id}", "2xx", "p99<1ms", "0"]
    ),
)  # fmt: skip
VALUES = st.recursive(
    LEAF,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(TEXT | st.sampled_from(["id"]), inner, max_size=3),
    ),
    max_leaves=12,
)
STEP_KEYS = ["id", "event", "set", "repeat", "after", "at", "expect", "failed", "full",
             "sign", "duplicates", "drop", "malformed", "batch", "queries", "publish",
             "count", "rate", "every", "jitter", "status", "json", "max_latency"]  # fmt: skip


@st.composite
def scenario_docs(draw: Any) -> Any:
    step = draw(st.dictionaries(st.sampled_from(STEP_KEYS), VALUES, max_size=5))
    doc = {
        "version": draw(st.sampled_from([1, "1", 2, None])),
        "name": draw(TEXT),
        "steps": draw(st.lists(st.just(step) | VALUES, max_size=3)),
    }
    for key in ("defaults", "vars", "faults", "engine", "time_scale", "load", "clock"):
        if draw(st.booleans()):
            doc[key] = draw(VALUES)
    return doc


@FUZZ
@given(scenario_docs())
def test_scenario_documents(doc: Any) -> None:
    from atscale_mock.scenario.plan import plan_document
    from atscale_mock.scenario.reading import parse_scenario

    try:
        text = yaml.safe_dump(doc, allow_unicode=True)
    except yaml.YAMLError:
        return
    try:
        scenario = parse_scenario(text.encode(), "<fuzz>", environ={})
    except AtscaleMockError as exc:
        assert exc.render()
        event("refused")
        return
    event("loaded")
    from datetime import UTC, datetime

    plan_document(scenario, 1, datetime(2024, 1, 1, tzinfo=UTC), "http://127.0.0.1:9/")


_BASES = sorted((Path(__file__).parent.parent / "scenarios").glob("*.yaml"))


@FUZZ
@given(
    base=st.sampled_from(_BASES),
    changes=st.lists(
        st.tuples(st.integers(0, 5), st.sampled_from(STEP_KEYS + ["defaults", "vars"]), VALUES),
        min_size=1,
        max_size=2,
    ),
)
def test_scenario_mutations(base: Path, changes: list[Any]) -> None:
    """A valid example scenario with a field or two replaced: most still load, and
    every one either plans or is refused with a message."""
    from datetime import UTC, datetime

    from atscale_mock.scenario.plan import plan_document
    from atscale_mock.scenario.reading import parse_scenario

    doc = yaml.safe_load(base.read_text())
    for index, key, value in changes:
        steps = doc.get("steps") or []
        if key in ("defaults", "vars") or not steps:
            doc[key] = value
        else:
            step = steps[index % len(steps)]
            if isinstance(step, dict):
                step[key] = value
    try:
        text = yaml.safe_dump(doc, allow_unicode=True)
    except yaml.YAMLError:
        return
    try:
        scenario = parse_scenario(text.encode(), str(base), environ={})
    except AtscaleMockError as exc:
        assert exc.render()
        event("refused")
        return
    event("loaded")
    plan_document(scenario, 1, datetime(2024, 1, 1, tzinfo=UTC), "http://127.0.0.1:9/")


@FUZZ
@given(st.binary(max_size=200) | TEXT.map(str.encode))
def test_scenario_bytes(raw: bytes) -> None:
    from atscale_mock.scenario.reading import parse_scenario

    try:
        parse_scenario(raw, "<fuzz>", environ={})
    except AtscaleMockError as exc:
        assert exc.render()


# -- the engine's control API ----------------------------------------------------------

BODIES = st.recursive(
    st.one_of(LEAF, URLS),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(
                ["url", "events", "project_id", "headers", "signing", "scheme", "secret",
                 "retry", "retries", "schedule", "timeout", "set", "seed", "failed", "full",
                 "action", "count", "seconds", "status", "delay", "webhook_id", "name",
                 "scenario", "continuous", "time_scale", "prune"]
            ) | TEXT,
            inner,
            max_size=4,
        ),
    ),
    max_leaves=10,
)  # fmt: skip


@FUZZ
@given(
    path=st.sampled_from(
        ["/_mock/webhooks", "/_mock/events/slow-query", "/_mock/events/nope", "/_mock/faults",
         "/_mock/scenarios", "/_mock/lifecycles/batch", "/_mock/deliveries/x/replay"]
    ),
    body=BODIES,
    query=st.sampled_from(["", "?status=x", "?limit=-1", "?since=abc", "?event=nope", "?after=z",
                           "?after=99999999999999999999999", "?limit=99999999999999999999999"]),
)  # fmt: skip
def test_control_api_never_answers_500(path: str, body: Any, query: str) -> None:
    import asyncio

    import httpx

    from atscale_mock.serve.server import build

    try:
        data = json.dumps(body, allow_nan=True).encode()
    except (TypeError, ValueError):
        return
    engine, app = build(journal=None)

    async def go() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            json_body = {"Content-Type": "application/json"}
            answer = await client.post(path, content=data, headers=json_body)
            event(f"answer {answer.status_code}")
            assert answer.status_code in (201, 202, 204, 404, 422), (path, body, answer.text)
            listed = await client.get("/_mock/deliveries" + query)
            assert listed.status_code in (200, 404, 422), (query, listed.text)
        await engine.close()

    try:
        asyncio.run(go())
    finally:
        engine.journal.close()
        engine.journal.path.unlink(missing_ok=True)
