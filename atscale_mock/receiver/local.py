"""The built-in receiver: accepts POSTs on any path, checks each body against the
catalogue's schemas, answers a chosen status. Binds to loopback unless told otherwise
(IPv6 too: ``--host ::1``).

Used by ``atscale-mock receive`` and, in-process on a free port, by ``--to local``. It
runs on :mod:`atscale_mock.receiver.http_server` (asyncio, httptools) with hard limits, so a
hostile client cannot stall it or grow its memory: kept events hold at most
``KEEP_BODY`` bytes of each body (flagged ``truncated``).
"""

from __future__ import annotations

import base64
import json
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from ..delivery.signing import verify
from ..events.catalogue import Event, find_event
from ..events.drift import Drift
from ..events.versions import Catalogue, catalogue
from .forward import Forward, Forwarder, Leg
from .http_server import Answer, HttpServer, Limits, listen, raise_fd_limit, url_of
from .tracking import Tracker

MAX_BODY = 16 * 1024 * 1024  # a larger body is answered 413 and not read
KEEP_EVENTS = 10_000  # events kept in memory for inspection (oldest dropped first)
KEEP_BODY = 64 * 1024  # bytes of a body kept with its event; a longer one is truncated
INSPECT_BODY = 1024 * 1024  # a longer body is answered and recorded, but not parsed


