"""What a load worker sends: requests made ahead in batches, or one at a time with
faults, signatures or URL placeholders; and how many of each event went out.

Without any of those the generator makes whole HTTP requests, a batch at a time, and
the worker's hot path only pops the next one off a list; the events of a batch are
counted when it is made, and what is left of the last batch at the end is taken off
again, so the counts cost the hot path nothing. With them, each request is made (and
counted) as it is sent: duplicates, drops, reordering and malformed bodies from
``--faults``, a signature per request, placeholders filled from its payload.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from typing import Any

from ..delivery.faults import malform
from ..delivery.http1 import request_target
from ..delivery.request import fill_url, has_placeholders
from ..delivery.signing import new_message_id
from .client import Target
from .config import WorkerConfig
from .generator import PayloadGenerator
from .stats import Interval

BATCH = 1024  # payloads generated at a time (open loop: 10 ms worth at most: their
# timestamps stay fresh, and making them never holds up a send for long)


class RequestSupply:
    """One worker's requests and its per-event counts (``events``: requests written,
    by event name)."""

    def __init__(self, config: WorkerConfig, target: Target) -> None:
        self.c = config
        self.target = target
        self.placeholders = has_placeholders(config.url)
        # faults, signatures and URL placeholders make each request apart from its body
        self.faulty = config.faults.active or config.signer is not None or self.placeholders
        # without faults the generator makes whole requests; with them, bodies to fault
        self.generator = PayloadGenerator(
            config.mix,
            config.seed + config.worker * 7919,
            full=config.full,
            head=None if self.faulty else target.json_head,
        )
        self.batch_size = BATCH
        if config.phases:
            peak = max(max(p.rate, p.end_rate) for p in config.phases)
            self.batch_size = max(1, min(BATCH, int(peak / 100)))
        self.events: Counter[str] = Counter()
        self.names: list[str] = []  # the events of the last batch of requests
        # with faults: (event, body) waiting, the --reorder window, duplicates to send again
        self.payloads: list[tuple[str, bytes]] = []
        self.window: list[tuple[str, bytes]] = []
        self.redo: list[tuple[str, bytes]] = []
        self.rng = random.Random(config.seed * 31 + config.worker)

    # -- without faults: whole requests, a batch at a time ---------------------------
    def batch(self) -> list[bytes]:
        """A batch of whole requests (sent from its end); its events are counted now."""
        names, requests = self.generator.columns(self.batch_size)
        self.events.update(names)
        self.names = names
        return requests

    def unsent(self, left: int) -> None:
        """``left`` requests of the last batch were never sent: uncount them (the list
        is sent from its end, so they are its first ``left``)."""
        self.events.subtract(self.names[:left])
        self.events = +self.events  # no zero counts

    # -- with faults: one request at a time --------------------------------------------
    def faulted(self, iv: Interval) -> bytes:
        """The next request with duplicates, drops, reordering and malformed bodies,
        each counted in ``iv``; its event is counted here."""
        f, rng = self.c.faults, self.rng
        if self.redo:
            iv.faults["duplicate"] += 1
            event, request = self.redo.pop()
            self.events[event] += 1
            return request
        if f.delay or f.jitter:
            iv.faults["delayed"] += 1
        while True:
            event, body = self.next_payload(iv)
            if f.drop and rng.random() < f.drop:
                iv.faults["dropped"] += 1  # generated, never sent
                continue
            break
        headers = {"Content-Type": "application/json"}
        if f.malformed and rng.random() < f.malformed_rate:
            body, headers, _ = malform(f.malformed, body, headers, rng)
            iv.faults[f"malformed {f.malformed}"] += 1
        if self.c.signer is not None:
            headers.update(self.c.signer.headers(body, new_message_id()))
        path = None
        if self.placeholders:
            path = request_target(fill_url(self.target.path, _payload_of(body)))
        request = self.target.request(body, headers.pop("Content-Type"), headers, path)
        if f.duplicates and rng.random() < f.duplicates:
            self.redo.append((event, request))
        self.events[event] += 1
        return request

    def next_payload(self, iv: Interval) -> tuple[str, bytes]:
        """The next generated (event, body); with --reorder, from a shuffled window."""
        w = self.c.faults.reorder
        if w > 1:
            if not self.window:
                self.window = [self.next_payload_in_order() for _ in range(w)]
                before = list(self.window)
                self.rng.shuffle(self.window)
                iv.faults["reordered"] += sum(
                    a is not b for a, b in zip(before, self.window, strict=True)
                )
            return self.window.pop(0)
        return self.next_payload_in_order()

    def next_payload_in_order(self) -> tuple[str, bytes]:
        if not self.payloads:
            self.payloads = self.generator.batch(self.batch_size)
        return self.payloads.pop()


def _payload_of(body: bytes) -> dict[str, Any]:
    """The payload a (possibly malformed) body holds, for URL placeholders."""
    try:
        data = json.loads(body)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
