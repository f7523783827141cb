"""The pytest plugin as a receiver's author meets it: a fresh test file in a temporary
directory, run by pytest in a subprocess, with the plugin found through its entry
point (no conftest, no import of ours in the test file but the fixtures)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook

from atscale_mock.receiver.local import Behaviour, Received, Receiver

ROOT = Path(__file__).resolve().parent.parent
WHSEC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

FASTAPI_APP = f'''
from fastapi import FastAPI, HTTPException, Request
from standardwebhooks.webhooks import Webhook

app = FastAPI()
seen = []

@app.post("/webhooks/atscale")
async def receive(request: Request):
    body = await request.body()
    try:
        payload = Webhook("{WHSEC}").verify(body, dict(request.headers))
    except Exception:
        raise HTTPException(status_code=401, detail="bad signature")
    seen.append(payload)
    return {{"ok": True}}

broken = FastAPI()

@broken.post("/hooks")
async def fail(request: Request):
    raise HTTPException(status_code=500, detail="database is down")
'''


def _pytest(
    tmp: Path, *args: str, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=tmp,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.dev_tools
def test_fastapi_app_in_process_passes_and_a_500_fails_readably(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(FASTAPI_APP)
    (tmp_path / "test_hooks.py").write_text(f'''
from app import app, broken, seen

def test_slow_query_is_accepted(atscale_engine):
    result = atscale_engine.send(
        "slow-query", to=app, path="/webhooks/atscale",
        sign=__import__("atscale_mock").Signing("standard-webhooks", "{WHSEC}"),
    )
    assert result.deliveries[0].status == 200
    assert seen[-1]["event_type"] == "slow_query_event"

def test_forged_signature_is_rejected(atscale_engine):
    import atscale_mock as am
    atscale_engine.send(
        "slow-query", to=app, path="/webhooks/atscale", expect_status="401",
        sign=am.Signing("standard-webhooks", "{WHSEC}", bad=True),
    )

def test_a_lifecycle(atscale_engine):
    import atscale_mock as am
    start, result, prune = atscale_engine.lifecycle(
        to=app, path="/webhooks/atscale", prune=True,
        sign=am.Signing("standard-webhooks", "{WHSEC}"),
    )
    assert len({{p["id"] for p in seen[-3:]}}) == 1

def test_broken_app(atscale_engine):
    atscale_engine.send("batch-result", to=broken, path="/hooks", seed=11)
''')
    done = _pytest(tmp_path, "-q")
    assert "1 failed, 3 passed" in done.stdout, done.stdout + done.stderr
    failure = done.stdout.split("FAILURES")[1]
    assert "expected status 2xx, got 500" in failure
    assert "database is down" in failure  # the receiver's answer
    assert '"event_type": "aggregate_batch_result"' in failure  # the payload
    assert "reproduce with seed=11" in failure
    assert "Traceback" not in failure


@pytest.mark.dev_tools
def test_the_same_tests_against_a_live_uvicorn_url(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(FASTAPI_APP)
    (tmp_path / "conftest.py").write_text("""
import socket, threading, time
import pytest, uvicorn
from app import app

@pytest.fixture(scope="session", autouse=True)
def server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/webhooks/atscale"
    srv.should_exit = True
    thread.join(5)
