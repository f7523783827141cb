"""Untidy deliveries on purpose: duplicates, reordering, drops, delays and malformed
bodies. Pure and seeded: :func:`arrange` decides what happens to each of N deliveries,
:func:`malform` rewrites one request. Every fault is labelled, and the labels travel
with the request into the log, the output, the JUnit file and the reports."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..errors import UsageError
from ..payload import encode

MALFORMED_KINDS = (
    "invalid-json",
    "wrong-content-type",
    "missing-field",
    "wrong-type",
    "oversized",
    "empty",
)
OVERSIZED_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Faults:
    duplicates: float = 0.0  # probability that a delivery is sent again (same body, same id)
    reorder: int = 0  # deliveries are shuffled within windows of this many
    drop: float = 0.0  # probability that a delivery is generated but never sent
    delay: float = 0.0  # seconds added before every delivery
    jitter: float = 0.0  # up to this many seconds more, at random
    malformed: str | None = None
    malformed_rate: float = 1.0

    def __post_init__(self) -> None:
        for name in ("duplicates", "drop", "malformed_rate"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise UsageError(f"--{name.replace('_', '-')} must be from 0 to 1, got {value}")
        if self.reorder < 0 or not (0 <= self.delay < 1e6 and 0 <= self.jitter < 1e6):
            raise UsageError(
                "reorder, delay and jitter must be finite and not negative "
                f"(delay and jitter below 1,000,000 s), got {self.delay}, {self.jitter}"
            )
        if self.malformed is not None and self.malformed not in MALFORMED_KINDS:
            raise UsageError(
                f"--malformed: unknown kind {self.malformed!r}",
                "kinds: " + ", ".join(MALFORMED_KINDS),
            )

    @property
    def active(self) -> bool:
        return bool(
            self.duplicates
            or self.reorder > 1
            or self.drop
            or self.delay
            or self.jitter
            or self.malformed
        )


@dataclass(frozen=True, slots=True)
class Slot:
    """One send: which original delivery, and what the faults do to it."""

    index: int  # the original delivery, 0-based
    duplicate: bool = False
    dropped: bool = False
    delay: float = 0.0
    malformed: str | None = None
    labels: tuple[str, ...] = field(default_factory=tuple)
    paired: bool = False  # this delivery is sent twice (it, and a duplicate of it)


def arrange(
    n: int, faults: Faults, rng: random.Random, each: list[Faults] | None = None
) -> Iterator[Slot]:
    """The sends for ``n`` deliveries, in the order they go out, made as they are taken
    (memory does not grow with ``n``: a window of ``faults.reorder`` sends at most).
    ``each`` gives the faults of every delivery where they differ (a scenario step's own
    keys); reordering always follows ``faults``."""

    def of(i: int) -> Faults:
        return each[i] if each is not None else faults

    size = faults.reorder if faults.reorder > 1 else 1
    window: list[tuple[int, bool]] = []
    paired: set[int] = set()
    position = 0
    for i in range(n):
        window.append((i, False))
        f = of(i)
        if f.duplicates and rng.random() < f.duplicates:
            window.append((i, True))
            paired.add(i)
        while len(window) >= size:
            chunk, window = window[:size], window[size:]
            yield from _slots(chunk, position, of, rng, paired, size > 1)
            position += len(chunk)
            # a pair split over two windows keeps its mark until the copy has gone
            paired &= {index for index, _ in window}
    if window:
        yield from _slots(window, position, of, rng, paired, size > 1)


def _slots(
    chunk: list[tuple[int, bool]],
    start: int,
    of: Callable[[int], Faults],
    rng: random.Random,
    paired: set[int],
    reorder: bool,
) -> Iterator[Slot]:
    natural = {item: start + k for k, item in enumerate(chunk)}
    if reorder:
        rng.shuffle(chunk)
    for k, (i, dup) in enumerate(chunk):
        position = start + k
        f = of(i)
        labels = []
        if dup:
            labels.append(f"duplicate of #{i + 1}")
        if position != natural[(i, dup)]:
            labels.append(f"reordered: #{i + 1} sent in position {position + 1}")
        dropped = bool(f.drop) and rng.random() < f.drop
        if dropped:
            labels.append("dropped: generated, never sent")
        delay = f.delay + (rng.uniform(0, f.jitter) if f.jitter else 0.0)
        if delay:
            labels.append(f"delayed {delay * 1000:.0f} ms")
        kind = None
        if f.malformed and rng.random() < f.malformed_rate:
            kind = f.malformed
        yield Slot(i, dup, dropped, delay, kind, tuple(labels), i in paired)


def malform(
    kind: str, body: bytes, headers: dict[str, str], rng: random.Random
) -> tuple[bytes, dict[str, str], str]:
    """The request made malformed in the given way, and a label saying how."""
    headers = dict(headers)
    if kind == "invalid-json":
        return body[:-1], headers, "malformed: invalid JSON (closing brace removed)"
    if kind == "wrong-content-type":
        headers["Content-Type"] = "text/plain"
        return body, headers, "malformed: Content-Type text/plain"
    if kind == "empty":
        return b"", headers, "malformed: empty body"
    payload: dict[str, Any] = json.loads(body)
    if kind == "oversized":
        payload["padding"] = "x" * OVERSIZED_BYTES
        data = encode(payload)
        return data, headers, f"malformed: oversized body ({len(data)} bytes, padding field)"
    key = rng.choice(sorted(payload))
    if kind == "missing-field":
        del payload[key]
        return encode(payload), headers, f"malformed: field '{key}' missing"
    value = payload[key]
    payload[key] = (
        []
        if isinstance(value, dict)
        else 12345
        if isinstance(value, str)
        else "not-a-number"
        if isinstance(value, int | float)
        else ""
    )
    return encode(payload), headers, f"malformed: field '{key}' has the wrong type"
