"""Unique, valid payloads fast enough for load: hundreds of thousands per second.

Realistic values (user names, error texts, project and cube ids) come from the ordinary
payload builder, Faker included, once per *base* payload at start-up. On the hot path
only the fields that make each event unique are filled in: its own ids (from one seeded
``randbytes`` call per batch), its timestamp and its measurement (``time_taken``,
``duration``). Every body is the event's wire shape and validates against its schema.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..catalogue import EVENTS, Event
from ..errors import UsageError
from ..ids import derive_seed
from ..payload import BuildOptions, build_payload, format_timestamp, resolve_event

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
    """A base payload as bytes with %s slots, and what goes in each slot."""

    event: str
    text: bytes
    slots: tuple[str, ...]  # "id" | "timestamp" | "seconds" | "millis" | "bool"


def _template(event: Event, payload: dict[str, Any]) -> _Template:
    slots: list[str] = []

    def mark(node: dict[str, Any]) -> None:
        for key, value in node.items():
            field = event.field(key) or event.field(f"context.{key}")
            if isinstance(value, dict):
                mark(value)
                continue
            kind = field.kind if field else ""
            unique = key in _UNIQUE_IDS or (key == "project_id" and event.name in _NEW_PROJECT)
            slot = (
                "id"
                if unique
                else "same"
                if kind == "same_as_project"
                else "timestamp"
                if kind == "timestamp"
                else "seconds"
                if kind == "seconds"
                else "millis"
                if kind == "millis"
                else "bool"
                if kind == "is_full_build"
                else ""
            )
            if slot:
                node[key] = _SENTINEL.format(len(slots))
                slots.append(slot)

    mark(payload)
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).replace("%", "%%")
    for i in range(len(slots)):
        text = text.replace(json.dumps(_SENTINEL.format(i)), "%s")
    return _Template(event.name, text.encode(), tuple(slots))


class PayloadGenerator:
    """Seeded batches of (event name, body) for a mix of events."""

    def __init__(
        self, mix: dict[str, float], seed: int, *, full: bool = False, slow_threshold: float = 4.0
    ) -> None:
        self.rng = random.Random(derive_seed(seed, "load"))
        self.names = [name for name, w in mix.items() if w > 0]
        self.weights = [mix[name] for name in self.names]
        self.slow_threshold = slow_threshold
        self.templates = {name: self._bases(resolve_event(name), seed, full) for name in self.names}

    def _bases(self, event: Event, seed: int, full: bool) -> list[_Template]:
        entity = random.Random(derive_seed(seed, "entities"))
        projects = [f"{entity.getrandbits(128):032x}" for _ in range(ENTITIES)]
        out = []
        for i in range(BASES):
            pin = projects[i % ENTITIES]
            options = BuildOptions(
                full=full,
                failed=bool(event.failure) and i % 4 == 3,
                slow_threshold=self.slow_threshold,
                project=_as_uuid(pin),
                cube=_as_uuid(pin[::-1]),
            )
            out.append(
                _template(event, build_payload(event, derive_seed(seed, event.name, i), options))
            )
        return out

    def batch(self, n: int, now: datetime | None = None) -> list[tuple[str, bytes]]:
        """``n`` unique payloads; timestamps are ``now`` (the batch's creation time)."""
        rng = self.rng
        stamp = json.dumps(format_timestamp(now or datetime.now(UTC))).encode()
        names = rng.choices(self.names, self.weights, k=n)
        hexes = rng.randbytes(16 * 5 * n).hex()  # up to 5 unique ids per payload
        numbers = rng.randbytes(2 * n)
        pos = 0
        out = []
        threshold = self.slow_threshold
        for i, name in enumerate(names):
            tpl = self.templates[name][numbers[2 * i] % BASES]
            values = []
            for slot in tpl.slots:
                if slot == "id":
                    h = hexes[pos : pos + 32]
                    pos += 32
                    values.append(
                        f'"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}'
                        f'{h[17:20]}-{h[20:]}"'.encode()
                    )
                elif slot == "same":
                    values.append(values[-1])
                elif slot == "timestamp":
                    values.append(stamp)
                elif slot == "seconds":
                    values.append(b"%.6f" % (threshold + numbers[2 * i + 1] * 0.05))
                elif slot == "millis":
                    values.append(b"%d" % (4000 + numbers[2 * i + 1] * 97))
                else:
                    values.append(b"true" if numbers[2 * i + 1] & 1 else b"false")
            out.append((name, tpl.text % tuple(values)))
        return out


def _as_uuid(h: str) -> str:
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


__all__ = ["DEFAULT_MIX", "PayloadGenerator", "parse_mix", "EVENTS"]