""")
    (tmp_path / "test_live.py").write_text(f'''
import atscale_mock as am

def test_live(atscale_engine, server):
    sign = am.Signing("standard-webhooks", "{WHSEC}")
    atscale_engine.send("batch-start", to=server, count=3, rate=50, sign=sign)
    atscale_engine.send("batch-start", to=server, expect_status="401")  # unsigned

def test_live_failure(atscale_engine, server):
    atscale_engine.send("unpublish", to=server)  # unsigned: 401
''')
    done = _pytest(tmp_path, "-q")
    assert "1 failed, 1 passed" in done.stdout, done.stdout + done.stderr
    assert "expected status 2xx, got 401" in done.stdout and "bad signature" in done.stdout


def test_flask_app_and_the_receiver_and_sign_fixtures(tmp_path: Path) -> None:
    (tmp_path / "test_flask.py").write_text(f'''
import json
import urllib.request
from flask import Flask, request
from standardwebhooks.webhooks import Webhook

app = Flask("receiver")
got = []

@app.post("/hooks/<org>")
def hooks(org):
    got.append((org, request.get_json()))
    return {{"ok": True}}

def test_flask_in_process(atscale_engine):
    atscale_engine.send("unpublish", to=app, path="/hooks/{{org_id}}", count=2)
    assert [org for org, _ in got] == ["default", "default"]

def test_forwarding_code(atscale_receiver):
    # code under test that re-emits webhooks; here, a plain POST
    body = json.dumps({{"event_type": "slow_query_event"}}).encode()
    urllib.request.urlopen(urllib.request.Request(
        atscale_receiver.url, data=body, headers={{"Content-Type": "application/json"}}))
    atscale_receiver.wait_for("slow_query_event", timeout=5)
    atscale_receiver.assert_received("slow-query", count=1)

def test_signing_my_own_request(atscale_sign):
    payload = {{"event_type": "unpublish_schema_success"}}
    headers = atscale_sign(payload, "{WHSEC}")
    body = json.dumps(payload, separators=(",", ":")).encode()
    assert Webhook("{WHSEC}").verify(body, headers) == payload

def test_assert_all_signed_fails_on_unsigned(atscale_receiver, atscale_engine):
    atscale_engine.send("unpublish", to=atscale_receiver.url)
    atscale_receiver.assert_all_signed()
''')
    done = _pytest(tmp_path, "-q")
    assert "1 failed, 3 passed" in done.stdout, done.stdout + done.stderr
    assert "unpublish_schema_success to /hooks is not signed" in done.stdout


def test_target_from_the_command_line_and_ini(tmp_path: Path) -> None:
    (tmp_path / "test_t.py").write_text("""
def test_target(atscale_engine):
    assert atscale_engine.send("slow-query").ok
""")
    with Receiver() as receiver:
        done = _pytest(tmp_path, "-q", "--atscale-target", receiver.url + "/hooks")
        assert "1 passed" in done.stdout, done.stdout
        (tmp_path / "pytest.ini").write_text(f"[pytest]\natscale_target = {receiver.url}/h\n")
        assert "1 passed" in _pytest(tmp_path, "-q").stdout
        assert len(receiver.events) == 2
    (tmp_path / "pytest.ini").unlink()
    done = _pytest(tmp_path, "-q")
    assert "no target" in done.stdout + done.stderr


def test_scenario_files_as_items_with_junit(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    junit = tmp_path / "x.xml"
    with Receiver() as receiver:
        done = _pytest(
            tmp_path,
            "--atscale-scenarios",
            "scenarios/*.yaml",
            "--atscale-target",
            receiver.url + "/hooks",
            "--junitxml",
            str(junit),
            "-q",
            timeout=300,
        )
    files = sorted(p.stem for p in (tmp_path / "scenarios").glob("*.yaml"))
    assert f"{len(files)} passed" in done.stdout, done.stdout + done.stderr
    cases = list(ET.parse(junit).getroot().iter("testcase"))
    assert sorted(c.get("name") for c in cases) == files
    # -k picks scenarios by name
    picked = _pytest(tmp_path, "--atscale-scenarios", "scenarios/*.yaml", "--atscale-target",
                     "http://127.0.0.1:9/x", "-k", "slow", "--collect-only", "-q")  # fmt: skip
    assert "slow-queries" in picked.stdout and "engine-day" not in picked.stdout
    # pytest's own -k expressions: not, or
    collect = ["--atscale-scenarios", "scenarios/*.yaml", "--atscale-target",
               "http://127.0.0.1:9/x", "--collect-only", "-q"]  # fmt: skip
    for expression, wanted in (
        ("not slow", set(files) - {"slow-queries"}),
        ("slow or engine", {"slow-queries", "engine-day"}),
    ):
        picked = _pytest(tmp_path, *collect, "-k", expression)
        shown = {line.rpartition("::")[2] for line in picked.stdout.splitlines() if "::" in line}
        assert shown == wanted, (expression, picked.stdout)


def test_a_failing_scenario_item_names_the_step_and_its_line(tmp_path: Path) -> None:
    (tmp_path / "neg.yaml").write_text("""version: 1
