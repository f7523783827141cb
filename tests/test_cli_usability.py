"""The CLI as a newcomer meets it: one duration and rate
syntax on every option, and a run report that says "no" rather than "False"."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import atscale_mock as am
from atscale_mock.redact import Redactor
from atscale_mock.scenario.report import html_report

from .cli_helpers import no_traceback, proc
from .httpserver import ScriptedServer

ROOT = Path(__file__).resolve().parents[1]


def test_run_report_says_whether_interrupted_in_words() -> None:
    run = am.run(ROOT / "scenarios" / "batch-lifecycle.yaml", to="local", seed=1)
    page = html_report(run, Redactor())
    assert "<td>interrupted</td><td>no</td>" in page, page[:2000]
    assert "False" not in page


def test_one_duration_and_rate_syntax_on_every_option(srv: ScriptedServer) -> None:
    r = proc("send", "slow-query", "-n", "3", "--rate", "20/s", "--timeout", "5s",
             "--to", srv.url + "/ok")  # fmt: skip
    assert r.code == 0, r.stdout + r.stderr
    srv.wait_seen(3)
    r = proc("receive", "--duration", "500ms", "--port", "0")
    assert r.code == 0 and "stopped" in r.stdout + r.stderr, r.stdout + r.stderr
    r = proc("send", "slow-query", "--rate", "600/m", "--delay", "10ms", "--to", srv.url + "/ok")
    assert r.code == 0, r.stdout + r.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["send", "slow-query", "--timeout", "5x"], "Invalid value for '--timeout'"),
        (["send", "slow-query", "--timeout", "0s"], "must be greater than zero"),
        (["send", "slow-query", "--rate", "0"], "must be greater than zero"),
        (["send", "slow-query", "--rate", "ten/s"], "a rate such as 10/s"),
        (["receive", "--duration", "forever"], "a duration such as 500ms"),
    ],
)
def test_bad_durations_and_rates_name_the_option(args: list[str], message: str) -> None:
    r = proc(*args, "--to", "local") if args[0] == "send" else proc(*args)
    no_traceback(r)
    assert r.code == 2 and message in r.stderr, r.stderr


def test_an_unmet_expect_status_says_what_was_expected(srv: ScriptedServer) -> None:
    r = proc("send", "slow-query", "--expect-status", "401", "--to", srv.url + "/ok")
    assert r.code == 1
    line = next(x for x in r.stdout.splitlines() if x.startswith("ERR"))
    assert " 200 (expected 401) " in line, line


@pytest.mark.parametrize("command", ["run", "load"])
def test_a_report_name_that_is_neither_json_nor_html_is_refused_before_sending(
    command: str, tmp_path: Path, srv: ScriptedServer
) -> None:
    target = tmp_path / "x.pdf"
    if command == "run":
        args = ["run", str(ROOT / "scenarios" / "batch-lifecycle.yaml")]
    else:
        args = ["load", "--rate", "10", "-d", "1s"]
    r = proc(*args, "--to", srv.url + "/ok", "--report", str(target))
    no_traceback(r)
    assert r.code == 2 and "use a .json or .html file name" in r.stderr, r.stderr
    assert not target.exists() and srv.seen == []


def test_openapi_signing_header_default_is_the_header_traffic_uses() -> None:
    import json

    from atscale_mock.delivery.signing import DEFAULT_HMAC_HEADER

    doc = json.loads((ROOT / "atscale_mock" / "serve" / "openapi.json").read_text())
    header = doc["components"]["schemas"]["Signing"]["properties"]["header"]
    assert header["default"] == DEFAULT_HMAC_HEADER == "X-Signature"


@pytest.mark.parametrize(
    ("keyword", "value", "flag"),
    [("duplicates", 2, "--duplicates"), ("malformed_rate", 3, "--malformed-rate"),
     ("reorder", -1, "--reorder"), ("delay", 2e6, "--delay"), ("jitter", 2e6, "--jitter"),
     ("malformed", "nope", "--malformed")],
)  # fmt: skip
def test_library_errors_name_the_keyword_and_the_cli_the_flag(
    keyword: str, value: object, flag: str
) -> None:
    """The library's message begins with the keyword (no flag in it); the command line's
    with the flag, from the same check."""
    with pytest.raises(am.UsageError) as caught:
        am.Faults(**{keyword: value})  # type: ignore[arg-type]
    message = caught.value.message
    assert message.startswith(keyword + " ") or message.startswith(keyword + ":"), message
    assert "--" not in message and caught.value.field == keyword
    from atscale_mock.cli.delivery_opts import make_faults

    args: dict[str, object] = dict(
        duplicates=0.0, reorder=0, drop=0.0, delay=0.0, jitter=0.0, malformed=None,
        malformed_rate=1.0,
    )  # fmt: skip
    args[keyword] = value
    with pytest.raises(am.UsageError) as cli_caught:
        make_faults(**args)  # type: ignore[arg-type]
    assert cli_caught.value.message == flag + message[len(keyword) :]


def test_a_fault_option_error_on_the_command_line_names_the_flag() -> None:
    from .cli_helpers import proc

    r = proc("send", "slow-query", "--to", "local", "--delay", "2000000")
    assert r.code == 2
    assert "error: --delay must be from 0 to 1,000,000 seconds, got 2000000.0" in r.stderr
    assert "Traceback" not in r.stderr


def _complete(words: str) -> list[str]:
    import os
    import subprocess

    env = {
        **os.environ,
        "_ATSCALE_MOCK_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)),
    }
    done = subprocess.run(
        [str(Path(sys.executable).parent / "atscale-mock")],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    return done.stdout.split()


def test_completion_offers_event_names_and_option_values() -> None:
    assert _complete("atscale-mock send batch-") == ["batch-start", "batch-result"]
    assert set(_complete("atscale-mock show ")) >= {"slow-query", "unpublish", "batch-start"}
    assert _complete("atscale-mock send slow-query --sign ") == [
        "standard-webhooks",
        "hmac-sha256",
    ]
    assert "invalid-json" in _complete("atscale-mock send slow-query --malformed ")


def test_run_progress_has_the_planned_total_and_an_eta(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from atscale_mock.cli.scenario_cmds import _Progress, planned_total
    from atscale_mock.scenario.reading import read_scenario

    lifecycle = read_scenario(ROOT / "scenarios" / "batch-lifecycle.yaml")
    total = planned_total(lifecycle)
    run = am.run(ROOT / "scenarios" / "batch-lifecycle.yaml", to="local", seed=1)
    assert total == len(run.deliveries) > 0
    assert planned_total(read_scenario(ROOT / "scenarios" / "engine-day.yaml")) is None
    monkeypatch.setattr("sys.stderr", io.StringIO())
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    progress = _Progress(total, False, Redactor())
    try:
        assert progress.bar is not None and progress.bar.total == total
        names = progress.bar.columns
        assert "TimeRemainingColumn" in names and "MofNCompleteColumn" in names
    finally:
        progress.close()


def test_help_examples_are_never_rewrapped_whatever_the_terminal_width() -> None:
    import os
    import subprocess

    from atscale_mock.cli import app

    checked = 0
    for info in app.registered_commands:
        assert info.callback is not None
        name = info.name or info.callback.__name__
        examples = [
            line.strip()
            for line in (info.callback.__doc__ or "").splitlines()
            if line.strip().startswith("atscale-mock ")
        ]
        done = subprocess.run(
            [sys.executable, "-m", "atscale_mock", name, "--help"],
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, "COLUMNS": "60"},
        )
        shown = [line.strip() for line in done.stdout.splitlines()]
        for example in examples:
            assert example in shown, (name, example)
            checked += 1
    assert checked >= 20


def test_send_quiet_prints_failures_only(srv: ScriptedServer) -> None:
    r = proc("send", "slow-query", "-n", "4", "-q", "--to", srv.url + "/ok")
    assert r.code == 0 and r.stdout == "", r.stdout
    assert "4 delivered, 4 ok" in r.stderr
    r = proc(
        "send", "slow-query", "-n", "2", "-q", "--expect-status", "401", "--to", srv.url + "/ok"
    )
    assert r.code == 1 and r.stdout.count("ERR ") == 2, r.stdout


def test_refused_and_tls_mismatch_come_with_a_hint(srv: ScriptedServer) -> None:
    from .cli_helpers import free_port

    port = free_port()
    r = proc("send", "slow-query", "--to", f"http://127.0.0.1:{port}/hooks")
    assert r.code == 1 and f"nothing listens on 127.0.0.1:{port}" in r.stdout, r.stdout
    https = srv.url.replace("http://", "https://") + "/ok"
    r = proc("send", "slow-query", "--to", https)
    assert r.code == 1 and "tls" in r.stdout and "a plain-HTTP receiver needs http://" in r.stdout


def test_validate_says_a_bad_signature_step_needs_a_signed_run(tmp_path: Path) -> None:
    file = tmp_path / "bad-sig.yaml"
    file.write_text("version: 1\nname: bad-sig\nsteps:\n  - event: slow-query\n"
                    "    bad_signature: true\n")  # fmt: skip
    r = proc("validate", str(file))
    assert r.code == 0 and "step 'step1' sends a bad or stale signature" in r.stderr
    assert "--sign MODE --secret KEY" in r.stderr
    r = proc("run", str(file), "--to", "local")
    assert r.code == 2 and "--sign MODE --secret KEY on the command line" in r.stderr
    assert "give sign=" not in r.stderr


QUIET = ("send", "receive", "demo", "validate", "run", "load", "replay", "check")


@pytest.mark.parametrize("command", QUIET)
def test_every_command_that_prints_a_line_per_item_takes_q(command: str) -> None:
    r = proc(command, "--help")
    assert r.code == 0 and "-q, --quiet" in r.stdout, r.stdout


def test_q_keeps_failures_and_the_summary_and_drops_the_rest(
    srv: ScriptedServer, tmp_path: Path
) -> None:
    # demo: seven good deliveries, no line for any, the summary still said
    r = proc("demo", "-q")
    assert r.code == 0 and r.stdout == "", r.stdout
    assert "7 delivered, 7 ok" in r.stderr
    # validate: no "ok:" line per file, a bad file still reported
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nname: x\nsteps:\n  - event: slow-qeury\n")
    r = proc("validate", "-q", str(ROOT / "scenarios" / "batch-lifecycle.yaml"), str(bad))
    assert r.code == 2 and "ok:" not in r.stderr and "slow-qeury" in r.stderr
    assert "1 of 2 file(s) invalid" in r.stderr
    # replay: of two logged deliveries, only the one that fails now is printed
    log = tmp_path / "sent.jsonl"
    assert (
        proc("send", "slow-query", "-n", "2", "--to", srv.url + "/ok", "--log", str(log)).code == 0
    )
    r = proc("replay", "-q", str(log), "--to", srv.url + "/ok")
    assert r.code == 0 and r.stdout == "" and "2 delivered, 2 ok" in r.stderr
    r = proc("replay", "-q", str(log), "--to", srv.url + "/status/500")
    assert r.code == 1 and r.stdout.count("ERR ") == 2, r.stdout


def test_receive_q_prints_only_requests_that_fail_a_check() -> None:
    import time

    from .cli_helpers import start_receiver

    receiver, base = start_receiver("-q", "--max-events", "2", "--duration", "30")
    try:
        for _ in range(50):
            if proc("send", "batch-start", "--to", base + "/hooks").code == 0:
                break
            time.sleep(0.1)
        proc("send", "slow-query", "--to", base + "/hooks", "--set", "time_taken=slow")
        out, errs = receiver.communicate(timeout=30)
    finally:
        receiver.kill()
    assert receiver.returncode == 0, errs
    lines = out.splitlines()
    assert len(lines) == 1 and "INVALID" in lines[0] and "time_taken" in lines[0], out
    assert "stopped: 1 valid, 1 invalid (schema)" in errs, errs  # the summary still said


def test_one_error_style_for_clicks_usage_errors_too() -> None:
    """An unknown option and a bad value: `error:` and a `hint:` line, as every other
    error, never Click's `Usage:` / `Error:` block."""
    for args in (["send", "slow-query", "--nope"], ["load", "--to", "local", "-c", "x"],
                 ["events", "extra-argument"]):  # fmt: skip
        r = proc(*args)
        assert r.code == 2, (args, r.stderr)
        assert r.stderr.startswith("error: "), r.stderr
        assert "\n  hint: see 'atscale-mock " in r.stderr, r.stderr
        assert "Usage:" not in r.stderr and "Error:" not in r.stderr
        no_traceback(r)


