"""What each check of the battery sends: a :class:`Context` (the target, seed, signer,
clock) and one builder per check, returning the probes (requests through the one
delivery pipeline) that :mod:`.battery` sends and judges.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from ..delivery.dispatch import Prepared
from ..delivery.faults import malform
from ..delivery.request import build_request, fill_url
from ..delivery.signing import Signer, new_message_id
from ..events.catalogue import EVENTS, Event
from ..events.payload import BuildOptions, build_payload, encode

STALE_BY = 3600.0  # seconds a stale timestamp is back-dated (the tolerance is 300)
DEFAULT_BURST = 50  # deliveries in the latency check's burst
DEFAULT_MAX_LATENCY = 10.0  # seconds: the engine-side timeout users configure


@dataclass(frozen=True, slots=True)
class Context:
    """What every check builds from."""

    url: str
    seed: int
    signer: Signer | None
    burst: int = DEFAULT_BURST
    max_latency: float = DEFAULT_MAX_LATENCY
    clock: datetime = field(default_factory=lambda: datetime.now(UTC))
    headers: tuple[tuple[str, str], ...] = ()  # on every probe (-H)

    def payload(self, event: Event, offset: int = 0, **options: Any) -> dict[str, Any]:
        built = BuildOptions(clock=self.clock, **options)
        return build_payload(event, self.seed + offset, built, {})

    def probe(
        self,
        event: str,
        payload: Any,
        label: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        signer: tuple[Signer | None] | None = None,
        msg_id: str | None = None,
    ) -> Prepared:
        url = fill_url(self.url, payload) if isinstance(payload, dict) else self.url
        request = build_request(
            event, url, payload, {**dict(self.headers), **(headers or {})}, body=body
        )
        return Prepared(request, payload, label, msg_id=msg_id, signer=signer)


def every(ctx: Context, **options: Any) -> list[Prepared]:
    return [
        ctx.probe(e.name, ctx.payload(e, i, **options), e.name + flags(options))
        for i, e in enumerate(EVENTS)
    ]


def flags(options: dict[str, Any]) -> str:
    return "".join(f" --{k}" for k, v in options.items() if v is True)


def failed(ctx: Context) -> list[Prepared]:
    return [
        ctx.probe(e.name, ctx.payload(e, i, failed=True), f"{e.name} --failed")
        for i, e in enumerate(EVENTS)
        if e.failure
    ]


def null_cube(ctx: Context) -> list[Prepared]:
    probes = []
    for i, e in enumerate(EVENTS):
        f = e.field("cube_id")
        if f is None or "null" not in f.json_type:
            continue
        p = ctx.payload(e, i)
        p["cube_id"] = None
        probes.append(ctx.probe(e.name, p, f"{e.name} --set cube_id=null"))
    return probes


def spec_examples(ctx: Context) -> list[Prepared]:
    from ..events.spec_examples import EXAMPLES, TEXTS

    return [
        ctx.probe(
            name, EXAMPLES[name], f"{name} (the spec's example, verbatim)", body=text.encode()
        )
        for name, text in sorted(TEXTS.items())
    ]


def slow_query(ctx: Context, offset: int = 0) -> dict[str, Any]:
    return ctx.payload(EVENTS_BY_NAME["slow-query"], offset)


def forged(ctx: Context) -> list[Prepared]:
    assert ctx.signer is not None
    return [
        ctx.probe(
            "slow-query",
            slow_query(ctx),
            "a well-formed signature of a wrong digest",
            signer=(replace(ctx.signer, bad=True),),
        )
    ]


def stale(ctx: Context) -> list[Prepared]:
    assert ctx.signer is not None
    return [
        ctx.probe(
            "slow-query",
            slow_query(ctx),
            f"a signature {STALE_BY:.0f} s old",
            signer=(replace(ctx.signer, stale=STALE_BY),),
        )
    ]


def unsigned(ctx: Context) -> list[Prepared]:
    return [ctx.probe("slow-query", slow_query(ctx), "no signature headers", signer=(None,))]


def other_body(ctx: Context) -> list[Prepared]:
    assert ctx.signer is not None
    signed, sent = slow_query(ctx), slow_query(ctx, 1)
    headers = ctx.signer.headers(encode(signed))  # valid, but for another body
    return [
        ctx.probe(
            "slow-query", sent, "a valid signature of another body", headers=headers, signer=(None,)
        )
    ]


def duplicate(ctx: Context) -> list[Prepared]:
    first = ctx.probe(
        "batch-start",
        ctx.payload(EVENTS_BY_NAME["batch-start"]),
        "batch-start",
        msg_id=new_message_id(),
    )
    copy = replace(
        first,
        request=replace(first.request, id=uuid.uuid4().hex[:16], faults=("duplicate",)),
        label="the same batch-start again (same webhook-id, same bytes)",
        copy=True,
    )
    return [first, copy]


def out_of_order(ctx: Context) -> list[Prepared]:
    from ..events.make import batch_of

    start = ctx.payload(EVENTS_BY_NAME["batch-start"], 7)
    result = ctx.payload(EVENTS_BY_NAME["batch-result"], 8)
    for path, value in batch_of(start).items():
        head, _, rest = path.partition(".")
        if rest:
            result[head][rest] = value
        else:
            result[head] = value
    return [
        ctx.probe("batch-result", result, "batch-result first"),
        ctx.probe("batch-start", start, "then the batch-start of the same batch"),
    ]


UNKNOWN_FIELD = "atscale_mock_unknown_field"
UNKNOWN_EVENT_TYPE = "atscale_mock_unknown_event"


def unknown_field(ctx: Context) -> list[Prepared]:
    probes = []
    for i, e in enumerate(EVENTS):
        p = ctx.payload(e, i)
        p[UNKNOWN_FIELD] = {"added_in": "a later engine", "values": [1, "two", None]}
        if isinstance(p.get("context"), dict):
            p["context"][UNKNOWN_FIELD] = "x"
        probes.append(ctx.probe(e.name, p, f"{e.name} + {UNKNOWN_FIELD}"))
    return probes


def unknown_event(ctx: Context) -> list[Prepared]:
    p = ctx.payload(EVENTS_BY_NAME["batch-start"])
    p["event_type"] = UNKNOWN_EVENT_TYPE
    return [ctx.probe("batch-start", p, f"event_type {UNKNOWN_EVENT_TYPE!r}")]


def malformed(kind: str) -> Callable[[Context], list[Prepared]]:
    def build(ctx: Context) -> list[Prepared]:
        p = slow_query(ctx)
        body, headers, label = malform(kind, encode(p), {}, random.Random(ctx.seed))
        return [
            ctx.probe(
                "slow-query", p, label.removeprefix("malformed: "), body=body, headers=headers
            )
        ]

    return build


def burst(ctx: Context) -> list[Prepared]:
    e = EVENTS_BY_NAME["slow-query"]
    return [ctx.probe(e.name, ctx.payload(e, i), f"slow-query {i + 1}") for i in range(ctx.burst)]


EVENTS_BY_NAME = {e.name: e for e in EVENTS}
