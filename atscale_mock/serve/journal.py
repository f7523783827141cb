"""The delivery journal of ``serve``: every attempt in SQLite (a file that survives a
restart), queryable, and exportable as the JSON Lines ``replay`` reads. Rows are
written and committed as attempts happen, so a SIGTERM or a crash loses nothing that
was recorded; secrets are redacted before a row is written."""

from __future__ import annotations

import contextlib
import itertools
import json
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..config import DEFAULT_JOURNAL_MAX_ROWS
from ..delivery.retry import Attempt
from ..errors import UsageError
from ..events.payload import format_timestamp
from ..redact import Redactor
from ..report.log import attempt_record

RESPONSE_BODY_KEEP = 1024  # characters of a response body kept in a row
DEFAULT_MAX_ROWS = DEFAULT_JOURNAL_MAX_ROWS  # rows kept at most; the oldest go first

_SCHEMA = """
CREATE TABLE IF NOT EXISTS attempts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id TEXT NOT NULL,
    webhook_id TEXT,
    run_id TEXT,
    message_id TEXT,
    event TEXT NOT NULL,
    url TEXT NOT NULL,
    time REAL NOT NULL,
    attempt INTEGER NOT NULL,
    status INTEGER,
    latency_ms REAL NOT NULL,
    error_class TEXT,
    error TEXT,
    signature TEXT,
    schema_ok INTEGER,
    fault TEXT,
    response_body TEXT,
    payload TEXT,
    log_line TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS attempts_event ON attempts(event);
CREATE INDEX IF NOT EXISTS attempts_time ON attempts(time);
CREATE INDEX IF NOT EXISTS attempts_delivery ON attempts(delivery_id);
"""

_COLUMNS = (
    "seq",
    "delivery_id",
    "webhook_id",
    "run_id",
    "message_id",
    "event",
    "url",
    "time",
    "attempt",
    "status",
    "latency_ms",
    "error_class",
    "error",
    "signature",
    "schema_ok",
    "fault",
    "response_body",
    "payload",
)


@dataclass(frozen=True, slots=True)
class Context:
    """What the journal records beside an attempt: whose delivery it was."""

    webhook_id: str | None = None
    run_id: str | None = None
    signature: str | None = None  # the signing scheme, or None (unsigned)
    schema_ok: bool | None = None
    fault: str | None = None  # an engine fault that acted on this attempt


