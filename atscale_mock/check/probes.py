"""What each check of the battery sends: a :class:`Context` (the target, seed, signer,
clock) and one builder per check, returning the probes (requests through the one
delivery pipeline) that :mod:`.battery` sends and judges.
"""

from __future__ import annotations

import base64
import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from ..delivery.dispatch import Prepared
from ..delivery.faults import malform
from ..delivery.request import build_request, fill_url
from ..delivery.signing import Signing, new_message_id
from ..events.catalogue import EVENTS, Event
from ..events.payload import PayloadOptions, build_payload, encode

STALE_BY = 3600.0  # seconds a stale timestamp is back-dated (the tolerance is 300)
DEFAULT_BURST = 50  # deliveries in the latency check's burst
DEFAULT_MAX_LATENCY = 10.0  # seconds: the engine-side timeout users configure


@dataclass(frozen=True, slots=True)
class Context:
    """What every check builds from."""

    url: str
    seed: int
    signer: Signing | None
    burst: int = DEFAULT_BURST
    max_latency: float = DEFAULT_MAX_LATENCY
    clock: datetime = field(default_factory=lambda: datetime.now(UTC))
    headers: tuple[tuple[str, str], ...] = ()  # on every probe (-H)
    events: tuple[Event, ...] = EVENTS  # the catalogue judged by (--atscale-version)

    def payload(self, event: Event, offset: int = 0, **options: Any) -> dict[str, Any]:
        built = PayloadOptions(clock=self.clock, **options)
        return build_payload(event, self.seed + offset, built)

    def probe(
        self,
        event: str,
        payload: Any,
        label: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        signer: tuple[Signing | None] | None = None,
        msg_id: str | None = None,
    ) -> Prepared:
        url = fill_url(self.url, payload) if isinstance(payload, dict) else self.url
        request = build_request(
            event, url, payload, {**dict(self.headers), **(headers or {})}, body=body
        )
        return Prepared(request, payload, label, msg_id=msg_id, signer=signer)


#: events that name a batch a batch-start began: a probe of one is preceded by its start
BATCH_EVENTS = ("batch-result", "prune-result")


def of_batch(payload: dict[str, Any], started: dict[str, Any]) -> dict[str, Any]:
    """``payload`` (a batch-result or prune-result) naming the batch ``started`` began."""
    from ..events.make import batch_of

    out = dict(payload)
    for path, value in batch_of(started).items():
        head, _, rest = path.partition(".")
        if rest:
            out[head] = {**out[head], rest: value}
        else:
            out[head] = value
    return out


def in_batches(ctx: Context, probes: list[Prepared]) -> list[Prepared]:
    """Each batch-result or prune-result probe named after a batch that a batch-start
    sent just before it began, so a receiver that refuses results of unknown batches
    (its right: see out-of-order) is judged on what the check is about, and a verdict
    does not depend on what an earlier run sent."""
    out: list[Prepared] = []
    started: dict[str, Any] | None = None
    for i, probe in enumerate(probes):
        event = probe.request.event
        if event == "batch-start" and isinstance(probe.payload, dict):
            started = probe.payload
        elif event in BATCH_EVENTS and isinstance(probe.payload, dict):
            if started is None:
                started = ctx.payload(EVENTS_BY_NAME["batch-start"], 1000 + i)
                out.append(ctx.probe("batch-start", started, "batch-start (of the next)"))
            paired = of_batch(probe.payload, started)
            probe = ctx.probe(event, paired, probe.label)
        out.append(probe)
    return out


def every(ctx: Context, **options: Any) -> list[Prepared]:
    return in_batches(
        ctx,
        [
            ctx.probe(e.name, ctx.payload(e, i, **options), e.name + flags(options))
            for i, e in enumerate(ctx.events)
        ],
    )


def flags(options: dict[str, Any]) -> str:
    return "".join(f" --{k}" for k, v in options.items() if v is True)


def failed(ctx: Context) -> list[Prepared]:
    return in_batches(
        ctx,
        [
            ctx.probe(e.name, ctx.payload(e, i, failed=True), f"{e.name} --failed")
            for i, e in enumerate(ctx.events)
            if e.failure
        ],
    )


def null_cube(ctx: Context) -> list[Prepared]:
    probes = []
    for i, e in enumerate(ctx.events):
        f = e.field("cube_id")
        if f is None or "null" not in f.json_type:
            continue
        p = ctx.payload(e, i)
        p["cube_id"] = None
        probes.append(ctx.probe(e.name, p, f"{e.name} --set cube_id=null"))
    return in_batches(ctx, probes)


