"""The JSON Lines delivery log: one line per attempt, written and flushed as it happens,
so nothing is lost when a run is interrupted. Secrets are redacted before writing."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from ..delivery.retry import Attempt
from ..errors import UsageError
from ..redact import Redactor


def attempt_record(attempt: Attempt, redactor: Redactor) -> dict[str, Any]:
    """The log line of an attempt, as a dict (also used by --json and reports)."""
    o, r = attempt.outcome, attempt.request
    record: dict[str, Any] = {
        "time": datetime.fromtimestamp(attempt.sent_at, UTC).isoformat(timespec="microseconds"),
        "event": r.event,
        "label": attempt.label or None,
        "url": redactor.text(r.url),
        "attempt": attempt.attempt,
        "request_headers": redactor.headers(dict(r.headers)),
        "payload": attempt.payload,
        "status": o.status,
        "latency_ms": round(o.latency * 1000, 3),
        "error_class": o.error_class,
        "error": redactor.text(o.error) if o.error else None,
        "response_body": redactor.text(o.body),
    }
    if o.location:
        record["location"] = o.location
    if r.faults:
        record["faults"] = list(r.faults)
    if r.id:
        record["delivery"] = r.id
    try:  # the exact bytes sent, for replay
        record["body"] = redactor.text(r.body.decode("utf-8"))
    except UnicodeDecodeError:
        record["body_b64"] = base64.b64encode(r.body).decode()
    return record


class JsonlLog:
    """Appends attempt records to a file; ``None`` path means no log."""

    def __init__(self, path: Path | None, redactor: Redactor) -> None:
        self.redactor = redactor
        self.path = path
        self.lost = 0  # attempts that could not be written (a full disk)
        self.error: str | None = None
        self._fh: IO[str] | None = None
        if path is not None:
            from .files import check_output

            check_output(path, "log file")  # a FIFO would block the open; a directory...
            try:
                self._fh = path.open("a", encoding="utf-8")
            except OSError as exc:
                raise UsageError(f"cannot write log file {path}: {exc.strerror}") from exc

    def write(self, attempt: Attempt) -> None:
        if self._fh is None:
            return
        if self.error is not None:  # the disk failed once: count, do not retry
            self.lost += 1
            return
        record = self.redactor.data(attempt_record(attempt, self.redactor))
        line = json.dumps(record, ensure_ascii=False)
        try:
            self._fh.write(line + "\n")
            self._fh.flush()
        except OSError as exc:  # the delivery happened; the line is lost, and counted
            self.lost += 1
            self.error = exc.strerror or str(exc)

    def problem(self) -> str | None:
        """One line saying what could not be written, or None."""
        if not self.lost:
            return None
        return f"cannot write log {self.path}: {self.error}; {self.lost} attempts not logged"

    def __enter__(self) -> JsonlLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._fh is not None:
            try:
                self._fh.close()
            except OSError as exc:  # what a failed write left in the buffer
                self.error = self.error or exc.strerror or str(exc)
            self._fh = None
