"""Re-send recorded deliveries byte for byte: from a ``--log`` file (one line per attempt)
or a ``receive --record`` file (one line per request received)."""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
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
    that cannot be replayed). Attempts of one delivery collapse into one entry. Holds
    the whole file's deliveries: :func:`stream_recording` holds one at a time."""
    warnings: list[str] = []
    return list(stream_recording(path, warnings.append, finals=True)), sorted(warnings)


def stream_recording(
    path: Path,
    on_warning: Callable[[str], None] | None = None,
    *,
    finals: bool = False,
) -> Iterator[Recorded]:
    """The deliveries in ``path`` one at a time, as the file is read: the first line of
    each (its later attempts are skipped), in file order. Memory holds one line and the
    set of deliveries seen, not the file: a 1 GB log starts sending at once.
    ``Recorded.ok`` is the delivery's final outcome when ``finals`` (a first pass over
    the file notes each delivery's last status), else its first line's. A line that is
    not JSON is an error where it stands, unless it is the last one (a writer cut off
    mid-line: skipped with a warning). ``on_warning`` hears each warning once."""
    told: set[str] = set()

    def warn(text: str) -> None:
        if text not in told:
            told.add(text)
            if on_warning is not None:
                on_warning(text)

    final_ok = _final_outcomes(path) if finals else None
    seen: set[str] = set()
    torn: int | None = None  # a line that did not parse, pending: is it the last one?
    for number, line in _lines(path):
        if torn is not None:
            raise UsageError(f"{path}:{torn}: not a JSON line") from None
        try:
            record = json.loads(line)
        except ValueError:
            torn = number
            continue
        if not isinstance(record, dict) or ("body" not in record and "body_b64" not in record):
            raise UsageError(
                f"{path}:{number}: no body to replay",
                "replay reads files written by --log or receive --record",
            )
        if record.get("error_class") == "dropped":
            continue  # never sent, so not replayed
        key = str(record.get("delivery") or f"line{number}")
        if key in seen:
            continue
        seen.add(key)
        record["_line"] = number
        record["_final"] = record
        warnings: set[str] = set()
        try:
            found = _recorded(record, warnings)
        except (TypeError, ValueError, AttributeError) as exc:
            raise UsageError(
                f"{path}:{number}: a field cannot be replayed ({exc})",
                "replay reads files written by --log or receive --record",
            ) from None
        for text in sorted(warnings):
            warn(text)
        if final_ok is not None:
            found = replace(found, ok=final_ok.get(key, found.ok))
        yield found
    if torn is not None:
        warn(f"{path}:{torn}: skipped a torn last line")


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """Numbered non-empty lines, read as they are needed."""
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    with fh:
        for number, raw in enumerate(fh, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise UsageError(f"{path}:{number}: not UTF-8 (a JSON Lines file?)") from None
            if line.strip():
                yield number, line


def _final_outcomes(path: Path) -> dict[str, bool]:
    """Each delivery's last status as a 2xx or not (a first pass: one bool a delivery)."""
    final: dict[str, bool] = {}
    for number, line in _lines(path):
        try:
            record = json.loads(line)
        except ValueError:
            continue  # the second pass says where
        if isinstance(record, dict):
            status = record.get("status")
            key = str(record.get("delivery") or f"line{number}")
            final[key] = isinstance(status, int) and 200 <= status < 300
    return final


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


def check_timing(path: Path, recorded: Iterable[Recorded]) -> Iterator[Recorded]:
    """For ``--keep-timing``: ``recorded`` again, each checked as it passes: it has a
    time, and its gap from the one before is not absurd (a UsageError naming its line
    otherwise, before it is sent)."""
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
        yield r