name: neg
steps:
  - id: first
    event: slow-query
  - id: must-be-rejected
    event: batch-start
    expect: {status: 401}
""")
    with Receiver() as receiver:
        done = _pytest(tmp_path, "--atscale-scenarios", "neg.yaml", "--atscale-target",
                       receiver.url + "/hooks", "-q")  # fmt: skip
    assert "1 failed" in done.stdout
    assert "step must-be-rejected" in done.stdout and "neg.yaml:6" in done.stdout
    assert "expected status 401, got 200" in done.stdout


def test_a_flow_style_step_is_named_at_its_own_line(tmp_path: Path) -> None:
    """A step written as a flow mapping (``- {id: ..., event: ...}``) has no ``id:`` line
    of its own; the failure still points at the line the step is on, never ``:0``."""
    (tmp_path / "flow.yaml").write_text("""version: 1
name: flow
steps:
  - {id: first, event: slow-query}
  - {id: wants-401, event: batch-start, expect: {status: 401}}
  - id: in-parallel
    parallel:
      - {id: branch-ok, event: slow-query}
      - {id: branch-bad, event: batch-result, expect: {status: 418}}
""")
    with Receiver() as receiver:
        done = _pytest(tmp_path, "--atscale-scenarios", "flow.yaml", "--atscale-target",
                       receiver.url + "/hooks", "-q")  # fmt: skip
    assert "1 failed" in done.stdout, done.stdout
    assert "step wants-401" in done.stdout and "flow.yaml:5" in done.stdout, done.stdout
    assert "step branch-bad" in done.stdout and "flow.yaml:9" in done.stdout, done.stdout
    assert "flow.yaml:0" not in done.stdout


SIGNED_SCENARIO = """version: 1
name: signed
steps:
  - {id: one, event: slow-query}
  - {id: two, event: batch-start}
"""
WHSEC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_scenario_items_sign_with_atscale_sign(tmp_path: Path) -> None:
    """--atscale-sign (key from $ATSCALE_MOCK_SECRET) signs every scenario delivery: the
    reference verifier accepts each, byte for byte; unsigned, the same item fails at a
    receiver that verifies; the key never shows in pytest's output."""
    (tmp_path / "signed.yaml").write_text(SIGNED_SCENARIO)
    got: list[Received] = []
    behaviour = Behaviour(secret=WHSEC)
    args = ["--atscale-scenarios", "signed.yaml", "-q", "-rA"]
    env = {**os.environ, "ATSCALE_MOCK_SECRET": WHSEC}
    with Receiver(behaviour=behaviour, on_request=got.append) as receiver:
        target = ["--atscale-target", receiver.url + "/hooks"]
        signed = _pytest(tmp_path, *args, *target, "--atscale-sign", "standard-webhooks", env=env)
        verified = [Webhook(WHSEC).verify(r.body, r.headers) for r in got]
        unsigned = _pytest(tmp_path, *args, *target, env=env)
    assert "1 passed" in signed.stdout, signed.stdout + signed.stderr
    assert len(verified) == 2 and {r.event for r in got[:2]} == {"slow-query", "batch-start"}
    assert all(r.signature == "valid" for r in got[:2])
    assert "1 failed" in unsigned.stdout and "401" in unsigned.stdout, unsigned.stdout
    for out in (signed.stdout + signed.stderr, unsigned.stdout + unsigned.stderr):
        assert WHSEC.removeprefix("whsec_") not in out


def test_atscale_sign_without_a_key_or_with_a_bad_mode_stops_the_session(tmp_path: Path) -> None:
    (tmp_path / "signed.yaml").write_text(SIGNED_SCENARIO)
    env = {k: v for k, v in os.environ.items() if k != "ATSCALE_MOCK_SECRET"}
    base = ["--atscale-scenarios", "signed.yaml", "--atscale-target", "http://127.0.0.1:9/x"]
    no_key = _pytest(tmp_path, *base, "--atscale-sign", "standard-webhooks", env=env)
    assert no_key.returncode == 4, no_key.stdout + no_key.stderr  # pytest's usage error
    assert "--atscale-sign needs --atscale-secret KEY or $ATSCALE_MOCK_SECRET" in no_key.stderr
    bad_mode = _pytest(tmp_path, *base, "--atscale-sign", "md5", "--atscale-secret", "k", env=env)
    assert bad_mode.returncode == 4
    assert "--atscale-sign md5: unknown signing scheme 'md5'" in bad_mode.stderr, bad_mode.stderr
    assert "Traceback" not in no_key.stderr + bad_mode.stderr


