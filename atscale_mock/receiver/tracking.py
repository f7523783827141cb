"""What a receiver can tell from the order of what it got: duplicates (the same event
twice) and ordering problems (a batch result whose start has not come). Pure."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from typing import Any

MAX_REMEMBERED = 1_000_000  # identities kept; the oldest are forgotten beyond this


def identity(payload: Any, body: bytes) -> str:
    """The event's own identity: its type and id when it has one, else its body."""
    if isinstance(payload, dict):
        for key in ("id", "query_id", "instance_id"):
            if isinstance(payload.get(key), str):
                return f"{payload.get('event_type')}:{payload[key]}"
    return "body:" + hashlib.blake2b(body, digest_size=16).hexdigest()


@dataclass
class Tracker:
    seen: dict[str, int] = field(default_factory=dict)  # identity -> times seen
    started: set[str] = field(default_factory=set)  # batch ids whose start came
    early_results: set[str] = field(default_factory=set)  # results before their start
    duplicates: int = 0
    out_of_order: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def observe(self, payload: Any, body: bytes) -> tuple[bool, str | None]:
        """(is a duplicate, ordering problem or None) for one received request."""
        key = identity(payload, body)
        with self._lock:
            if len(self.seen) >= MAX_REMEMBERED:
                self.seen.clear()
            count = self.seen.get(key, 0)
            self.seen[key] = count + 1
            duplicate = count > 0
            self.duplicates += duplicate
            problem = self._order(payload)
            self.out_of_order += problem is not None
        return duplicate, problem

    def _order(self, payload: Any) -> str | None:
        if not isinstance(payload, dict) or not isinstance(payload.get("id"), str):
            return None
        kind, batch = payload.get("event_type"), payload["id"]
        if kind == "aggregate_batch_started":
            self.started.add(batch)
            self.early_results.discard(batch)
        elif (
            kind in ("aggregate_batch_result", "aggregate_prune_result")
            and batch not in self.started
        ):
            self.early_results.add(batch)
            return "before its batch start"
        return None

    def summary(self) -> dict[str, int]:
        """Counts, including results whose start never came at all."""
        return {
            "duplicates": self.duplicates,
            "out_of_order": self.out_of_order,
            "results_without_start": len(self.early_results),
        }
