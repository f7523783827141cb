"""Secrets of any length stay out of every output, log, record and report, and masking
them never breaks a JSON line: redaction works on values before serialization."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from atscale_mock.redact import MIN_SUBSTRING, Redactor

from .cli_helpers import no_traceback, proc
from .httpserver import ScriptedServer


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def check_clean(text: str, secret: str, what: str) -> None:
    """Long secrets appear nowhere; a short one never as a whole value, and every JSON
    document or line still parses."""
    if len(secret) >= MIN_SUBSTRING:
        assert secret not in text, what
    docs: list[Any] = []
    stripped = text.strip()
    if stripped.startswith("{") and "\n{" not in stripped:
        docs.append(json.loads(stripped))
    elif stripped.startswith("{"):
        docs.extend(json.loads(line) for line in stripped.splitlines() if line.strip())
    for doc in docs:
        assert secret not in strings(doc), what


@pytest.mark.parametrize("secret", ["1", "ab", "{", '"', "s3cr3t-value-long"])
def test_send_with_short_and_long_secrets(srv: ScriptedServer, tmp_path: Path, secret: str) -> None:
    log = tmp_path / "log.jsonl"
    url = srv.url.replace("://", f"://user:{secret}@") + "/ok"
    r = proc(
        "send", "slow-query", "--to", url, "-n", "2", "--log", str(log), "--json",
        "-H", f"X-Api-Key: {secret}", "--sign", "hmac-sha256", "--secret", secret,
    )  # fmt: skip
    no_traceback(r)
    assert r.code == 0, r.stderr
    assert srv.seen[0].headers["X-Api-Key"] == secret  # it was sent, just not shown
    lines = log.read_text().splitlines()
    assert len(lines) == 2
    for line in lines:
        record = json.loads(line)  # every line still parses
        assert record["request_headers"]["X-Api-Key"] == "***"
        assert json.loads(record["body"])["event_type"] == "slow_query_event"
        assert f":{secret}@" not in record["url"]
    check_clean(log.read_text(), secret, "log")
    check_clean(r.stdout, secret, "--json")
    check_clean(r.stderr, secret, "stderr")


@pytest.mark.parametrize("secret", ["7", "tok-abcdef-123"])
def test_run_reports_with_a_scenario_secret(
    srv: ScriptedServer, tmp_path: Path, secret: str
) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "version: 1\nname: s\ndefaults:\n  headers: {Authorization: 'Bearer ${secret:TOK}',"
        " X-Id: '${secret:TOK}'}\nsteps:\n  - id: a\n    event: unpublish\n"
        "    repeat: {count: 3}\n"
    )
    import os

    env = {**os.environ, "TOK": secret}
    report, junit, log = tmp_path / "r.json", tmp_path / "j.xml", tmp_path / "l.jsonl"
    r = proc(
        "run", str(scenario), "--to", srv.url + "/ok", "--report", str(report),
        "--junit", str(junit), "--log", str(log), "--json", env=env,
    )  # fmt: skip
    no_traceback(r)
    assert r.code == 0, r.stderr
    assert srv.seen[0].headers["X-Id"] == secret
    for name, text in (
        ("report", report.read_text()),
        ("log", log.read_text()),
        ("stdout", r.stdout),
        ("stderr", r.stderr),
    ):
        check_clean(text, secret, name)
    for line in log.read_text().splitlines():
        assert json.loads(line)["request_headers"]["X-Id"] == "***"
    if len(secret) >= MIN_SUBSTRING:
        assert secret not in junit.read_text()


def test_validate_never_prints_a_resolved_secret(tmp_path: Path) -> None:
    import os

    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "version: 1\nname: s\ndefaults:\n  to: ${secret:RURL}\n"
        "steps:\n  - id: a\n    event: unpublish\n"
    )
    r = proc("validate", str(scenario), env={**os.environ, "RURL": "ftp://hunter2-secret"})
    assert r.code == 2
    assert "hunter2-secret" not in r.stdout + r.stderr
    assert "unsupported URL scheme" in r.stderr
    no_traceback(r)


def test_redactor_works_on_values_not_encoded_text() -> None:
    redactor = Redactor(["1", '"', "a-long-secret"])
    data = {"n": 1, "id": "41-1", "k": "1", "q": '"', "s": "x a-long-secret y", "l": ["1"]}
    clean = redactor.data(data)
    assert clean == {"n": 1, "id": "41-1", "k": "***", "q": "***", "s": "x *** y", "l": ["***"]}
    json.loads(json.dumps(clean))
