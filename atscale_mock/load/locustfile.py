"""A Locust file that emits AtScale engine webhooks, for load spread over many machines.

    pip install '.[locust]'   # in a checkout of atscale-mock (or the wheel's path)
    locust -f "$(atscale-mock locustfile)" --host http://receiver:8080/hooks \\
        --mix slow-query=8,batch-start=1 --seed 7 --rate-per-user 20

Every request carries a unique, valid payload from the same generator, event mix and
seeding as ``atscale-mock load``. Options (also as environment variables, and passed by
a master to its workers): ``--mix``, ``--seed``, ``--rate-per-user`` (requests per second
per user; 0 = as fast as possible), ``--full``, ``--webhook-header 'Name: value'``;
from the environment: ``ATSCALE_MOCK_HEADERS`` (a JSON list of [name, value] pairs),
``ATSCALE_MOCK_SIGN`` (standard-webhooks or hmac-sha256), ``ATSCALE_MOCK_SECRET`` and
``ATSCALE_MOCK_SIGNATURE_HEADER``: the same signing as every atscale-mock command.
Each request also says which worker sent it, in ``X-Atscale-Mock-Worker``.

Imported only by Locust (it brings gevent); no other atscale-mock command imports it.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

from hdrh.histogram import HdrHistogram
from locust import FastHttpUser, events, task
from locust.runners import WorkerRunner

from atscale_mock.delivery.request import fill_url, has_placeholders
from atscale_mock.delivery.signing import DEFAULT_HMAC_HEADER, Signing, new_message_id
from atscale_mock.events.ids import derive_seed
from atscale_mock.load.generator import PayloadGenerator, parse_mix
from atscale_mock.load.stats import HIGHEST, merge, new_histogram, percentiles_ms

_users = itertools.count()
# this process's responses since its last report: by second (epoch), each with counts by
# status or error, a latency histogram, and the first and last request times in it; a
# second more than FINAL_AFTER old keeps its percentiles instead of its histogram, so a
# run of hours (or a lone Locust that never reports to a master) holds little per second
_seconds: dict[int, dict[str, Any]] = {}
_merged: dict[int, dict[str, Any]] = {}  # on a master: every worker's, merged
FINAL_AFTER = 10  # seconds: workers report every 3


@events.request.add_listener  # type: ignore[untyped-decorator]
def _count(
    response: Any = None, exception: Any = None, response_time: float = 0.0, **_: Any
) -> None:
    """Per second: what came back and how long it took, so the report has a real time
    series (Locust's own history is a rolling average, updated every few seconds)."""
    now = time.time()
    bucket = _seconds.get(int(now))
    if bucket is None:
        _finalize(_seconds, int(now) - FINAL_AFTER)
        bucket = _seconds[int(now)] = {
            "counts": Counter(), "hist": new_histogram(), "first": now, "last": now
        }  # fmt: skip
    code = getattr(response, "status_code", 0) or 0
    bucket["counts"][str(code) if code else type(exception).__name__] += 1
    if "hist" in bucket:
        bucket["hist"].record_value(max(1, min(HIGHEST, int(response_time * 1000))))
    bucket["last"] = now


def _finalize(buckets: dict[int, dict[str, Any]], before: int) -> None:
    """Seconds before ``before`` keep their latency percentiles, not their histogram."""
    for sec, b in buckets.items():
        if sec < before and "hist" in b:
            b["latency_ms"] = percentiles_ms(b.pop("hist"))


def _encoded(buckets: dict[int, dict[str, Any]]) -> dict[str, Any]:
    return {
        str(sec): {
            "counts": dict(b["counts"]),
            **(
                {"hist": b["hist"].encode().decode()}
                if "hist" in b
                else {"latency_ms": b["latency_ms"]}
            ),
            "first": b["first"],
            "last": b["last"],
        }
        for sec, b in buckets.items()
    }


def _merge(into: dict[int, dict[str, Any]], data: dict[str, Any]) -> None:
    """Add a report's seconds; a histogram merges into a histogram (a straggler's
    latency for a second already final is left out, its counts are not)."""
    for key, b in data.items():
        hist = HdrHistogram.decode(b["hist"].encode()) if "hist" in b else None
        mine = into.get(int(key))
        if mine is None:
            into[int(key)] = {**b, "counts": Counter(b["counts"])}
            if hist is not None:
                into[int(key)]["hist"] = hist
            continue
        mine["counts"].update(b["counts"])
        if hist is not None and "hist" in mine:
            merge(mine["hist"], hist)
        mine["first"] = min(mine["first"], b["first"])
        mine["last"] = max(mine["last"], b["last"])
    if into:
        _finalize(into, max(into) - FINAL_AFTER)


@events.report_to_master.add_listener  # type: ignore[untyped-decorator]
def _report_seconds(client_id: str, data: dict[str, Any]) -> None:
    data["atscale_seconds"] = _encoded(_seconds)
    _seconds.clear()


@events.worker_report.add_listener  # type: ignore[untyped-decorator]
def _merge_seconds(client_id: str, data: dict[str, Any]) -> None:
    _merge(_merged, data.get("atscale_seconds") or {})


@events.quitting.add_listener  # type: ignore[untyped-decorator]
def _write_seconds(environment: Any, **_: Any) -> None:
    """The master (or a lone process) leaves the per-second data where `load` reads it."""
    path = os.environ.get("ATSCALE_MOCK_STATUS_FILE")
    if path and not isinstance(environment.runner, WorkerRunner):
        _merge(_merged, _encoded(_seconds))
        Path(path).write_text(json.dumps({"seconds": _encoded(_merged)}))


def _arrival(phases: list[list[float]], k: float) -> float | None:
    """When (seconds in) a user's k-th request is due, where the integral of its rate
    over phases of [duration, from, to] reaches k; None after the last phase."""
    start = 0.0
    for duration, a, b in phases:
        expected = (a + b) / 2 * duration
        if k <= expected:
            c = (b - a) / (2 * duration) if duration else 0.0
            if abs(c) < 1e-12:
                return start + (k / a if a else 0.0)
            return start + (-a + math.sqrt(max(0.0, a * a + 4 * c * k))) / (2 * c)
        k -= expected
        start += duration
    return None


@events.init_command_line_parser.add_listener  # type: ignore[untyped-decorator]
def _arguments(parser: Any) -> None:
    parser.add_argument(
        "--mix",
        type=str,
        default="",
        env_var="ATSCALE_MOCK_MIX",
        help="Event weights, e.g. slow-query=8,batch-start=1 (default: a busy engine's mix)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, env_var="ATSCALE_MOCK_SEED", help="Seed of the payloads"
    )
    parser.add_argument(
        "--rate-per-user",
        type=float,
        default=0.0,
        env_var="ATSCALE_MOCK_RATE_PER_USER",
        help="Requests per second per user (0: as fast as possible)",
    )
    parser.add_argument(
        "--full",
        action="store_true",
        default=False,
        env_var="ATSCALE_MOCK_FULL",
        help="Payloads with --full fields",
    )
    parser.add_argument(
        "--webhook-header",
        type=str,
        default="",
        env_var="ATSCALE_MOCK_HEADER",
        help="An extra header, 'Name: value'",
    )


class EngineWebhooks(FastHttpUser):
    """One user: POSTs webhooks to the --host URL at --rate-per-user."""

    def on_start(self) -> None:
        opts = self.environment.parsed_options
        runner = self.environment.runner
        worker = getattr(runner, "worker_index", 0) or 0
        seed = derive_seed(int(getattr(opts, "seed", 0) or 0), "locust", worker, next(_users))
        self.generator = PayloadGenerator(
            parse_mix(getattr(opts, "mix", "") or None),
            seed,
            full=bool(getattr(opts, "full", False)),
        )
        self.payloads: list[tuple[str, bytes]] = []
        self.headers = {"Content-Type": "application/json", "X-Atscale-Mock-Worker": str(worker)}
        header = getattr(opts, "webhook_header", "") or ""
        if ":" in header:
            name, _, value = header.partition(":")
            self.headers[name.strip()] = value.strip()
        for name, value in json.loads(os.environ.get("ATSCALE_MOCK_HEADERS") or "[]"):
            self.headers[name] = value
        self.signer = None
        if os.environ.get("ATSCALE_MOCK_SIGN"):
            self.signer = Signing(
                os.environ["ATSCALE_MOCK_SIGN"],
                os.environ.get("ATSCALE_MOCK_SECRET", ""),
                os.environ.get("ATSCALE_MOCK_SIGNATURE_HEADER") or DEFAULT_HMAC_HEADER,
            )
        self.url = self.host or "/"
        self.placeholders = has_placeholders(self.url)
        rate = float(getattr(opts, "rate_per_user", 0) or 0)
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.phases: list[list[float]] = json.loads(os.environ.get("ATSCALE_MOCK_PHASES") or "[]")
        self.started = self.next_at = time.monotonic()
        self.sent = 0

    def wait_time(self) -> float:
        """Pace each user to its rate (constant throughput)."""
        if self.phases:  # a schedule from `load`: ramps stay ramps
            self.sent += 1
            due = _arrival(self.phases, self.sent)
            if due is None:  # the schedule is over: idle until Locust stops
                return 1.0
            return max(0.0, self.started + due - time.monotonic())
        if not self.interval:
            return 0.0
        self.next_at += self.interval
        return max(0.0, self.next_at - time.monotonic())

    @task
    def post_webhook(self) -> None:
        if not self.payloads:
            self.payloads = self.generator.batch(256)
        event, body = self.payloads.pop()
        headers = self.headers
        if self.signer is not None:  # the same signing as every other command
            headers = {**headers, **self.signer.headers(body, new_message_id())}
        url = fill_url(self.url, json.loads(body)) if self.placeholders else self.url
        self.client.post(
            url,
            data=body,  # type: ignore[arg-type]  # bytes are sent as is (see its docstring)
            headers=headers,
            name=event,
        )