@dataclass(frozen=True, slots=True)
class Received:
    """One request the receiver got."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    payload: Any = None
    event: str | None = None  # CLI name when the event_type is known
    event_type: str | None = None
    id: str | None = None
    problems: tuple[str, ...] = field(default_factory=tuple)
    signature: str | None = None  # valid | invalid: why | unsigned; None: not checked
    duplicate: bool = False
    order: str | None = None  # an ordering problem, e.g. "before its batch start"
    answered: int = 0  # the status the receiver answered
    truncated: bool = False  # the body was longer than KEEP_BODY: kept cut short
    arrived_in: float = 0.0  # seconds from its first byte to its last
    at: float = 0.0  # when it was received (epoch seconds; 0: now, when recorded)
    forward: Leg | None = None  # with --forward-to: what the user's receiver answered

    @property
    def valid(self) -> bool:
        return self.event is not None and not self.problems


def record_line(got: Received) -> dict[str, Any]:
    """A ``receive --record`` line: everything needed to replay the request."""
    from datetime import UTC, datetime

    from ..redact import Redactor

    when = datetime.fromtimestamp(got.at, UTC) if got.at else datetime.now(UTC)
    line: dict[str, Any] = {
        "time": when.isoformat(timespec="microseconds"),
        "method": got.method,
        "path": got.path,
        "headers": Redactor().headers(got.headers),
        "event": got.event,
        "event_type": got.event_type,
        "id": got.id,
        "valid": got.valid,
        "problems": list(got.problems),
        "signature": got.signature,
        "duplicate": got.duplicate,
        "order": got.order,
        "status": got.answered,
        "arrived_ms": round(got.arrived_in * 1000, 3),
    }
    if got.forward is not None:
        leg = got.forward
        line["forward"] = {
            "status": leg.outcome.status,
            "ms": round(leg.outcome.latency * 1000, 3),
            "error": leg.outcome.error,
            "error_class": leg.outcome.error_class,
        }
    try:
        line["body"] = got.body.decode("utf-8")
    except UnicodeDecodeError:
        line["body_b64"] = base64.b64encode(got.body).decode()
    return line


def inspect(
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes,
    judged_by: Catalogue | None = None,
) -> Received:
    """Parse and check a request body against the catalogue (of an AtScale version:
    ``judged_by``, the latest by default); pure. A body over
    INSPECT_BODY is not parsed (no webhook is that large; parsing it would only let a
    hostile sender slow every other answer down)."""
    if len(body) > INSPECT_BODY:
        size = f"{len(body) / 1024 / 1024:.1f} MiB"
        return Received(method, path, headers, body, problems=(f"body of {size} not inspected",))
    try:
        payload = json.loads(body)
    except ValueError as exc:
        return Received(method, path, headers, body, problems=(f"body is not JSON: {exc}",))
    if not isinstance(payload, dict):
        return Received(method, path, headers, body, payload, problems=("body is not an object",))
    event_type = payload.get("event_type")
    event: Event | None = find_event(event_type) if isinstance(event_type, str) else None
    ident = payload.get("id") or payload.get("query_id") or payload.get("instance_id")
    if event is None:
        return Received(
            method,
            path,
            headers,
            body,
            payload,
            None,
            str(event_type) if event_type is not None else None,
            ident,
            (f"unknown event_type {event_type!r}",),
        )
    from ..events.schema import validation_errors

    problems = validation_errors(event, payload)
    if judged_by is not None and not judged_by.has(event):
        problems.insert(0, f"{event.event_type} is not in {judged_by.label}")
    return Received(
        method,
        path,
        headers,
        body,
        payload,
        event.name,
        event.event_type,
        ident if isinstance(ident, str) else None,
        tuple(problems),
    )


@dataclass(frozen=True, slots=True)
class Behaviour:
    """How the receiver answers: a status, sometimes a failure, after a delay; whether it
    checks signatures; where it records requests."""

    status: int = 200
    fail_rate: float = 0.0  # probability of answering 500 instead
    delay: float = 0.0  # seconds before answering
    secret: str | None = None  # verify signatures with this key
    signature_header: str = "X-Signature"
    record: Any = None  # a writable text file for JSON Lines, or None
    seed: int | None = None
    accept_invalid: bool = False  # with a secret: answer `status` to bad signatures too
    forward: Forward | None = None  # proxy each request there; its answer is the answer
    atscale_version: str | None = None  # judge events by this version's catalogue


class Receiver:
    """An HTTP server on ``host:port`` (port 0 picks a free one), on a thread of its
    own; ``limits`` bound what one client can make it do."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        status: int = 200,
        on_request: Callable[[Received], None] | None = None,
        behaviour: Behaviour | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.behaviour = behaviour or Behaviour(status=status)
        self.status = self.behaviour.status
        self.catalogue = catalogue(self.behaviour.atscale_version)
        #: spec drift of everything received so far (see :mod:`atscale_mock.events.drift`)
        self.drift = Drift(self.catalogue)
        self._forwarder = Forwarder(self.behaviour.forward) if self.behaviour.forward else None
        self._forwarded: dict[str, int] = {}
        self.on_request = on_request
        self.tracker = Tracker()
        self._rng = random.Random(self.behaviour.seed)
        self.received: deque[Received] = deque(maxlen=KEEP_EVENTS)
        self.count = 0
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._answering = 0  # requests received and not yet answered
        self._answered = threading.Condition()
        self.record_errors = 0  # lines --record could not write (a full disk)
        self.limits = limits or Limits(max_body=MAX_BODY)
        self._sock = listen(host, port)
        self._http = HttpServer(self._serve, self.limits)
        self._started = False

    @property
    def port(self) -> int:
        return int(self._sock.getsockname()[1])

    @property
    def url(self) -> str:
        return url_of(self._sock)

    @property
    def refused(self) -> dict[str, int]:
        """Requests and connections the server refused or closed, by reason."""
        return dict(self._http.counters.refused)

    async def _serve(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes,
        arrived_in: float = 0.0,
    ) -> Answer:
        if method == "GET":
            data = {"service": "atscale-mock receiver", "received": self.count}
            return 200, json.dumps(data).encode()
        if method != "POST":
            return 405, b'{"error": "POST a webhook"}'
        with self._answered:
            self._answering += 1
        try:
            if self._forwarder is not None:
                checked = replace(self._check("POST", path, headers, body), arrived_in=arrived_in)
                leg = await self._forwarder.send(headers, body)
                self._settle(replace(checked, forward=leg), leg.answered)
                return leg.answer()
            got = self.handle("POST", path, headers, body, arrived_in)
            if self.behaviour.delay:
                import asyncio

                await asyncio.sleep(self.behaviour.delay)
            return got.answered, json.dumps(
                {"received": got.event_type, "valid": got.valid}
            ).encode()
        finally:
            with self._answered:
                self._answering -= 1
                self._answered.notify_all()

    def handle(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes,
        arrived_in: float = 0.0,
    ) -> Received:
        """Inspect, check and record one request; decide the status to answer."""
        got = replace(self._check(method, path, headers, body), arrived_in=arrived_in)
        b = self.behaviour
        rejected = got.signature is not None and got.signature != "valid" and not b.accept_invalid
        with self._lock:
            failing = b.fail_rate and self._rng.random() < b.fail_rate
        return self._settle(got, 401 if rejected else 500 if failing else b.status)

    def _check(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Received:
        """A request inspected: schema, catalogue, signature, duplicates and order."""
        got = inspect(method, path, headers, body, self.catalogue)
        b = self.behaviour
        duplicate, order = self.tracker.observe(got.payload, body)
        signature = (
            verify(b.secret, headers, body, hmac_header=b.signature_header) if b.secret else None
        )
        return replace(got, signature=signature, duplicate=duplicate, order=order, at=time.time())

    def _settle(self, got: Received, answered: int) -> Received:
        """Record and keep a checked request answered with ``answered``; tell on_request."""
        b = self.behaviour
        with self._lock:
            got = replace(got, answered=answered)
            self.drift.observe(got.payload)
            if got.forward is not None:
                leg = got.forward
                status, error_class = leg.outcome.status, leg.outcome.error_class
                key = str(status) if status is not None else f"502 {error_class}"
                self._forwarded[key] = self._forwarded.get(key, 0) + 1
            if b.record is not None:
                try:
                    b.record.write(json.dumps(record_line(got)) + "\n")
                    b.record.flush()
                except OSError:  # a full disk: keep answering, count what was lost
                    self.record_errors += 1
            if len(got.body) > KEEP_BODY:  # keep memory bounded: a cut body, no payload
                got = replace(got, body=got.body[:KEEP_BODY], payload=None, truncated=True)
            self.received.append(got)
            self.count += 1
            self._arrived.notify_all()
        if self.on_request:
            self.on_request(got)
        return got

    @property
    def forwarded(self) -> dict[str, int]:
        """With a forward: what the user's receiver answered, by status ("502" and the
        error class when it gave no answer); empty without one."""
        return dict(self._forwarded)

    @property
    def events(self) -> list[Received]:
        """What arrived so far (the last KEEP_EVENTS), oldest first."""
        with self._lock:
            return list(self.received)

    def wait_for(self, event_type: str, timeout: float = 5.0) -> Received:
        """The first request of ``event_type`` (an ``event_type`` or a CLI name), waiting
        up to ``timeout`` seconds for it; TimeoutError if none came."""
        from ..events.catalogue import find_event

        known = find_event(event_type)
        wanted = known.event_type if known else event_type
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                for got in self.received:
                    if got.event_type == wanted:
                        return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no {wanted} event arrived within {timeout:g} s")
                self._arrived.wait(left)

    def start(self) -> Receiver:
        from ..events.catalogue import EVENTS
        from ..events.schema import validator

        for event in EVENTS:  # compile the schemas now, not on the first request
            validator(event)
        raise_fd_limit()
        self._http.start_thread(self._sock)
        self._started = True
        return self

    def stop(self) -> None:
        """Stop, after answering what already arrived (up to 5 s): a request that made
        --max-events stop the receiver still gets its answer."""
        deadline = time.monotonic() + 5
        with self._answered:
            while self._answering and time.monotonic() < deadline:
                self._answered.wait(0.05)
        if self._started:
            loop = self._http.loop
            if self._forwarder is not None and loop is not None:
                import asyncio
                import contextlib

                with contextlib.suppress(Exception):  # closing: nothing left to answer
                    asyncio.run_coroutine_threadsafe(self._forwarder.aclose(), loop).result(5)
            self._http.stop_thread()
            self._started = False
        self._sock.close()

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
