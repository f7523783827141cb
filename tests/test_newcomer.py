"""A newcomer's first hour (issue 24, the parts landed so far): one duration and rate
syntax on every option, and a run report that says "no" rather than "False"."""

from __future__ import annotations

from pathlib import Path

import pytest

import atscale_mock as am
from atscale_mock.redact import Redactor
from atscale_mock.report.run_report import html_report

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
