"""Values from outside, handled where they enter: numbers JSON cannot carry, text that
would rewrite a terminal, YAML that nests past Python's stack, secrets in query strings
and short secrets echoed back, a DNS failure told from a refused connection, and an
expansion bomb through step references caught by validate."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from atscale_mock.errors import UsageError
from atscale_mock.redact import Redactor
from atscale_mock.report.printable import for_terminal

from .cli_helpers import cli, no_traceback, proc
from .httpserver import ScriptedServer


@pytest.mark.parametrize("value", ["1e999", "-1e999", "Infinity", "-Infinity", "NaN"])
def test_set_refuses_numbers_json_cannot_carry(srv: ScriptedServer, value: str) -> None:
    before = len(srv.seen)
    r = cli("send", "slow-query", "--set", f"time_taken={value}", "--to", srv.url + "/ok")
    assert r.code == 2
    assert "--set time_taken" in r.stderr and "finite" in r.stderr
    assert len(srv.seen) == before  # nothing sent


def test_a_quoted_nan_is_a_string(srv: ScriptedServer) -> None:
    r = cli("send", "slow-query", "--set", 'time_taken="NaN"', "--to", srv.url + "/ok")
    assert b'"time_taken":"NaN"' in srv.seen[-1].body, r.stderr


def test_the_library_refuses_a_non_finite_float_naming_its_field() -> None:
    from atscale_mock.events.payload import encode

    with pytest.raises(UsageError) as e:
        encode({"a": 1, "context": {"time_taken": float("inf")}})
    assert e.value.field == "context.time_taken"


@pytest.mark.parametrize(
    "char", ["\u202e", "\u202d", "\u2066", "\u200b", "\u200d", "\u2060", "\ufeff", "\u2028"]
)
def test_invisible_and_reordering_characters_are_escaped(char: str) -> None:
    shown = for_terminal(f"slow{char}-query")
    assert char not in shown
    assert f"\\u{ord(char):04x}" in shown


def test_an_unknown_event_with_a_zero_width_space_is_shown_as_it_is() -> None:
    r = proc("send", "slow\u200b-query", "--to", "http://127.0.0.1:9/x")
    assert r.code == 2
    assert "slow\\u200b-query" in r.stderr and "\u200b" not in r.stderr


def test_a_reproducer_with_a_bidi_override_prints_escaped(tmp_path: Path) -> None:
    from atscale_mock.report.html import page

    html = page("run \x1b[31m\u202eevil", "sub", [])
    title = html.split("<title>")[1].split("</title>")[0]
    assert "\x1b" not in title and "\u202e" not in title


@pytest.mark.parametrize("depth", [100, 900, 1100, 3000])
@pytest.mark.parametrize("command", ["validate", "plan", "run"])
def test_deep_yaml_is_a_clean_error(tmp_path: Path, depth: int, command: str) -> None:
    f = tmp_path / "deep.yaml"
    f.write_text("a: " + "[" * depth + "]" * depth + "\n")
    args = [command, str(f)] + (["--to", "local"] if command == "run" else [])
    r = proc(*args)
    assert r.code in (1, 2), r.stderr[-500:]
    assert "nest" in r.stderr
    no_traceback(r)


def test_deep_yaml_posted_to_serve_is_a_422() -> None:
    import httpx

    from atscale_mock.serve import EngineServer

    with EngineServer() as engine:
        r = httpx.post(
            engine.url + "/_mock/scenarios",
            content="a: " + "[" * 1100 + "]" * 1100 + "\n",
            headers={"Content-Type": "application/yaml"},
        )
    assert r.status_code == 422 and "nest" in r.text


def test_query_string_secrets_are_redacted() -> None:
    r = Redactor()
    text = r.text("http://h:1/hook?tenant=a&token=abc123&api_key=K9&X-Amz-Signature=f00d#x")
    assert "abc123" not in text and "K9" not in text and "f00d" not in text
    assert "tenant=a" in text


def test_a_short_secret_echoed_by_a_receiver_is_masked() -> None:
    r = Redactor()
    r.learn_headers({"X-Api-Key": "k3y9"})
    assert r.text('{"echo": "k3y9"}') == '{"echo": "***"}'
    assert r.text("k3y9x and xk3y9") == "k3y9x and xk3y9"  # never inside a longer word


def test_a_short_secret_echoed_back_never_reaches_the_log(tmp_path: Path) -> None:
    import json

    from .rawserver import RawServer

    def echo(conn: socket.socket, request: bytes) -> None:
        key = [ln for ln in request.split(b"\r\n") if ln.lower().startswith(b"x-api-key")]
        body = b'{"you sent": "' + key[0].split(b": ", 1)[1] + b'"}'
        head = b"HTTP/1.1 500 Oops\r\nContent-Length: %d\r\n\r\n" % len(body)
        conn.sendall(head + body)

    log = tmp_path / "log.jsonl"
    with RawServer(echo) as raw:
        r = proc("send", "slow-query", "-H", "X-Api-Key: k3y9", "--log", str(log), "--to", raw.url)
    assert "k3y9" not in r.stdout + r.stderr + log.read_text()
    assert json.loads(log.read_text().splitlines()[0])["response_body"] == '{"you sent": "***"}'


def test_a_dns_failure_is_not_called_refused() -> None:
    from atscale_mock.delivery.classify import classify_os_error

    kind, message = classify_os_error(socket.gaierror(socket.EAI_NONAME, "Name not known"))
    assert kind == "dns" and "resolve" in message
    assert classify_os_error(ConnectionRefusedError(111, "refused"))[0] == "refused"


def test_send_reports_a_name_that_does_not_resolve(monkeypatch: pytest.MonkeyPatch) -> None:
    """The lookup is answered here (no resolver asked): the name fails as DNS would."""
    import asyncio

    async def no_such_name(self: object, host: str, *args: object, **kw: object) -> object:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(asyncio.BaseEventLoop, "getaddrinfo", no_such_name)
    import atscale_mock as am

    result = am.send("slow-query", to="http://receiver.invalid:8000/hooks", timeout=2)
    assert result.deliveries[0].error_class == "dns"


def test_validate_catches_a_step_reference_expansion_bomb(tmp_path: Path) -> None:
    from .test_hostile_input import _bombs, _limited

    _, steps_bomb = _bombs(tmp_path)
    done = _limited("validate", str(steps_bomb), cwd=tmp_path)
    assert done.returncode in (1, 2), done.stderr[-1000:]
    assert "expands to more than 1048576 characters" in done.stderr
    assert "Traceback" not in done.stderr


def test_validate_still_passes_ordinary_step_references(tmp_path: Path) -> None:
    f = tmp_path / "ok.yaml"
    f.write_text(
        "version: 1\nsteps:\n  - id: a\n    event: batch-start\n"
        "  - event: batch-result\n    set: {id: '${steps.a.payload.id}'}\n"
    )
    r = cli("validate", str(f))
    assert r.code == 0, r.stderr
