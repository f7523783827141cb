"""check's verdicts cannot depend on luck, history or a default: receivers written for
this, each correct but for one planted bug, are each failed by exactly the check that
names the bug (the fuzzer, where a value is the bug, at the default --fuzz 200 with
10 of 10 seeds), and by no other; a correct receiver passes twice in a row with the same
card; one seed sends the same bytes."""

from __future__ import annotations

import json
import socketserver
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

import atscale_mock as am

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SIGNED = am.Signing("standard-webhooks", SECRET)


class Receiver:
    """A correct receiver of engine webhooks (verifies standard-webhooks signatures when
    it has a secret, wants application/json and a JSON object, answers a duplicate 200)
    with at most one planted bug, by name."""

    def __init__(self, bug: str = "", secret: str | None = None) -> None:
        self.bug = bug
        self.secret = secret
        self.started: set[str] = set()
        self.seen: set[str] = set()
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        size = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(size) if size else b""
        headers = {
            k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")
        }
        headers["content-type"] = environ.get("CONTENT_TYPE", "")
        status, answer = self.handle(headers, body)
        start_response(f"{status} X", [("Content-Type", "application/json")])
        return [json.dumps(answer).encode()]

    def handle(self, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        if self.secret is not None:
            signature = headers.get("webhook-signature", "")
            if not self._signed(headers, body, signature):
                return 401, {"error": "bad signature"}
        if not headers["content-type"].startswith("application/json"):
            return 415, {"error": "not json"}
        try:
            payload = json.loads(body)
        except ValueError:
            return 400, {"error": "invalid json"}
        if not isinstance(payload, dict):
            return 400, {"error": "not an object"}
        kind = payload.get("event_type")
        stamp = payload.get("finished_at")
        if isinstance(stamp, str):
            if self.bug == "no-fraction" and "." not in stamp:
                raise ValueError(f"time data {stamp!r} does not match format '%S.%fZ'")
            if self.bug == "leap-day" and "-02-29T" in stamp:
                raise ValueError("day is out of range for month")
            if self.bug == "offset" and not stamp.endswith("Z"):
                raise ValueError(f"unconverted data remains: {stamp[-6:]}")
        if self.bug == "slow-agg-build" and kind == "slow_agg_builds":
            time.sleep(2)
        batch = payload.get("id")
        if kind == "aggregate_batch_started" and isinstance(batch, str):
            with self.lock:
                self.started.add(batch)
        if (
            self.bug == "unknown-batch"
            and kind == "aggregate_batch_result"
            and batch not in self.started
        ):
            return 422, {"error": f"no batch {batch}"}
        msg_id = headers.get("webhook-id", "")
        with self.lock:
            repeated = bool(msg_id) and msg_id in self.seen
            self.seen.add(msg_id)
        if self.bug == "409-duplicate" and repeated:
            return 409, {"error": "duplicate webhook-id"}
        return 200, {"ok": True}

    def _signed(self, headers: dict[str, str], body: bytes, signature: str) -> bool:
        assert self.secret is not None
        if self.bug not in ("v1a", "unversioned"):
            try:
                Webhook(self.secret).verify(body, headers, json_parse=False)
            except (WebhookVerificationError, ValueError):
                return False
            return True
        # the planted bug: one more version spelling taken for v1
        stamp = headers.get("webhook-timestamp", "")
        if not stamp.isdigit() or abs(time.time() - int(stamp)) > 300:
            return False
        moment = datetime.fromtimestamp(int(stamp), UTC)
        expected = Webhook(self.secret).sign(headers.get("webhook-id", ""), moment, body)
        taken = {"v1", "v1a"} if self.bug == "v1a" else {"v1", ""}
        for entry in signature.split():
            version, comma, digest = entry.partition(",")
            if not comma:
                version, digest = "", entry
            if version in taken and digest == expected.partition(",")[2]:
                return True
        return False


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def log_request(self, *args: Any) -> None:
        pass


class _Threads(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 256  # the burst connects at once (5, the default, drops SYNs)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a planted crash closes the connection: the check sees a reset or a 500


@contextmanager
def serving(app: Receiver) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, _crash_as_500(app), _Threads, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hooks"
    finally:
        server.shutdown()
        server.server_close()


def _crash_as_500(app: Receiver) -> Any:
    """An exception is a 500 with the message as its body, as a framework answers."""

    def wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        try:
            return app(environ, start_response)
        except Exception as exc:  # the planted crash
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
            return [f"Traceback: {type(exc).__name__}: {exc}".encode()]

    return wsgi


def _failing(card: am.Scorecard) -> tuple[list[str], list[str]]:
    """The checks that did not pass (fail or warn), and the findings' targets."""
    checks = [c.name for c in card.checks if c.verdict in ("fail", "warn")]
    found = [f"{f.event} {f.target}" for f in card.findings]
    return checks, found


def test_a_correct_receiver_passes_every_check_twice_with_the_same_card() -> None:
    app = Receiver(secret=SECRET)
    with serving(app) as url:
        first = am.check(url, sign=SIGNED, seed=11, fuzz=200)
        second = am.check(url, sign=SIGNED, seed=11, fuzz=200)
    assert _failing(first) == ([], []), first.text()
    assert first.ok and second.ok
    verdicts = [(c.name, c.verdict, len(c.probes)) for c in first.checks]
    assert verdicts == [(c.name, c.verdict, len(c.probes)) for c in second.checks]
    assert all(v == "pass" for _, v, _ in verdicts)


@pytest.mark.parametrize("bug", ["no-fraction", "leap-day", "offset"])
def test_a_timestamp_bug_is_one_finding_on_that_field_for_every_seed(bug: str) -> None:
    for seed in range(10):
        app = Receiver(bug)
        with serving(app) as url:
            card = am.check(url, seed=seed, fuzz=200)
        checks, found = _failing(card)
        assert checks == [], (bug, seed, card.text())
        assert found == ["slow-query finished_at"], (bug, seed, card.text())
        finding = card.findings[0]
        assert finding.outcome == "500" and "Traceback" in finding.response
        assert finding.in_schema == (bug != "offset")  # an offset is outside the spec's format
        assert "--set" in finding.reproduce and "finished_at=" in finding.reproduce


@pytest.mark.parametrize("bug", ["v1a", "unversioned"])
def test_a_receiver_that_ignores_the_signature_version_fails_signature_version(
    bug: str,
) -> None:
    with serving(Receiver(bug, secret=SECRET)) as url:
        card = am.check(url, sign=SIGNED, seed=3)
    assert _failing(card) == (["signature-version"], []), card.text()
    failed = card.result("signature-version")
    accepted = [p.label for p in failed.failures]
    assert accepted == (
        ["the right digest as v1a,"] if bug == "v1a" else ["the right digest with no version"]
    )
    assert failed.reproduce.startswith("atscale-mock check --to ")
    assert "--only signature-version --seed 3 --sign standard-webhooks" in failed.reproduce


def test_an_unsigned_duplicate_carries_its_webhook_id_and_a_409_fails_duplicate() -> None:
    with serving(Receiver("409-duplicate")) as url:
        card = am.check(url, seed=4)
    assert _failing(card) == (["duplicate"], []), card.text()
    probe = card.result("duplicate").failures[0]
    assert probe.status == 409 and "duplicate webhook-id" in probe.response


def test_one_slow_event_type_fails_latency_naming_it() -> None:
    with serving(Receiver("slow-agg-build")) as url:
        card = am.check(url, seed=5, max_latency=1.0, burst=21)
    assert _failing(card) == (["latency"], []), card.text()
    latency = card.result("latency")
    assert latency.verdict == "warn" and card.ok  # a "should": a warning, exit 0
    assert latency.note.startswith("over the 1000 ms budget: slow-agg-build;"), latency.note


def test_rejecting_results_of_unknown_batches_fails_only_out_of_order(tmp_path: Path) -> None:
    app = Receiver("unknown-batch")
    with serving(app) as url:
        first = am.check(url, seed=6)
        # what the first run started changes nothing for the next (a new seed: new ids;
        # the same seed repeats the same bytes, ids included, on purpose)
        second = am.check(url, seed=7)
    for card in (first, second):
        assert _failing(card) == (["out-of-order"], []), card.text()
        assert card.ok
    assert [c.verdict for c in first.checks] == [c.verdict for c in second.checks]


def test_one_seed_sends_the_same_bytes_battery_and_fuzzer_alike() -> None:
    bodies: list[list[bytes]] = [[], []]
    for run in (0, 1):
        with serving(Receiver(secret=SECRET)) as url:
            am.check(
                url,
                sign=SIGNED,
                seed=21,
                fuzz=60,
                on_attempt=lambda a, run=run: bodies[run].append(a.request.body),
            )
    assert len(bodies[0]) > 150
    # the same bytes; the latency burst's answers may come back in another order
    assert sorted(bodies[0]) == sorted(bodies[1])
    assert bodies[0][:40] == bodies[1][:40]  # sent one after another: the same order too


def test_expect_takes_several_checks_in_one_flag(tmp_path: Path) -> None:
    from .cli_helpers import proc

    with serving(Receiver()) as url:
        r = proc(
            "check", "--to", url, "--only", "invalid-json,empty", "--seed", "1",
            "--expect", "invalid-json=400,empty=4xx", "--json",
        )  # fmt: skip
    assert r.code == 0, r.stderr
    card = json.loads(r.stdout)
    assert [(c["name"], c["expects"]) for c in card["checks"]] == [
        ("invalid-json", "400"),
        ("empty", "4xx"),
    ]


def test_check_leaves_no_findings_directory_in_tmp(tmp_path: Path) -> None:
    """A finding too long for --set is saved beside the report, never in /tmp."""
    import tempfile

    from .cli_helpers import proc

    before = set(Path(tempfile.gettempdir()).glob("atscale-mock-findings-*"))
    (tmp_path / "out").mkdir()
    app = Receiver("leap-day")
    with serving(app) as url:
        r = proc(
            "check", "--to", url, "--seed", "2", "--fuzz", "80", "--only", "events",
            "--report", str(tmp_path / "out" / "card.html"),
        )  # fmt: skip
    assert r.code == 1, r.stdout + r.stderr
    assert set(Path(tempfile.gettempdir()).glob("atscale-mock-findings-*")) == before
    assert "FINDING 1: slow-query [finished_at] -> 500" in r.stdout


def test_a_failed_should_reads_the_same_in_every_format(tmp_path: Path) -> None:
    """The built-in receiver takes bodies that are not JSON (three "should" checks
    fail): exit 0, JSON `warn`, JUnit `<skipped>` (no `<failure>`), and the HTML, as
    Chromium shows it, a passing verdict with three warnings."""
    import xml.etree.ElementTree as ET

    from .browser import page
    from .cli_helpers import proc

    junit, report = tmp_path / "card.xml", tmp_path / "card.html"
    r = proc(
        "check", "--to", "local", "--seed", "1", "--json",
        "--junit", str(junit), "--report", str(report),
    )  # fmt: skip
    assert r.code == 0, r.stderr
    card = json.loads(r.stdout)
    warned = sorted(c["name"] for c in card["checks"] if c["verdict"] == "warn")
    assert warned == ["empty", "invalid-json", "wrong-content-type"]
    assert card["ok"] and card["counts"]["failed_should"] == 3
    assert all(c["reproduce"] for c in card["checks"] if c["verdict"] == "warn")
    suite = ET.parse(junit).getroot()
    assert suite.get("failures") == "0" and suite.find(".//failure") is None
    warnings = [
        c.get("name")
        for c in suite.iter("testcase")
        if (c.find("skipped") is not None)
        and c.find("skipped").get("message", "").startswith("warning (should)")
    ]
    assert sorted(warnings) == warned
    with page("check-should") as tab:
        tab.goto(report.as_uri())
        assert tab.locator("#checks .v-warn").count() == 3
        assert tab.locator("#checks .v-fail").count() == 0
        assert tab.locator("h2:has-text('Verdict') + p").inner_text().strip().lower() == "pass"