class Journal:
    """Attempts in one SQLite file (WAL mode). Rows are numbered and handed to a writer
    thread at once, so a slow disk never stalls a delivery; the writer commits every
    batch within ``FLUSH_EVERY`` seconds; every read, reset and close waits for the
    rows before it (read-your-writes)."""

    FLUSH_EVERY = 0.05

    def __init__(
        self,
        path: Path,
        redactor: Redactor,
        on_error: Callable[[str], None] | None = None,
        max_rows: int = DEFAULT_MAX_ROWS,
        temporary: bool = False,
    ) -> None:
        if max_rows < 1:
            raise UsageError(
                f"journal_max_rows must be at least 1, got {max_rows}", field="journal_max_rows"
            )
        self.max_rows = max_rows
        self.temporary = temporary  # deleted on close
        self.path = path
        self.redactor = redactor
        self.on_error = on_error
        self.errors = 0
        #: the last write's error while writes fail (a full disk), None once one succeeds
        self.failing: str | None = None
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            last = self._db.execute("SELECT MAX(seq) FROM attempts").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise UsageError(f"cannot use journal {path}: {exc}") from None
        self._seq = itertools.count((last or 0) + 1)
        first = self._db.execute("SELECT MIN(seq) FROM attempts").fetchone()[0]
        self._trimmed = first or 0
        self._queue: queue.Queue[tuple[Any, ...] | None] = queue.Queue()
        self._writer = threading.Thread(target=self._write, name="journal-writer", daemon=True)
        self._writer.start()

    def record(self, attempt: Attempt, context: Context) -> dict[str, Any]:
        """Number one attempt and queue it for writing; returns the row as the API
        shows it."""
        line = attempt_record(attempt, self.redactor)
        o, r = attempt.outcome, attempt.request
        msg_id = next((v for k, v in r.headers if k.lower() == "webhook-id"), None)
        values = (
            next(self._seq),
            r.id,
            context.webhook_id,
            context.run_id,
            msg_id,
            r.event,
            line["url"],
            attempt.sent_at,
            attempt.attempt,
            o.status,
            line["latency_ms"],
            o.error_class,
            line["error"],
            context.signature,
            None if context.schema_ok is None else int(context.schema_ok),
            context.fault,
            line["response_body"][:RESPONSE_BODY_KEEP],
            json.dumps(attempt.payload, ensure_ascii=False),
            json.dumps(line, ensure_ascii=False),
        )
        self._queue.put(values)
        return _row(values[: len(_COLUMNS)])

    def _write(self) -> None:
        sql = (
            "INSERT INTO attempts ("
            + ", ".join(_COLUMNS)
            + ", log_line) VALUES ("
            + ",".join("?" * (len(_COLUMNS) + 1))
            + ")"
        )
        while True:
            first = self._queue.get()
            batch = [first]
            deadline = time.monotonic() + self.FLUSH_EVERY
            while first is not None and batch[-1] is not None:
                try:
                    batch.append(self._queue.get(timeout=max(deadline - time.monotonic(), 0)))
                except queue.Empty:
                    break
            rows = [b for b in batch if b is not None]
            if rows:
                try:
                    with self._lock:
                        self._db.execute("BEGIN")
                        self._db.executemany(sql, rows)
                        self._trim(rows[-1][0])
                        self._db.execute("COMMIT")
                    self.failing = None
                except sqlite3.Error as exc:  # a full disk: the deliveries went, rows did not
                    self.errors += len(rows)
                    self.failing = str(exc)
                    with contextlib.suppress(sqlite3.Error):
                        self._db.execute("ROLLBACK")
                    if self.on_error:
                        self.on_error(f"journal {self.path}: {exc}; {len(rows)} rows not written")
            for _ in batch:
                self._queue.task_done()
            if batch[-1] is None:
                return

    def _trim(self, last_seq: int) -> None:
        """Keep the newest ``max_rows`` rows (in the writer's transaction: a range of
        the primary key, as many rows as the batch added)."""
        keep_from = last_seq - self.max_rows + 1
        if keep_from > self._trimmed:
            self._db.execute("DELETE FROM attempts WHERE seq < ?", (keep_from,))
            self._trimmed = keep_from

    def flush(self) -> None:
        """Wait until every row recorded so far is written."""
        self._queue.join()

    def query(
        self,
        *,
        event: str | None = None,
        status: str | None = None,
        since: float | None = None,
        webhook_id: str | None = None,
        run_id: str | None = None,
        delivery_id: str | None = None,
        after: int | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Attempts, oldest first, filtered: ``status`` is a number (``503``), a class
        (``2xx``), ``ok``, ``failed`` or ``error`` (no status at all)."""
        where: list[str] = []
        args: list[Any] = []
        for column, value in (
            ("event", event),
            ("webhook_id", webhook_id),
            ("run_id", run_id),
            ("delivery_id", delivery_id),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if since is not None:
            where.append("time >= ?")
            args.append(since)
        if after is not None:
            where.append("seq > ?")
            args.append(after)
        if status is not None:
            clause, more = status_clause(status)
            where.append(clause)
            args.extend(more)
        sql = "SELECT " + ", ".join(_COLUMNS) + " FROM attempts"
        if where:
            sql += " WHERE " + " AND ".join(where)
        # the newest `limit` rows, shown oldest first
        sql = f"SELECT * FROM ({sql} ORDER BY seq DESC LIMIT ?) ORDER BY seq"
        args.append(limit)
        self.flush()
        with self._lock:
            return [_row(r) for r in self._db.execute(sql, args).fetchall()]

    def lines(self) -> Iterator[str]:
        """Every attempt as a ``--log`` line (what ``replay`` reads), oldest first."""
        for page in self.pages():
            yield from page

    def pages(self) -> Iterator[list[str]]:
        """:meth:`lines` in pages of 500, so the writer is never held up for long (and a
        server can read each page on a worker thread)."""
        self.flush()
        last = 0
        while True:
            with self._lock:
                page = self._db.execute(
                    "SELECT seq, log_line FROM attempts WHERE seq > ? ORDER BY seq LIMIT 500",
                    (last,),
                ).fetchall()
            if not page:
                return
            last = page[-1][0]
            yield [line for _, line in page]

    def count(self) -> int:
        self.flush()
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM attempts").fetchone()[0])

    def reset(self) -> None:
        self.flush()
        with self._lock:
            self._db.execute("DELETE FROM attempts")

    def close(self) -> None:
        """Write what is queued, then close the file."""
        if self._writer.is_alive():
            self._queue.put(None)
            self._writer.join()
        self._db.close()
        if self.temporary:
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(OSError):
                    Path(str(self.path) + suffix).unlink()


def status_clause(status: str) -> tuple[str, list[Any]]:
    """The SQL condition for a ``status=`` filter; ValueError names a bad one."""
    s = status.strip().lower()
    if s == "ok":
        return "status BETWEEN 200 AND 299", []
    if s == "failed":
        return "(status IS NULL OR status NOT BETWEEN 200 AND 299)", []
    if s == "error":
        return "status IS NULL", []
    if len(s) == 3 and s[0] in "12345" and s[1:] == "xx":
        low = int(s[0]) * 100
        return "status BETWEEN ? AND ?", [low, low + 99]
    if s.isdigit() and 100 <= int(s) <= 599:
        return "status = ?", [int(s)]
    raise ValueError(
        f"status: expected a code (503), a class (5xx), ok, failed or error; got {status!r}"
    )


def _row(values: tuple[Any, ...] | sqlite3.Row) -> dict[str, Any]:
    row = dict(zip(_COLUMNS, values, strict=True))
    row["id"] = row.pop("delivery_id")
    row["payload"] = json.loads(row["payload"]) if row["payload"] else None
    if row["schema_ok"] is not None:
        row["schema_ok"] = bool(row["schema_ok"])
    row["time_iso"] = format_timestamp(datetime.fromtimestamp(row["time"], UTC))
    return row
