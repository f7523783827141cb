"""Human-readable lines for deliveries and received events (pure string formatting)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..redact import Redactor

if TYPE_CHECKING:
    from ..delivery.retry import Attempt
    from ..delivery.summary import DeliverySummary
    from ..receiver.local import Received


def attempt_line(attempt: Attempt, redactor: Redactor, expect: Any = None) -> str:
    """One attempt; ``expect`` (an Expect) marks an expected rejection as ok."""
    o = attempt.outcome
    name = attempt.request.event + (f" #{attempt.label}" if attempt.label else "")
    passed = o.ok if expect is None else expect.status_ok(o.status)
    mark = "ok " if passed else "DROP" if o.error_class == "dropped" else "ERR"
    faults = f"  [{'; '.join(attempt.request.faults)}]" if attempt.request.faults else ""
    if o.error_class == "dropped":
        return f"{mark} {name:<22} not sent{faults}"
    if o.status is None:
        result = f"{o.error_class:<8} {redactor.text(o.error or '')}{_hint(attempt)}"
    elif 300 <= o.status < 400:
        result = f"{o.status} redirect to {o.location or '?'} (not followed)"
    else:
        result = str(o.status)
    if expect is not None and not passed and o.error_class != "dropped":
        result += f" (expected {expect.describe_status()})"
    latency = f"{o.latency * 1000:.1f} ms"
    return f"{mark} {name:<22} {result}  {latency}  attempt {attempt.attempt}{faults}"


def _hint(attempt: Attempt) -> str:
    """What to try, for the transport failures a newcomer meets first."""
    kind = attempt.outcome.error_class
    if kind == "refused":
        from urllib.parse import urlsplit

        where = urlsplit(attempt.request.url).netloc
        return f" (hint: nothing listens on {where}: is the receiver running, on that port?)"
    if kind == "dns":
        from urllib.parse import urlsplit

        host = urlsplit(attempt.request.url).hostname
        return f" (hint: the name {host!r} does not resolve: check its spelling, or use an IP)"
    if kind == "tls":
        return (
            " (hint: a plain-HTTP receiver needs http://; a self-signed certificate needs "
            "--ca-cert FILE or --insecure)"
        )
    return ""


def printable(text: str, limit: int = 200) -> str:
    """Untrusted text made safe for a terminal: control characters (escape sequences,
    CR, LF) shown escaped, so a sender cannot forge or rewrite lines; cut at ``limit``."""
    if text.isprintable() and len(text) <= limit:
        return text
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text[:limit])
    return shown + ("..." if len(text) > limit else "")


def received_line(got: Received) -> str:
    check = "schema ok" if got.valid else "INVALID: " + "; ".join(got.problems[:3])
    check = printable(check, 400)
    what = printable(got.event_type or "?")
    ident = f" id={printable(str(got.id))}" if got.id else ""
    flags = []
    if got.signature is not None:
        flags.append(f"signature {got.signature}")
    if got.duplicate:
        flags.append("DUPLICATE")
    if got.order:
        flags.append(f"OUT OF ORDER: {got.order}")
    if got.forward is not None:
        flags.append(forward_legs(got))
    elif got.answered and got.answered != 200:
        flags.append(f"answered {got.answered}")
    if got.truncated:
        flags.append(f"body kept cut to {len(got.body)} bytes")
    extra = ("  " + "  ".join(flags)) if flags else ""
    return f"<-- {printable(got.method)} {printable(got.path)}  {what}{ident}  {check}{extra}"


def forward_legs(got: Received) -> str:
    """The two legs of a forwarded request: engine -> atscale-mock -> receiver, each with
    its time, the receiver's status and what the engine got."""
    leg = got.forward
    assert leg is not None
    there = (
        f"{leg.outcome.status}"
        if leg.outcome.status is not None
        else f"FAILED ({printable(leg.outcome.error or '', 200)})"
    )
    return (
        f"engine -> atscale-mock {got.arrived_in * 1000:.1f} ms -> receiver {there} in "
        f"{leg.outcome.latency * 1000:.1f} ms -> engine got {leg.answered}"
    )


def summary_line(data: DeliverySummary, seed: int | None) -> str:
    lat = data["latency_ms"]
    parts = [
        f"{data['deliveries']} delivered",
        f"{data['passed']} ok",  # met their expectation (default: a 2xx)
        f"{data['failed']} failed",
        f"{data['attempts']} attempts",
    ]
    if data["dropped"]:
        parts.append(f"{data['dropped']} dropped (fault injection)")
    if data["errors"]:
        parts.append("errors " + ", ".join(f"{k}={v}" for k, v in data["errors"].items()))
    return (
        ", ".join(parts)
        + f"; latency p50 {lat['p50']:.1f} ms, p99 {lat['p99']:.1f} ms"
        + (f"; seed {seed}" if seed is not None else "")
    )
