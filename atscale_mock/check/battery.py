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

from collections.abc import Sequence

from ..delivery.dispatch import Prepared
from ..delivery.retry import Attempt
from ..delivery.signing import Signing
from ..delivery.summary import percentile
from ..errors import UsageError
from ..scenario.model import Expect
from . import probes
from .probes import STALE_BY, Context
from .scorecard import Check, CheckResult, ProbeResult

NOT_5XX = ("1xx", "2xx", "3xx", "4xx")  # "no 5xx": any answer but a server error


CHECKS: tuple[Check, ...] = (
    Check(
        "events",
        "must",
        "each of the seven events, default payload",
        ("2xx",),
        "the engine sends these; a receiver that refuses one loses events",
        lambda c: probes.every(c),
    ),
    Check(
        "full",
        "must",
        "each event with every documented parameter (--full)",
        ("2xx",),
        "the parameter lists name fields the examples omit",
        lambda c: probes.every(c, full=True),
    ),
    Check(
        "failed",
        "must",
        "each failure variant (--failed)",
        ("2xx",),
        "a failed build or query is the event most worth receiving",
        probes.failed,
    ),
    Check(
        "null-cube",
        "must",
        "cube_id null, where the spec allows it",
        ("2xx",),
        "the spec: cube_id is null if not available",
        probes.null_cube,
    ),
    Check(
        "spec-examples",
        "must",
        "the spec's example payloads, byte for byte",
        ("2xx",),
        "the documentation's own examples are the first thing an engine may send",
        probes.spec_examples,
    ),
    Check(
        "forged",
        "must",
        "a forged signature (well-formed, wrong digest)",
        ("4xx",),
        "accepting it lets anyone post events",
        probes.forged,
        needs_signer="any",
    ),
    Check(
        "stale",
        "must",
        f"a valid signature with a timestamp {STALE_BY:.0f} s old",
        ("4xx",),
        "a replayed old request must not pass (standard-webhooks allows 5 minutes)",
        probes.stale,
        needs_signer="timestamp",
    ),
    Check(
        "unsigned",
        "must",
        "no signature at all",
        ("4xx",),
        "a receiver that checks signatures must not accept a request without one",
        probes.unsigned,
        needs_signer="any",
    ),
    Check(
        "other-body",
        "must",
        "a valid signature of a different body",
        ("4xx",),
        "the signature must cover the bytes received",
        probes.other_body,
        needs_signer="any",
    ),
    Check(
        "signature-version",
        "must",
        "the right digest under another version (v1a, v2, none) or algorithm",
        ("4xx",),
        "only v1 (sha256=) entries sign; a receiver that skips the version takes any",
        probes.signature_version,
        needs_signer="any",
    ),
    Check(
        "empty-signature",
        "must",
        "a signature header that is empty or has empty entries",
        ("4xx",),
        "a header that is there but signs nothing is no signature",
        probes.empty_signature,
        needs_signer="any",
    ),
    Check(
        "future",
        "must",
        f"a valid signature with a timestamp {STALE_BY:.0f} s ahead",
        ("4xx",),
        "the tolerance works both ways: a request from the future is forged or replayed",
        probes.future,
        needs_signer="timestamp",
    ),
    Check(
        "reformatted",
        "must",
        "a valid signature of the body, sent with its JSON re-indented",
        ("4xx",),
        "the signature covers the bytes; re-serialising the JSON before verifying hides "
        "a changed body",
        probes.reformatted,
        needs_signer="any",
    ),
    Check(
        "key-rotation",
        "should",
        "a wrong signature, then the right one, in one header",
        ("2xx",),
        "Standard Webhooks lists a signature per key while keys rotate: one that "
        "verifies is enough",
        probes.key_rotation,
        needs_signer="list",
    ),
    Check(
        "duplicate",
        "must",
        "the same delivery twice (same webhook-id, same bytes)",
        ("2xx",),
        "webhooks are delivered at least once: a retry repeats a delivery",
        probes.duplicate,
    ),
    Check(
        "unknown-field",
        "must",
        "each event with a field no spec names",
        NOT_5XX,
        "a later engine may add fields",
        probes.unknown_field,
    ),
    Check(
        "out-of-order",
        "should",
        "a batch-result before its batch-start",
        ("2xx",),
        "deliveries overlap and retries reorder them: a result may come first (a receiver "
        "that wants the engine to send it again later may say so: --expect out-of-order=409)",
        probes.out_of_order,
    ),
    Check(
        "unknown-event",
        "should",
        "an event_type no spec names",
        NOT_5XX,
        "a later engine may add events",
        probes.unknown_event,
    ),
    Check(
        "invalid-json",
        "should",
        "a body that is not JSON",
        ("4xx",),
        "a bad body is the sender's error (4xx), not the receiver's (5xx)",
        probes.malformed("invalid-json"),
    ),
    Check(
        "wrong-content-type",
        "should",
        "valid JSON sent as text/plain",
        ("4xx",),
        "the engine sends application/json; anything else is not a webhook",
        probes.malformed("wrong-content-type"),
    ),
    Check(
        "empty",
        "should",
        "an empty body",
        ("4xx",),
        "an empty body is the sender's error (4xx), not the receiver's (5xx)",
        probes.malformed("empty"),
    ),
    Check(
        "latency",
        "should",
        "a burst of concurrent deliveries of every event",
        NOT_5XX,
        "the engine gives up on a receiver slower than its timeout; p99 per event",
        probes.burst,
        concurrent=True,
    ),
)

