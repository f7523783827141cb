"""Unique, valid payloads fast enough for load: hundreds of thousands per second.

Realistic values (user names, error texts, project and cube ids) come from the ordinary
payload builder, Faker included, once per *base* payload at start-up. On the hot path
only the fields that make each event unique are filled in: its own ids (from seeded
``randbytes`` calls per batch), its timestamp and its measurement (``time_taken``,
``duration``); ``is_full_build`` alternates between base payloads. Every body is the
event's wire shape and validates against its schema.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import repeat
from typing import Any

from ..errors import UsageError
from ..events.catalogue import EVENTS, SLOW_QUERY_THRESHOLD_S, Event
from ..events.ids import derive_seed
from ..events.payload import PayloadOptions, build_payload, encode, format_timestamp, resolve_event

#: The default mix: how often a busy engine might send each event (atscale-mock's
#: assumption; the spec gives no frequencies). Slow queries dominate.
DEFAULT_MIX: dict[str, float] = {
    "slow-query": 70,
    "slow-agg-build": 15,
    "batch-start": 5,
    "batch-result": 5,
    "prune-result": 2,
    "schema-publish": 2,
    "unpublish": 1,
}
BASES = 32  # base payloads per event, for realistic variety in the non-unique fields
ENTITIES = 16  # projects (and cubes) the load spreads over

#: Fields regenerated for every request, by kind.
_UNIQUE_IDS = ("id", "query_id", "instance_id", "definition_id", "triggering_query_id")
#: Events about a project that comes or goes: each request names a new project.
_NEW_PROJECT = ("schema-publish", "unpublish")
_IDS = ("id", "same")
#: Other fields filled in per request, by their kind in the catalogue.
_SLOT_OF_KIND = {
    "same_as_project": "same",
    "timestamp": "timestamp",
    "seconds": "seconds",
    "millis": "millis",
}
_SENTINEL = "\x00slot{}\x00"
_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}


def parse_mix(text: str | None) -> dict[str, float]:
    """``slow-query=8,batch-start=1`` into {event name: weight}; None gives DEFAULT_MIX."""
    if not text:
        return dict(DEFAULT_MIX)
    mix: dict[str, float] = {}
    for part in text.split(","):
        name, sep, weight = part.partition("=")
        event = resolve_event(name.strip())
        try:
            value = float(weight) if sep else 1.0
        except ValueError:
            raise UsageError(
                f"--mix: weight of {name.strip()!r} is not a number: {weight!r}",
                "for example --mix slow-query=8,batch-start=1",
            ) from None
        if value < 0:
            raise UsageError(f"--mix: weight of {name.strip()!r} is negative")
        mix[event.name] = mix.get(event.name, 0.0) + value
    if not any(mix.values()):
        raise UsageError("--mix: every weight is zero")
    return mix


@dataclass(frozen=True, slots=True)
class _Template:
    """A base payload as bytes with %s slots, and what goes in each slot. Every value
    of a slot has the same width, so a filled-in body always has ``length`` bytes."""

    event: str
    text: bytes
    slots: tuple[str, ...]  # "id" | "same" | "timestamp" | "seconds" | "millis"
    length: int


def _template(event: Event, payload: dict[str, Any], widths: dict[str, int]) -> _Template:
    slots: list[str] = []

    def mark(node: dict[str, Any]) -> None:
        for key, value in node.items():
            field = event.field(key) or event.field(f"context.{key}")
            if isinstance(value, dict):
                mark(value)
                continue
            kind = field.kind if field else ""
            unique = key in _UNIQUE_IDS or (key == "project_id" and event.name in _NEW_PROJECT)
            slot = "id" if unique else _SLOT_OF_KIND.get(kind, "")
            if slot:
                node[key] = _SENTINEL.format(len(slots))
                slots.append(slot)

    mark(payload)
    text = encode(payload).decode().replace("%", "%%")
    for i, slot in enumerate(slots):  # ids are filled in unquoted
        text = text.replace(json.dumps(_SENTINEL.format(i)), '"%s"' if slot in _IDS else "%s")
    body = text.encode()
    length = len(body % tuple(b"x" * widths[slot] for slot in slots))
    return _Template(event.name, body, tuple(slots), length)


def _set_kind(event: Event, node: dict[str, Any], kind: str, value: Any) -> None:
    """Set every field of ``kind`` in a payload (at any depth) to ``value``."""
    for key, old in node.items():
        if isinstance(old, dict):
            _set_kind(event, old, kind, value)
            continue
        field = event.field(key) or event.field(f"context.{key}")
        if field is not None and field.kind == kind:
            node[key] = value


def _finished(head: bytes | None, template: _Template) -> bytes:
    """The template's text, behind ``head`` and the Content-Length if a head is given;
    it is ``%``-formatted once more for each payload, so the head's ``%`` are doubled,
    and a template without slots (never formatted again) is finished here."""
    text = template.text
    if head is not None:
        text = head.replace(b"%", b"%%") + b"%d\r\n\r\n" % template.length + text
    return text if template.slots else text % ()


def _same_width(values: list[str]) -> list[bytes]:
    assert len({len(v) for v in values}) == 1, values
    return [v.encode() for v in values]


class PayloadGenerator:
    """Seeded batches of (event name, body) for a mix of events, or of whole requests.

    A batch is built column by column rather than payload by payload, with ``map`` over
    random bytes wherever it can, so the loops run in C: the events are drawn first
    (one 16-bit draw each from a wheel of the mix's weights), then for each event all
    its base templates, ids and measurements at once, and each body is one ``%``
    format of its template. Every value of a slot has the same width (``time_taken``
    gets one decimal fewer from 10 s up), so each template's length is known at start-up
    and, given ``head`` (a request head ending in ``Content-Length: ``), a template can
    be a whole HTTP request: one ``%`` format then makes the request.
    """

    def __init__(
        self,
        mix: dict[str, float],
        seed: int,
        *,
        full: bool = False,
        slow_threshold: float = SLOW_QUERY_THRESHOLD_S,
        head: bytes | None = None,
    ) -> None:
        self.rng = random.Random(derive_seed(seed, "load"))
        self.names = [name for name, w in mix.items() if w > 0]
        self.wheel = _wheel({name: mix[name] for name in self.names})
        self.slow_threshold = slow_threshold
        # measurement values by random byte: one table lookup per payload. Slow queries
        # take from the threshold to 12.75 s past it; slow aggregate builds 10-34.7 s
        # (the spec's example took 7.6 s; five digits keep the width fixed).
        seconds = [slow_threshold + x * 0.05 for x in range(256)]
        digits = len(str(int(seconds[-1])))
        self.tables = {
            "seconds": _same_width([f"{v:.{6 + digits - len(str(int(v)))}f}" for v in seconds]),
            "millis": _same_width([str(10_000 + x * 97) for x in range(256)]),
        }
        stamp = json.dumps(format_timestamp(datetime.now(UTC)))
        widths = {"id": 36, "same": 36, "timestamp": len(stamp)}
        widths.update({name: len(table[0]) for name, table in self.tables.items()})
        # 256 entries per event (each base 256 / BASES times): one random byte picks one
        self.templates = {
            name: self._bases(resolve_event(name), seed, full, widths) * (256 // BASES)
            for name in self.names
        }
        self.texts = {
            name: [_finished(head, t) for t in tpls] for name, tpls in self.templates.items()
        }

    def _bases(
        self, event: Event, seed: int, full: bool, widths: dict[str, int]
    ) -> list[_Template]:
        entity = random.Random(derive_seed(seed, "entities"))
        projects = [f"{entity.getrandbits(128):032x}" for _ in range(ENTITIES)]
        out = []
        for i in range(BASES):
            pin = projects[i % ENTITIES]
            options = PayloadOptions(
                full=full,
                failed=bool(event.failure) and i % 4 == 3,
                slow_threshold=self.slow_threshold,
                project=_as_uuid(pin),
                cube=_as_uuid(pin[::-1]),
            )
            payload = build_payload(event, derive_seed(seed, event.name, i), options)
            _set_kind(event, payload, "is_full_build", i % 2 == 1)  # half the bases each
            if i % 16 == 15 and "cube_id" in payload:  # 2 bases in 32: "null if not available"
                payload["cube_id"] = None
            out.append(_template(event, payload, widths))
        return out

    def batch(self, n: int, now: datetime | None = None) -> list[tuple[str, bytes]]:
        """``n`` unique payloads (or requests, given ``head``); timestamps are ``now``
        (the batch's creation time)."""
        names, bodies = self._generate(n, now)
        return list(zip(names, bodies, strict=True))

    def columns(self, n: int, now: datetime | None = None) -> tuple[list[str], list[bytes]]:
        """What ``batch(n)`` gives, as a list of names and a list of bodies (the load
        hot path pops bodies alone, and counts the names once per batch)."""
        return self._generate(n, now)

    def _generate(self, n: int, now: datetime | None) -> tuple[list[str], list[bytes]]:
        rng = self.rng
        stamp = json.dumps(format_timestamp(now or datetime.now(UTC))).encode()
        names = list(map(self.wheel.__getitem__, memoryview(rng.randbytes(2 * n)).cast("H")))
        nexts = {}
        for name in self.names:
            count = names.count(name)
            if count:
                nexts[name] = iter(self._bodies_of(name, count, stamp)).__next__
        return names, [nexts[name]() for name in names]

    def _bodies_of(self, name: str, count: int, stamp: bytes) -> list[bytes]:
        """``count`` bodies of one event: a column of values per template slot."""
        rng = self.rng
        picks = rng.randbytes(count)
        texts = list(map(self.texts[name].__getitem__, picks))
        slots = self.templates[name][0].slots
        if not slots:
            return texts
        columns: list[Iterable[bytes]] = []
        for slot in slots:
            if slot == "id":
                columns.append(self._ids(count))
            elif slot == "same":
                columns.append(columns[-1])
            elif slot == "timestamp":
                columns.append(repeat(stamp, count))
            else:
                columns.append(map(self.tables[slot].__getitem__, rng.randbytes(count)))
        return list(map(bytes.__mod__, texts, zip(*columns, strict=True)))

    def _ids(self, n: int) -> list[bytes]:
        """``n`` distinct version-4 UUIDs (unquoted). The first 74 random bits are drawn
        once per call, the last 48 for each id (drawn again in the rare case two in one
        call are equal); calls are told apart by their random part, as version-4 UUIDs
        always are."""
        rng = self.rng
        h = rng.randbytes(10).hex()
        prefix = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-".encode()
        while True:
            tails = rng.randbytes(6 * n).hex(" ", 6).encode().split()
            if len(set(tails)) == n:
                return list(map(prefix.__add__, tails))


WHEEL = 1 << 16


def _wheel(weights: dict[str, float]) -> list[str]:
    """65,536 event names in proportion to their weights (every weighted event at least
    once), so one 16-bit random number draws an event."""
    total = sum(weights.values())
    counts = {name: max(1, round(w / total * WHEEL)) for name, w in weights.items()}
    top = max(counts, key=counts.__getitem__)
    counts[top] += WHEEL - sum(counts.values())
    return [name for name, count in counts.items() for _ in range(count)]


def _as_uuid(h: str) -> str:
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


__all__ = ["DEFAULT_MIX", "PayloadGenerator", "parse_mix", "EVENTS"]