def spec_examples(ctx: Context) -> list[Prepared]:
    """In the catalogue's order: the batch-start example before the result and prune
    examples of the same batch (the spec's three batch examples share one id)."""
    from ..events.spec_examples import EXAMPLES, TEXTS

    return [
        ctx.probe(
            e.name,
            EXAMPLES[e.name],
            f"{e.name} (the spec's example, verbatim)",
            body=TEXTS[e.name].encode(),
        )  # fmt: skip
        for e in ctx.events
        if e.name in TEXTS
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


def _signed_as(ctx: Context, label: str, rewrite: Callable[[str], str]) -> Prepared:
    """A slow-query with a valid signature whose signature header ``rewrite`` changes."""
    assert ctx.signer is not None
    payload = slow_query(ctx)
    headers = ctx.signer.headers(encode(payload))
    name = "webhook-signature" if "webhook-signature" in headers else ctx.signer.header
    headers[name] = rewrite(headers[name])
    return ctx.probe("slow-query", payload, label, headers=headers, signer=(None,))


def _digest(value: str) -> str:
    return value.partition(",")[2] if value.startswith("v1,") else value.partition("=")[2]


def signature_version(ctx: Context) -> list[Prepared]:
    """The right digest under a version or algorithm the receiver must not take."""
    assert ctx.signer is not None
    if ctx.signer.scheme == "standard-webhooks":
        return [
            _signed_as(ctx, "the right digest as v1a,", lambda v: "v1a," + _digest(v)),
            _signed_as(ctx, "the right digest with no version", _digest),
            _signed_as(ctx, "the right digest as v2,", lambda v: "v2," + _digest(v)),
        ]
    return [
        _signed_as(ctx, "the right digest as sha512=", lambda v: "sha512=" + _digest(v)),
        _signed_as(ctx, "the right digest with no sha256=", _digest),
    ]


def empty_signature(ctx: Context) -> list[Prepared]:
    """Signature headers that are there but sign nothing."""
    assert ctx.signer is not None
    if ctx.signer.scheme == "standard-webhooks":
        return [
            _signed_as(ctx, "an empty webhook-signature", lambda v: ""),
            _signed_as(ctx, "an empty entry: 'v1,'", lambda v: "v1,"),
            _signed_as(ctx, "an empty first entry, then a wrong one", lambda v: " v1,AAAA"),
        ]
    return [
        _signed_as(ctx, "an empty signature header", lambda v: ""),
        _signed_as(ctx, "'sha256=' and nothing after it", lambda v: "sha256="),
    ]


def key_rotation(ctx: Context) -> list[Prepared]:
    """A wrong signature, then the right one: Standard Webhooks lists one signature per
    key while keys rotate, and any one that verifies is enough."""
    wrong = "v1," + base64.b64encode(b"\x00" * 32).decode()
    return [_signed_as(ctx, "a wrong signature, then the right one", lambda v: f"{wrong} {v}")]


def future(ctx: Context) -> list[Prepared]:
    assert ctx.signer is not None
    return [
        ctx.probe(
            "slow-query",
            slow_query(ctx),
            f"a signature dated {STALE_BY:.0f} s ahead",
            signer=(replace(ctx.signer, stale=-STALE_BY),),
        )
    ]


def reformatted(ctx: Context) -> list[Prepared]:
    """A valid signature of the compact body, sent with the same JSON re-indented: a
    receiver that verifies a re-serialisation of what it parsed takes it."""
    assert ctx.signer is not None
    payload = slow_query(ctx)
    headers = ctx.signer.headers(encode(payload))
    body = json.dumps(payload, indent=1).encode()
    return [
        ctx.probe(
            "slow-query",
            payload,
            "the signed JSON, re-indented",
            body=body,
            headers=headers,
            signer=(None,),
        )  # fmt: skip
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
    """The same delivery twice: the same bytes and the same ``webhook-id``, signed or
    not (a receiver deduplicates by that header; unsigned, it still names the delivery)."""
    msg_id = new_message_id()
    first = ctx.probe(
        "batch-start",
        ctx.payload(EVENTS_BY_NAME["batch-start"]),
        "batch-start",
        headers=None if ctx.signer else {"webhook-id": msg_id},
        msg_id=msg_id,
    )
    copy = replace(
        first,
        request=replace(first.request, id=uuid.uuid4().hex[:16], faults=("duplicate",)),
        label="the same batch-start again (same webhook-id, same bytes)",
        copy=True,
    )
    return [first, copy]


def out_of_order(ctx: Context) -> list[Prepared]:
    start = ctx.payload(EVENTS_BY_NAME["batch-start"], 7)
    result = of_batch(ctx.payload(EVENTS_BY_NAME["batch-result"], 8), start)
    return [
        ctx.probe("batch-result", result, "batch-result first"),
        ctx.probe("batch-start", start, "then the batch-start of the same batch"),
    ]


UNKNOWN_FIELD = "atscale_mock_unknown_field"
UNKNOWN_EVENT_TYPE = "atscale_mock_unknown_event"


def unknown_field(ctx: Context) -> list[Prepared]:
    probes = []
    for i, e in enumerate(ctx.events):
        p = ctx.payload(e, i)
        p[UNKNOWN_FIELD] = {"added_in": "a later engine", "values": [1, "two", None]}
        if isinstance(p.get("context"), dict):
            p["context"][UNKNOWN_FIELD] = "x"
        probes.append(ctx.probe(e.name, p, f"{e.name} + {UNKNOWN_FIELD}"))
    return in_batches(ctx, probes)


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
    """``ctx.burst`` deliveries of the catalogue's events in turn (results after their start),
    sent at once: each event's latency is judged on its own."""
    chosen = [ctx.events[i % len(ctx.events)] for i in range(ctx.burst)]
    probes = [
        ctx.probe(e.name, ctx.payload(e, i), f"{e.name} {i + 1}") for i, e in enumerate(chosen)
    ]
    return in_batches(ctx, probes)[: ctx.burst]


EVENTS_BY_NAME = {e.name: e for e in EVENTS}