def test_pyproject_license_is_an_spdx_expression() -> None:
    """`license = {text = ...}` is deprecated by setuptools (it stops building on
    2027-02-18); an SPDX expression string is the form that stays."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert isinstance(project["license"], str) and project["license"] == "MIT"
    assert not any(c.startswith("License ::") for c in project.get("classifiers", []))


def _plain(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a pseudo-terminal")
def test_send_n_shows_a_bar_with_its_total_and_an_eta_on_a_terminal() -> None:
    import re

    from .cli_helpers import on_terminal

    code, screen = on_terminal("send", "slow-query", "-n", "30", "--rate", "60", "--to", "local")
    text = _plain(screen)
    assert code == 0, text[-2000:]
    bars = re.findall(r"sending .*? (\d+)/30 (\d+:\d\d:\d\d) (\d+) passed, (\d+) failed", text)
    assert bars, text[-2000:]
    assert [int(done) for done, *_ in bars] == sorted(int(done) for done, *_ in bars)
    assert bars[-1][0] == "30" and bars[-1][2:] == ("30", "0")  # all settled, all passed
    assert "30 delivered, 30 ok, 0 failed" in text
    assert text.count("ok  slow-query") == 30  # every line still printed, above the bar
    # quiet: no bar, no lines, the summary
    code, screen = on_terminal("send", "slow-query", "-n", "30", "--rate", "60", "-q",
                               "--to", "local")  # fmt: skip
    text = _plain(screen)
    assert code == 0 and "sending" not in text and "ok  slow-query" not in text
    assert "30 delivered, 30 ok, 0 failed" in text


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a pseudo-terminal")
def test_send_bar_counts_a_delivery_once_across_its_retries(srv: ScriptedServer) -> None:
    import re

    from .cli_helpers import on_terminal

    failing = srv.url + "/status/500"
    code, screen = on_terminal("send", "slow-query", "-n", "4", "--retries", "2",
                               "--retry-time-scale", "1000", "--to", failing)  # fmt: skip
    text = _plain(screen)
    assert code == 1
    done = [int(d) for d in re.findall(r"sending .*? (\d+)/4 ", text)]
    assert done and max(done) == 4, text[-2000:]  # 12 attempts, 4 deliveries
    assert "4 delivered, 0 ok, 4 failed, 12 attempts" in text
    # no terminal: no bar in what a pipe gets
    r = proc("send", "slow-query", "-n", "3", "--to", srv.url + "/ok")
    assert r.code == 0 and "sending" not in r.stdout + r.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a pseudo-terminal")
def test_run_shows_a_bar_with_the_planned_total_on_a_terminal() -> None:
    import re

    from atscale_mock.cli.scenario_cmds import planned_total
    from atscale_mock.scenario.reading import read_scenario

    from .cli_helpers import on_terminal

    file = ROOT / "scenarios" / "batch-lifecycle.yaml"
    total = planned_total(read_scenario(file))
    code, screen = on_terminal("run", str(file), "--to", "local", "--time-scale", "20")
    text = _plain(screen)
    assert code == 0, text[-2000:]
    done = re.findall(rf"sending .*? (\d+)/{total} \d+:\d\d:\d\d", text)
    assert done and done[-1] == str(total), text[-2000:]


@pytest.mark.parametrize(
    ("keywords", "field", "flags", "cli_message"),
    [
        ({"scheme": "md5", "secret": "k"}, "scheme", ["--sign", "md5", "--secret", "k"],
         "--sign: unknown mode 'md5'"),
        ({"scheme": "standard-webhooks", "secret": "whsec_!!"}, "secret",
         ["--sign", "standard-webhooks", "--secret", "whsec_!!"],
         "--secret: a standard-webhooks key is whsec_<base64>"),
        ({"scheme": "hmac-sha256", "secret": "k", "header": "X:Y"}, "header",
         ["--sign", "hmac-sha256", "--secret", "k", "--signature-header", "X:Y"],
         "--signature-header: 'X:Y' is not a valid header name"),
    ],
)  # fmt: skip
def test_signing_errors_name_the_keyword_in_the_library_and_the_flag_on_the_cli(
    keywords: dict[str, str], field: str, flags: list[str], cli_message: str
) -> None:
    with pytest.raises(am.UsageError) as caught:
        am.Signing(**keywords)  # type: ignore[arg-type]
    assert caught.value.field == field and caught.value.message.startswith(field + ": ")
    assert "--" not in caught.value.message
    r = proc("send", "slow-query", "--to", "local", *flags)
    assert r.code == 2 and f"error: {cli_message}" in r.stderr, r.stderr
    no_traceback(r)


def test_engine_server_errors_name_its_keywords_and_serve_its_options(tmp_path: Path) -> None:
    from atscale_mock.serve.journal import Journal

    with pytest.raises(am.UsageError, match=r"^journal_max_rows must be at least 1"):
        Journal(tmp_path / "j.sqlite", Redactor(), max_rows=0)
    with pytest.raises(am.UsageError, match=r"^scenarios: no such file 'nope.yaml'"):
        am.EngineServer(port=0, scenarios=["nope.yaml"])
    r = proc("serve", "--port", "0", "--scenario", "nope.yaml", timeout=30)
    assert r.code == 2 and "error: --scenario: no such file 'nope.yaml'" in r.stderr


@pytest.mark.parametrize(
    "args",
    [["send", "slow-query", "--to", "local"],
     ["run", str(ROOT / "scenarios" / "batch-lifecycle.yaml"), "--to", "local"]],
)  # fmt: skip
def test_a_bad_retry_schedule_names_the_flag_in_every_command_that_takes_it(
    args: list[str],
) -> None:
    r = proc(*args, "--retry-schedule", "5s,5x")
    assert r.code == 2, r.stderr
    assert "error: --retry-schedule: '5x' is not a duration" in r.stderr, r.stderr
    no_traceback(r)
    with pytest.raises(am.UsageError) as caught:
        am.Retry.parse_schedule("5s,5x")
    assert caught.value.field == "schedule" and caught.value.message.startswith("schedule: ")