NAMES = tuple(c.name for c in CHECKS)


def parse_expect(items: Sequence[str] | dict[str, str] | None) -> dict[str, tuple[str, ...]]:
    """``["forged=401", "empty=400,422"]`` (or a dict) as per-check expectations; one
    item may name several checks, ``"forged=401,stale=4xx"`` (a comma before NAME=
    starts the next; ``empty=400,422`` stays one)."""
    import re

    from ..scenario.model import as_expect

    if isinstance(items, dict):
        pairs = list(items.items())
    else:
        parts = [p for i in items or [] for p in re.split(r",(?=[A-Za-z-]+=)", i)]
        pairs = [_split(p) for p in parts]
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


def skip_reason(check: Check, signer: Signing | None) -> str:
    if check.needs_signer and signer is None:
        return "needs a secret (--sign MODE --secret S)"
    if signer is not None and signer.scheme != "standard-webhooks":
        if check.needs_signer == "timestamp":
            return f"{signer.scheme} signs the body alone: no timestamp to move"
        if check.needs_signer == "list":
            return f"{signer.scheme} carries one signature: no list"
    return ""


def judge(
    check: Check,
    ctx: Context,
    probes: list[Prepared],
    attempts: list[list[Attempt]],
    expects: tuple[str, ...],
) -> CheckResult:
    """A check's verdict from the first answer to each of its probes."""
    from ..report.printable import response_excerpt

    expect = Expect(status=expects)
    results = []
    for probe, tried in zip(probes, attempts, strict=True):
        o = tried[0].outcome if tried else None
        status = o.status if o else None
        error = (o.error_class or "error") if o and status is None else (None if o else "not sent")
        results.append(
            ProbeResult(
                probe.request.event,
                probe.label,
                status,
                o.latency if o else 0.0,
                1 if o else 0,
                error if o else None,
                error,
                probe.request.faults,
                response_excerpt(o.body or o.error or "") if o else "",
                probe.payload,
                expect.status_ok(status),
            )
        )
    note = ""
    passed = all(r.passed for r in results) and bool(results)
    if check.name == "latency" and results:
        slow, note = _latency(results, ctx.max_latency)
        passed = passed and not slow
    return CheckResult(
        check,
        "pass" if passed else ("fail" if check.level == "must" else "warn"),
        describe(expects),
        tuple(results),
        note,
    )


def _latency(results: list[ProbeResult], budget: float) -> tuple[list[str], str]:
    """Each event's p99 against the budget: (the events over it, a note naming them)."""
    by_event: dict[str, list[float]] = {}
    for r in results:
        by_event.setdefault(r.event, []).append(r.latency)
    p99s = {e: percentile(sorted(v), 99) for e, v in by_event.items()}
    slow = [e for e, p in p99s.items() if p > budget]
    ms = budget * 1000
    parts = [f"{e} p99 {p99s[e] * 1000:.1f} ms" for e in sorted(p99s, key=lambda e: -p99s[e])]
    head = f"over the {ms:g} ms budget: {', '.join(slow)}; " if slow else ""
    return slow, f"{head}{'; '.join(parts)} ({len(results)} sent at once)"


def describe(expects: tuple[str, ...]) -> str:
    return "any answer but a 5xx" if tuple(expects) == NOT_5XX else " or ".join(expects)
