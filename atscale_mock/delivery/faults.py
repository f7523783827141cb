"""Untidy deliveries on purpose: duplicates, reordering, drops, delays and malformed
bodies. Pure and seeded: :func:`arrange` decides what happens to each of N deliveries,
:func:`malform` rewrites one request. Every fault is labelled, and the labels travel
with the request into the log, the output, the JUnit file and the reports."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..errors import UsageError
from ..events.payload import encode

MALFORMED_KINDS = (
    "invalid-json",
    "wrong-content-type",
    "missing-field",
    "wrong-type",
    "oversized",
    "empty",
)
OVERSIZED_BYTES = 2 * 1024 * 1024
T = TypeVar("T")


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
        # each message begins with the keyword (``field``): the CLI puts its flag there
        for name in ("duplicates", "drop", "malformed_rate"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise UsageError(f"{name} must be from 0 to 1, got {value}", field=name)
        if self.reorder < 0:
            raise UsageError(f"reorder must not be negative, got {self.reorder}", field="reorder")
        for name in ("delay", "jitter"):
            value = getattr(self, name)
            if not 0 <= value < 1e6:
                raise UsageError(
                    f"{name} must be from 0 to 1,000,000 seconds, got {value}", field=name
                )
        if self.malformed is not None and self.malformed not in MALFORMED_KINDS:
            raise UsageError(
                f"malformed: unknown kind {self.malformed!r}",
                "kinds: " + ", ".join(MALFORMED_KINDS),
                field="malformed",
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


#: the label of a duplicate's copy: "duplicate of #3" (``Request.faults``)
DUPLICATE_OF = "duplicate of #"


def is_copy(labels: tuple[str, ...]) -> bool:
    """The labels are a duplicate's copy's (sent again, not one of the planned)."""
    return any(label.startswith(DUPLICATE_OF) for label in labels)


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


def arrange(n: int, faults: Faults, rng: random.Random) -> Iterator[Slot]:
    """The sends for ``n`` deliveries, in the order they go out (see :func:`arrange_items`)."""
    for slot, _, _ in arrange_items(range(n), faults, rng):
        yield slot


def arrange_items(
    items: Iterable[T],
    faults: Faults,
    rng: random.Random,
    faults_of: Callable[[T], Faults] | None = None,
) -> Iterator[tuple[Slot, T, T]]:
    """The sends for a stream of deliveries, in the order they go out, made as they are
    taken (memory does not grow with their number: a window of ``faults.reorder`` sends
    at most). Each send comes with its delivery and with the delivery whose place in
    time it takes: the k-th of its window in planned order, so reordering swaps the
    times of a window's deliveries and a duplicate goes out with its original.
    ``faults_of`` gives a delivery's faults where they differ (a scenario step's own
    keys); reordering always follows ``faults``."""
    size = faults.reorder if faults.reorder > 1 else 1
    window: list[tuple[int, bool, T, Faults]] = []
    paired: set[int] = set()
    position = 0
    for i, item in enumerate(items):
        f = faults_of(item) if faults_of is not None else faults
        window.append((i, False, item, f))
        if f.duplicates and rng.random() < f.duplicates:
            window.append((i, True, item, f))
            paired.add(i)
        while len(window) >= size:
            chunk, window = window[:size], window[size:]
            yield from _slots(chunk, position, rng, paired, size > 1)
            position += len(chunk)
            # a pair split over two windows keeps its mark until the copy has gone
            if paired:
                paired &= {entry[0] for entry in window}
    if window:
        yield from _slots(window, position, rng, paired, size > 1)


def _slots(
    chunk: list[tuple[int, bool, T, Faults]],
    start: int,
    rng: random.Random,
    paired: set[int],
    reorder: bool,
) -> Iterator[tuple[Slot, T, T]]:
    natural = list(chunk)
    places = {(i, dup): start + k for k, (i, dup, _, _) in enumerate(chunk)}
    if reorder:
        rng.shuffle(chunk)
    for k, (i, dup, item, f) in enumerate(chunk):
        position = start + k
        labels = []
        if dup:
            labels.append(f"{DUPLICATE_OF}{i + 1}")
        if position != places[(i, dup)]:
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
        yield Slot(i, dup, dropped, delay, kind, tuple(labels), i in paired), item, natural[k][2]


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
