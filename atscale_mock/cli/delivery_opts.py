"""Options shared by send and run: signing, fault injection and retry schedules."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from ..api.options import Retry, Signing
from ..config import SECRET_ENV
from ..delivery.faults import MALFORMED_KINDS, Faults
from ..delivery.signing import DEFAULT_HMAC_HEADER, MODES
from ..errors import UsageError
from ..redact import Redactor
from .common import as_flag
from .options import DURATION, completer

Sign = Annotated[
    str | None,
    typer.Option(
        "--sign",
        metavar="MODE",
        autocompletion=completer(MODES),
        help=f"Sign deliveries: {' or '.join(MODES)} (off by default; the spec documents "
        "no signing). standard-webhooks: webhook-id, webhook-timestamp and "
        "webhook-signature 'v1,<base64 HMAC-SHA256 of id.timestamp.body>'; hmac-sha256: "
        "'X-Signature: sha256=<hex HMAC-SHA256 of the body>' (--signature-header).",
    ),
]
Secret = Annotated[
    str | None,
    typer.Option(
        "--secret",
        metavar="SECRET",
        help="Signing key (whsec_... for standard-webhooks). Never printed. With --sign "
        "and no --secret, $ATSCALE_MOCK_SECRET is used (and ignored without --sign).",
    ),
]
SignatureHeader = Annotated[
    str,
    typer.Option(
        "--signature-header",
        metavar="NAME",
        help="Header of hmac-sha256 signatures (value: sha256=<hex>).",
    ),
]
BadSignature = Annotated[
    bool, typer.Option("--bad-signature", help="Send a well-formed but wrong signature.")
]
Stale = Annotated[
    float,
    typer.Option(
        "--stale-timestamp",
        metavar="DURATION",
        parser=DURATION,
        help="Back-date the signature timestamp by this much.",
    ),
]
Duplicates = Annotated[
    float,
    typer.Option(
        "--duplicates",
        min=0.0,
        max=1.0,
        metavar="RATE",
        help="Probability that a delivery is sent twice (same body, same id).",
    ),
]
Reorder = Annotated[
    int,
    typer.Option(
        "--reorder", min=0, metavar="WINDOW", help="Shuffle deliveries within windows of this many."
    ),
]
Drop = Annotated[
    float,
    typer.Option(
        "--drop",
        min=0.0,
        max=1.0,
        metavar="RATE",
        help="Probability that a delivery is generated but not sent (listed as dropped).",
    ),
]
Delay = Annotated[
    float,
    typer.Option(
        "--delay", metavar="DURATION", parser=DURATION, help="Extra wait before every delivery."
    ),
]
Jitter = Annotated[
    float,
    typer.Option(
        "--jitter",
        metavar="DURATION",
        parser=DURATION,
        help="Up to this much more wait, at random.",
    ),
]
Malformed = Annotated[
    str | None,
    typer.Option(
        "--malformed",
        metavar="KIND",
        autocompletion=completer(MALFORMED_KINDS),
        help="Malform bodies: " + ", ".join(MALFORMED_KINDS) + ".",
    ),
]
MalformedRate = Annotated[
    float,
    typer.Option(
        "--malformed-rate",
        min=0.0,
        max=1.0,
        metavar="RATE",
        help="Share of deliveries --malformed applies to (default all).",
    ),
]
RetrySchedule = Annotated[
    str | None,
    typer.Option(
        "--retry-schedule",
        metavar="D1,D2,...",
        help="Fixed waits before each retry, e.g. 5s,5m,30m,2h (replaces --retries).",
    ),
]
TimeScale = Annotated[
    float,
    typer.Option(
        "--retry-time-scale",
        min=0.000001,
        metavar="X",
        help="Divide every retry wait by X (compress hours into seconds).",
    ),
]


def make_signing(
    sign: str | None, secret: str | None, header: str, bad: bool, stale: float
) -> Signing | None:
    if sign is None:
        if secret or bad or stale:
            raise UsageError("--secret, --bad-signature and --stale-timestamp need --sign MODE")
        return None  # ATSCALE_MOCK_SECRET alone does not sign
    if sign not in MODES:
        raise UsageError(f"--sign: unknown mode {sign!r}", "use " + " or ".join(MODES))
    secret = secret or os.environ.get(SECRET_ENV)
    if not secret:
        raise UsageError("--sign needs --secret", f"or export {SECRET_ENV}")
    if stale and sign != "standard-webhooks":
        raise UsageError(
            "--stale-timestamp needs --sign standard-webhooks",
            "hmac-sha256 signs the body alone: it has no timestamp to back-date",
        )
    try:
        return Signing(sign, secret, header, bad, stale)
    except UsageError as exc:
        raise as_flag(exc, SIGNING_FLAGS) from None


#: the option of each Signing keyword
SIGNING_FLAGS = {
    "scheme": "--sign",
    "secret": "--secret",
    "header": "--signature-header",
    "stale": "--stale-timestamp",
}


def learn_secret(redactor: Redactor, signing: Signing | None) -> None:
    """Keep a signing key out of every output (with and without its whsec_ prefix)."""
    if signing is not None:
        redactor.add(signing.secret)
        redactor.add(signing.secret.removeprefix("whsec_"))


def make_faults(
    duplicates: float,
    reorder: int,
    drop: float,
    delay: float,
    jitter: float,
    malformed: str | None,
    malformed_rate: float,
) -> Faults:
    """The fault options as a Faults record; an error names the flag, not the keyword."""
    try:
        return Faults(duplicates, reorder, drop, delay, jitter, malformed, malformed_rate)
    except UsageError as exc:
        raise as_flag(exc) from None


def make_retry(retries: int, schedule: str | None, time_scale: float) -> Retry:
    if not schedule:
        return Retry(retries, time_scale=time_scale)
    try:
        return Retry.parse_schedule(schedule, time_scale)
    except UsageError as exc:
        raise as_flag(exc, {"schedule": "--retry-schedule"}) from None


__all__ = ["DEFAULT_HMAC_HEADER"]
