"""The conformance battery: named checks, each with what it sends, what it expects of
the receiver and why. A check builds its probes (requests through the one delivery
pipeline, signed by the check's signer unless the probe says otherwise) and judges the
first answer to each; nothing is retried, since a retry would hide what a receiver did.

"must" checks are what a receiver of engine webhooks has to get right (accept every
documented payload, reject forged signatures, survive a duplicate); "should" checks
are hygiene whose conventions differ between receivers (which 4xx for a bad body, how
fast under a burst). Every expectation can be replaced (``--expect forged=401``).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from ..delivery.dispatch import Prepared
from ..delivery.faults import malform
from ..delivery.request import build_request, fill_url
from ..delivery.retry import Attempt
from ..delivery.signing import Signer, new_message_id
from ..delivery.summary import percentile
from ..errors import UsageError
from ..events.catalogue import EVENTS, Event
from ..events.payload import BuildOptions, build_payload, encode
from ..scenario.model import Expect
from .scorecard import CheckResult, Level, ProbeResult

NOT_5XX = ("1xx", "2xx", "3xx", "4xx")  # "no 5xx": any answer but a server error
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


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    level: Level
    sends: str
    expects: tuple[str, ...]
    why: str
    build: Callable[[Context], list[Prepared]]
    needs_signer: str = ""  # "" or which signing it needs ("any", "timestamp")
    concurrent: bool = False


def _every(ctx: Context, **options: Any) -> list[Prepared]:
    return [
        ctx.probe(e.name, ctx.payload(e, i, **options), e.name + _flags(options))
        for i, e in enumerate(EVENTS)
    ]


def _flags(options: dict[str, Any]) -> str:
    return "".join(f" --{k}" for k, v in options.items() if v is True)


def _failed(ctx: Context) -> list[Prepared]:
    return [
        ctx.probe(e.name, ctx.payload(e, i, failed=True), f"{e.name} --failed")
        for i, e in enumerate(EVENTS)
        if e.failure
    ]


def _null_cube(ctx: Context) -> list[Prepared]:
    probes = []
    for i, e in enumerate(EVENTS):
        f = e.field("cube_id")
        if f is None or "null" not in f.json_type:
            continue
        p = ctx.payload(e, i)
        p["cube_id"] = None
        probes.append(ctx.probe(e.name, p, f"{e.name} --set cube_id=null"))
    return probes


def _spec_examples(ctx: Context) -> list[Prepared]:
    from ..events.spec_examples import EXAMPLES, TEXTS

    return [
        ctx.probe(
            name, EXAMPLES[name], f"{name} (the spec's example, verbatim)", body=text.encode()
        )
        for name, text in sorted(TEXTS.items())
    ]


def _slow_query(ctx: Context, offset: int = 0) -> dict[str, Any]:
    return ctx.payload(EVENTS_BY_NAME["slow-query"], offset)


def _forged(ctx: Context) -> list[Prepared]:
    assert ctx.signer is not None
    return [
        ctx.probe(
            "slow-query",
            _slow_query(ctx),
            "a well-formed signature of a wrong digest",
            signer=(replace(ctx.signer, bad=True),),
        )
    ]


def _stale(ctx: Context) -> list[Prepared]:
    assert ctx.signer is not None
    return [
        ctx.probe(
            "slow-query",
            _slow_query(ctx),
            f"a signature {STALE_BY:.0f} s old",
            signer=(replace(ctx.signer, stale=STALE_BY),),
        )
    ]


def _unsigned(ctx: Context) -> list[Prepared]:
    return [ctx.probe("slow-query", _slow_query(ctx), "no signature headers", signer=(None,))]


def _other_body(ctx: Context) -> list[Prepared]:
    assert ctx.signer is not None
    signed, sent = _slow_query(ctx), _slow_query(ctx, 1)
    headers = ctx.signer.headers(encode(signed))  # valid, but for another body
    return [
        ctx.probe(
            "slow-query", sent, "a valid signature of another body", headers=headers, signer=(None,)
        )
    ]


def _duplicate(ctx: Context) -> list[Prepared]:
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


def _out_of_order(ctx: Context) -> list[Prepared]:
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


def _unknown_field(ctx: Context) -> list[Prepared]:
    probes = []
    for i, e in enumerate(EVENTS):
        p = ctx.payload(e, i)
        p[UNKNOWN_FIELD] = {"added_in": "a later engine", "values": [1, "two", None]}
        if isinstance(p.get("context"), dict):
            p["context"][UNKNOWN_FIELD] = "x"
        probes.append(ctx.probe(e.name, p, f"{e.name} + {UNKNOWN_FIELD}"))
    return probes


def _unknown_event(ctx: Context) -> list[Prepared]:
    p = ctx.payload(EVENTS_BY_NAME["batch-start"])
    p["event_type"] = UNKNOWN_EVENT_TYPE
    return [ctx.probe("batch-start", p, f"event_type {UNKNOWN_EVENT_TYPE!r}")]


def _malformed(kind: str) -> Callable[[Context], list[Prepared]]:
    def build(ctx: Context) -> list[Prepared]:
        p = _slow_query(ctx)
        body, headers, label = malform(kind, encode(p), {}, random.Random(ctx.seed))
        return [
            ctx.probe(
                "slow-query", p, label.removeprefix("malformed: "), body=body, headers=headers
            )
        ]

    return build


def _burst(ctx: Context) -> list[Prepared]:
    e = EVENTS_BY_NAME["slow-query"]
    return [ctx.probe(e.name, ctx.payload(e, i), f"slow-query {i + 1}") for i in range(ctx.burst)]


EVENTS_BY_NAME = {e.name: e for e in EVENTS}

CHECKS: tuple[Check, ...] = (
    Check(
        "events",
        "must",
        "each of the seven events, default payload",
        ("2xx",),
        "the engine sends these; a receiver that refuses one loses events",
        lambda c: _every(c),
    ),
    Check(
        "full",
        "must",
        "each event with every documented parameter (--full)",
        ("2xx",),
        "the parameter lists name fields the examples omit",
        lambda c: _every(c, full=True),
    ),
    Check(
        "failed",
        "must",
        "each failure variant (--failed)",
        ("2xx",),
        "a failed build or query is the event most worth receiving",
        _failed,
    ),
    Check(
        "null-cube",
        "must",
        "cube_id null, where the spec allows it",
        ("2xx",),
        "the spec: cube_id is null if not available",
        _null_cube,
    ),
    Check(
        "spec-examples",
        "must",
        "the spec's example payloads, byte for byte",
        ("2xx",),
        "the documentation's own examples are the first thing an engine may send",
        _spec_examples,
    ),
    Check(
        "forged",
        "must",
        "a forged signature (well-formed, wrong digest)",
        ("4xx",),
        "accepting it lets anyone post events",
        _forged,
        needs_signer="any",
    ),
    Check(
        "stale",
        "must",
        f"a valid signature with a timestamp {STALE_BY:.0f} s old",
        ("4xx",),
        "a replayed old request must not pass (standard-webhooks allows 5 minutes)",
        _stale,
        needs_signer="timestamp",
    ),
    Check(
        "unsigned",
        "must",
        "no signature at all",
        ("4xx",),
        "a receiver that checks signatures must not accept a request without one",
        _unsigned,
        needs_signer="any",
    ),
    Check(
        "other-body",
        "must",
        "a valid signature of a different body",
        ("4xx",),
        "the signature must cover the bytes received",
        _other_body,
        needs_signer="any",
    ),
    Check(
        "duplicate",
        "must",
        "the same delivery twice (same webhook-id, same bytes)",
        ("2xx",),
        "webhooks are delivered at least once: a retry repeats a delivery",
        _duplicate,
    ),
    Check(
        "unknown-field",
        "must",
        "each event with a field no spec names",
        NOT_5XX,
        "a later engine may add fields",
        _unknown_field,
    ),
    Check(
        "out-of-order",
        "should",
        "a batch-result before its batch-start",
        NOT_5XX,
        "deliveries overlap and retries reorder them",
        _out_of_order,
    ),
    Check(
        "unknown-event",
        "should",
        "an event_type no spec names",
        NOT_5XX,
        "a later engine may add events",
        _unknown_event,
    ),
    Check(
        "invalid-json",
        "should",
        "a body that is not JSON",
        ("4xx",),
        "a bad body is the sender's error (4xx), not the receiver's (5xx)",
        _malformed("invalid-json"),
    ),
    Check(
        "wrong-content-type",
        "should",
        "valid JSON sent as text/plain",
        ("4xx",),
        "the engine sends application/json; anything else is not a webhook",
        _malformed("wrong-content-type"),
    ),
    Check(
        "empty",
        "should",
        "an empty body",
        ("4xx",),
        "an empty body is the sender's error (4xx), not the receiver's (5xx)",
        _malformed("empty"),
    ),
    Check(
        "latency",
        "should",
        "a burst of concurrent slow-query deliveries",
        ("2xx",),
        "the engine gives up on a receiver slower than its timeout",
        _burst,
        concurrent=True,
    ),
)

NAMES = tuple(c.name for c in CHECKS)


def parse_expect(items: Sequence[str] | dict[str, str] | None) -> dict[str, tuple[str, ...]]:
    """``["forged=401", "empty=400,422"]`` (or a dict) as per-check expectations."""
    from ..scenario.model import as_expect

    pairs = items.items() if isinstance(items, dict) else [_split(i) for i in items or []]
    out: dict[str, tuple[str, ...]] = {}
    for name, codes in pairs:
        if name not in NAMES:
            raise UsageError(f"--expect: no check called {name!r}", "checks: " + ", ".join(NAMES))
        try:
            expect = as_expect(codes)
        except UsageError:
            raise UsageError(
                f"--expect {name}={codes}: not a status code or class",
                "for example 401, 4xx or 401,403",
            ) from None
        assert expect is not None
        out[name] = expect.status
    return out


def _split(item: str) -> tuple[str, str]:
    name, sep, codes = item.partition("=")
    if not sep:
        raise UsageError(f"--expect {item!r}: use NAME=CODES", "for example --expect forged=401")
    return name.strip(), codes.strip()


def select(only: Sequence[str] = (), skip: Sequence[str] = ()) -> list[Check]:
    for name in [*only, *skip]:
        if name not in NAMES:
            raise UsageError(f"no check called {name!r}", "checks: " + ", ".join(NAMES))
    return [c for c in CHECKS if (not only or c.name in only) and c.name not in skip]


def skip_reason(check: Check, signer: Signer | None) -> str:
    if check.needs_signer and signer is None:
        return "needs a secret (--sign MODE --secret S)"
    if (
        check.needs_signer == "timestamp"
        and signer is not None
        and signer.mode != "standard-webhooks"
    ):
        return f"{signer.mode} signs the body alone: no timestamp to make stale"
    return ""


def judge(
    check: Check,
    ctx: Context,
    probes: list[Prepared],
    attempts: list[list[Attempt]],
    expects: tuple[str, ...],
) -> CheckResult:
    """A check's verdict from the first answer to each of its probes."""
    expect = Expect(status=expects)
    results = []
    for probe, tried in zip(probes, attempts, strict=True):
        o = tried[0].outcome if tried else None
        status = o.status if o else None
        error = (o.error_class or "error") if o and status is None else (None if o else "not sent")
        results.append(
            ProbeResult(
                probe.label, status, o.latency if o else 0.0, expect.status_ok(status), error
            )
        )
    note = ""
    passed = all(r.passed for r in results) and bool(results)
    if check.name == "latency" and results:
        p99 = percentile(sorted(r.latency for r in results), 99)
        note = f"p99 {p99 * 1000:.1f} ms over {len(results)} (budget {ctx.max_latency * 1000:g} ms)"
        passed = passed and p99 <= ctx.max_latency
    return CheckResult(
        check.name,
        check.level,
        "pass" if passed else "fail",
        check.sends,
        describe(expects),
        check.why,
        tuple(results),
        note,
    )


def describe(expects: tuple[str, ...]) -> str:
    return "any answer but a 5xx" if tuple(expects) == NOT_5XX else " or ".join(expects)
