"""The built-in receiver: accepts POSTs on any path, checks each body against the
catalogue's schemas, answers a chosen status. Binds to loopback unless told otherwise.

Used by ``atscale-mock receive`` and, in-process on a free port, by ``--to local``.
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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .catalogue import Event, find_event
from .delivery.signing import verify
from .tracking import Tracker

MAX_BODY = 16 * 1024 * 1024  # a larger body is answered 413 and not read
KEEP_EVENTS = 10_000  # events kept in memory for inspection (oldest dropped first)


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

    @property
    def valid(self) -> bool:
        return self.event is not None and not self.problems


def record_line(got: Received) -> dict[str, Any]:
    """A ``receive --record`` line: everything needed to replay the request."""
    from datetime import UTC, datetime

    from .redact import Redactor

    line: dict[str, Any] = {
        "time": datetime.now(UTC).isoformat(timespec="microseconds"),
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
    }
    try:
        line["body"] = got.body.decode("utf-8")
    except UnicodeDecodeError:
        line["body_b64"] = base64.b64encode(got.body).decode()
    return line


def inspect(method: str, path: str, headers: dict[str, str], body: bytes) -> Received:
    """Parse and check a request body against the catalogue; pure."""
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
    from .schema import validation_errors

    return Received(
        method,
        path,
        headers,
        body,
        payload,
        event.name,
        event.event_type,
        ident if isinstance(ident, str) else None,
        tuple(validation_errors(event, payload)),
    )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # socketserver's default of 5 resets bursts of connections


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


class Receiver:
    """A threaded HTTP server on ``host:port`` (port 0 picks a free one)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        status: int = 200,
        on_request: Callable[[Received], None] | None = None,
        behaviour: Behaviour | None = None,
    ) -> None:
        self.behaviour = behaviour or Behaviour(status=status)
        self.status = self.behaviour.status
        self.on_request = on_request
        self.tracker = Tracker()
        self._rng = random.Random(self.behaviour.seed)
        self.received: deque[Received] = deque(maxlen=KEEP_EVENTS)
        self.count = 0
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._answering = 0  # requests received and not yet answered
        self._answered = threading.Condition()
        self._server = _Server((host, port), _handler_for(self))
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host = str(self._server.server_address[0])
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Received:
        """Inspect, check and record one request; decide the status to answer."""
        got = inspect(method, path, headers, body)
        b = self.behaviour
        duplicate, order = self.tracker.observe(got.payload, body)
        signature = (
            verify(b.secret, headers, body, hmac_header=b.signature_header) if b.secret else None
        )
        rejected = signature is not None and signature != "valid" and not b.accept_invalid
        with self._lock:
            failing = b.fail_rate and self._rng.random() < b.fail_rate
            got = replace(
                got,
                signature=signature,
                duplicate=duplicate,
                order=order,
                answered=401 if rejected else 500 if failing else b.status,
            )
            self.received.append(got)
            self.count += 1
            self._arrived.notify_all()
            if b.record is not None:
                b.record.write(json.dumps(record_line(got)) + "\n")
                b.record.flush()
        if self.on_request:
            self.on_request(got)
        return got

    @property
    def events(self) -> list[Received]:
        """What arrived so far (the last KEEP_EVENTS), oldest first."""
        with self._lock:
            return list(self.received)

    def wait_for(self, event_type: str, timeout: float = 5.0) -> Received:
        """The first request of ``event_type`` (an ``event_type`` or a CLI name), waiting
        up to ``timeout`` seconds for it; TimeoutError if none came."""
        from .catalogue import find_event

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
        from .catalogue import EVENTS
        from .schema import validator

        for event in EVENTS:  # compile the schemas now, not on the first request
            validator(event)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="atscale-mock-receiver", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        """Stop, after answering what already arrived (up to 5 s): a request that made
        --max-events stop the receiver still gets its answer."""
        deadline = time.monotonic() + 5
        with self._answered:
            while self._answering and time.monotonic() < deadline:
                self._answered.wait(0.05)
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _handler_for(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        wbufsize = 64 * 1024  # one write per answer: no delayed-ACK stall on keep-alive
        server_version = "atscale-mock-receiver"

        def log_message(self, format: str, *args: Any) -> None:  # silence stderr lines
            return None

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self.close_connection = True
                self._answer(413, {"error": "body too large"})
                return
            body = self.rfile.read(length)
            with receiver._answered:
                receiver._answering += 1
            try:
                got = receiver.handle("POST", self.path, dict(self.headers.items()), body)
                if receiver.behaviour.delay:
                    time.sleep(receiver.behaviour.delay)
                self._answer(got.answered, {"received": got.event_type, "valid": got.valid})
            finally:
                with receiver._answered:
                    receiver._answering -= 1
                    receiver._answered.notify_all()

        def do_GET(self) -> None:
            self._answer(200, {"service": "atscale-mock receiver", "received": receiver.count})

    return Handler