def test_the_plugin_costs_nothing_until_used() -> None:
    """Importing the plugin (every pytest session does) loads none of the library."""
    code = (
        "import sys, atscale_mock.pytest_plugin; "
        "print(sorted(m for m in ('httpx', 'faker', 'jsonschema', 'atscale_mock.api.send',"
        " 'atscale_mock.receiver.local') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


@pytest.mark.dev_tools
def test_django_through_its_wsgi_and_asgi_handlers(tmp_path: Path) -> None:
    (tmp_path / "test_django.py").write_text("""
import json

import django
from django.conf import settings

settings.configure(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["*"], SECRET_KEY="x", MIDDLEWARE=[])
django.setup()

from django.core.handlers.asgi import ASGIHandler
from django.core.wsgi import get_wsgi_application
from django.http import JsonResponse
from django.urls import path

got = []

def hooks(request):
    got.append(json.loads(request.body))
    return JsonResponse({"ok": True})

urlpatterns = [path("hooks", hooks)]

def test_wsgi(atscale_engine):
    atscale_engine.send("slow-query", to=get_wsgi_application(), path="/hooks", count=2)
    assert [g["event_type"] for g in got[-2:]] == ["slow_query_event"] * 2

def test_asgi(atscale_engine):
    atscale_engine.send("unpublish", to=ASGIHandler(), path="/hooks")
    assert got[-1]["event_type"] == "unpublish_schema_success"
""")
    done = _pytest(tmp_path, "-q")
    assert "2 passed" in done.stdout, done.stdout + done.stderr


def test_scenario_items_under_xdist(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    with Receiver() as receiver:
        done = _pytest(tmp_path, "-n", "2", "--atscale-scenarios", "scenarios/*.yaml",
                       "--atscale-target", receiver.url + "/hooks", "-q", timeout=300)  # fmt: skip
    files = list((tmp_path / "scenarios").glob("*.yaml"))
    assert f"{len(files)} passed" in done.stdout, done.stdout + done.stderr


def test_scenario_items_carry_their_path_and_are_counted(tmp_path: Path) -> None:
    """Two smoke.yaml in a/ and b/: two node ids, two JUnit classnames, -k b selects
    the one in b/, and --collect-only counts what it lists."""
    smoke = "version: 1\nsteps:\n  - event: slow-query\n"
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "smoke.yaml").write_text(smoke)
    common = ["--atscale-scenarios", "*/smoke.yaml", "--atscale-target", "local"]
    listed = _pytest(tmp_path, *common, "--collect-only", "-q")
    lines = [ln for ln in listed.stdout.splitlines() if "::" in ln]
    assert lines == ["a/smoke.yaml::smoke", "b/smoke.yaml::smoke"], listed.stdout
    assert "2 tests collected" in listed.stdout and "no tests collected" not in listed.stdout
    junit = tmp_path / "j.xml"
    ran = _pytest(tmp_path, *common, "-k", "b", f"--junitxml={junit}")
    assert "1 passed, 1 deselected" in ran.stdout, ran.stdout + ran.stderr
    cases = list(ET.parse(junit).getroot().iter("testcase"))
    assert [(c.get("classname"), c.get("name")) for c in cases] == [("b.smoke.yaml", "smoke")]


def test_a_scenario_item_nesting_past_the_stack_fails_cleanly(tmp_path: Path) -> None:
    (tmp_path / "deep.yaml").write_text("a: " + "[" * 1100 + "]" * 1100 + "\n")
    done = _pytest(tmp_path, "--atscale-scenarios", "deep.yaml", "--atscale-target", "local")
    assert "1 failed" in done.stdout, done.stdout + done.stderr
    assert "nest" in done.stdout.split("short test summary")[0]
    assert "RecursionError" not in done.stdout + done.stderr
