"""Re-send recorded deliveries byte for byte: from a ``--log`` file (one line per attempt)
or a ``receive --record`` file (one line per request received)."""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from .delivery.headers import FRAMING, check_header
from .errors import UsageError
from .redact import MASK

#: Headers never replayed: the client sets them, or they were redacted.
SKIP_HEADERS = FRAMING | {"user-agent", "accept", "accept-encoding"}


@dataclass(frozen=True, slots=True)
class Recorded:
    event: str
    body: bytes
    headers: tuple[tuple[str, str], ...]
    time: float  # epoch seconds of the original send or receipt
    ok: bool  # the original delivery's final outcome was a 2xx
    label: str = ""
    line: int = 0  # where it starts in the file


def load_recording(path: Path) -> tuple[list[Recorded], list[str]]:
    """The deliveries in a log or record file, in order, and warnings (redacted headers
    that cannot be replayed). Attempts of one delivery collapse into one entry."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not a UTF-8 JSON Lines file") from None
    deliveries: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    warnings: set[str] = set()
    last = max((n for n, line in enumerate(lines, 1) if line.strip()), default=0)
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            if number == last:  # the writer was cut off mid-line (kill -9, a full disk)
                warnings.add(f"{path}:{number}: skipped a torn last line")
                continue
            raise UsageError(f"{path}:{number}: not a JSON line") from None
        if not isinstance(record, dict) or ("body" not in record and "body_b64" not in record):
            raise UsageError(
                f"{path}:{number}: no body to replay",
                "replay reads files written by --log or receive --record",
            )
        if record.get("error_class") == "dropped":
            continue  # never sent, so not replayed
        record["_line"] = number
        key = str(record.get("delivery") or f"line{number}")
        if key not in deliveries:
            order.append(key)
            deliveries[key] = record
        deliveries[key]["_final"] = record
    out = []
    for key in order:
        first = deliveries[key]
        try:
            out.append(_recorded(first, warnings))
        except (TypeError, ValueError, AttributeError) as exc:
            raise UsageError(
                f"{path}:{first['_line']}: a field cannot be replayed ({exc})",
                "replay reads files written by --log or receive --record",
            ) from None
    return out, sorted(warnings)


def _recorded(first: dict[str, Any], warnings: set[str]) -> Recorded:
    final = first["_final"]
    headers = []
    recorded_headers = first.get("request_headers") or first.get("headers") or {}
    if not isinstance(recorded_headers, dict):
        raise TypeError("headers must be an object")
    for name, value in recorded_headers.items():
        if name.lower() in SKIP_HEADERS:
            continue
        if value == MASK:
            warnings.add(f"header {name} was redacted when recorded; it is not replayed")
            continue
        try:
            headers.append(check_header(name, value, f"header {name!r}"))
        except UsageError as exc:
            raise ValueError(exc.message) from None
    status = final.get("status")
    return Recorded(
        str(first.get("event") or first.get("event_type") or "recorded"),
        _body(first),
        tuple(headers),
        _time(first.get("time")),
        isinstance(status, int) and 200 <= status < 300,
        str(first.get("label") or ""),
        int(first.get("_line", 0)),
    )


def _body(record: dict[str, Any]) -> bytes:
    if "body_b64" in record:
        return base64.b64decode(str(record["body_b64"]), validate=True)
    if not isinstance(record["body"], str):
        raise TypeError("body must be a string")
    return record["body"].encode("utf-8")


def _time(text: Any) -> float:
    """Epoch seconds, or NaN when the record has no readable time."""
    try:
        return datetime.fromisoformat(str(text)).timestamp()
    except (ValueError, OverflowError, OSError):
        return math.nan


MAX_GAP = 24 * 3600.0  # seconds: --keep-timing refuses to wait longer between two records


def check_timing(path: Path, recorded: list[Recorded]) -> None:
    """For ``--keep-timing``: every record has a time, and no gap is absurd."""
    previous: Recorded | None = None
    for r in recorded:
        if math.isnan(r.time):
            raise UsageError(
                f"{path}:{r.line}: 'time' is not an ISO 8601 timestamp",
                "--keep-timing needs the recorded times; replay without it sends at once",
            )
        if previous is not None and abs(r.time - previous.time) > MAX_GAP:
            raise UsageError(
                f"{path}:{r.line}: {abs(r.time - previous.time):.0f} s after the record at "
                f"line {previous.line}: --keep-timing waits at most {MAX_GAP:.0f} s",
                "edit the times, or replay without --keep-timing",
            )
        previous = r
