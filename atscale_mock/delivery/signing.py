"""Signing deliveries, and checking signatures on the receiving side.

The spec documents no signing for engine webhooks, so it is off by default. Two modes:

* ``standard-webhooks``: the Standard Webhooks scheme: ``webhook-id``,
  ``webhook-timestamp`` and ``webhook-signature: v1,<base64 HMAC-SHA256 of
  "{id}.{timestamp}.{body}">``, keyed by the base64 part of a ``whsec_...`` secret.
* ``hmac-sha256``: ``<header>: sha256=<hex HMAC-SHA256 of the body>`` with the secret's
  bytes as key (header ``X-Signature`` unless told otherwise).

Negative cases on purpose: ``bad`` sends a well-formed signature of a digest whose
first byte has every bit flipped (it can never verify, however it is compared);
``stale`` back-dates the ``webhook-timestamp`` by that many seconds (standard-webhooks
only: an hmac-sha256 signature covers the body alone and has no timestamp).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass

from ..config import DEFAULT_HMAC_HEADER as DEFAULT_HMAC_HEADER  # re-exported
from ..config import SIGNING_SCHEMES
from ..errors import UsageError
from .headers import check_name

MODES = SIGNING_SCHEMES
#: Headers a signature consists of (standard-webhooks'; hmac-sha256 names its own).
SIGNATURE_HEADERS = frozenset({"webhook-id", "webhook-timestamp", "webhook-signature"})
TOLERANCE = 300  # seconds a standard-webhooks timestamp may differ from now when verified


@dataclass(frozen=True, slots=True)
class Signing:
    """Sign every delivery: ``scheme`` is ``standard-webhooks`` (``secret`` is
    ``whsec_<base64>``) or ``hmac-sha256`` (``header`` carries ``sha256=<hex>``).
    ``bad`` sends a well-formed but wrong signature; ``stale`` back-dates the timestamp
    by that many seconds (negative: a timestamp ahead). Validated when made; the one
    record of signing: the library's ``am.Signing`` and what every sender signs with."""

    scheme: str
    secret: str
    header: str = DEFAULT_HMAC_HEADER
    bad: bool = False
    stale: float = 0.0

    def __post_init__(self) -> None:
        # each message begins with the keyword of Signing (``field``); the CLI and the
        # pytest plugin put their own option names there
        if self.scheme not in MODES:
            raise UsageError(
                f"scheme: unknown signing scheme {self.scheme!r}",
                "use " + " or ".join(MODES),
                field="scheme",
            )
        if not self.secret:
            raise UsageError("secret: signing needs a key", field="secret")
        try:
            check_name(self.header, "header")
        except UsageError as exc:
            raise UsageError(exc.message, exc.hint, field="header") from None
        if self.scheme == "standard-webhooks":
            _standard_key(self.secret)
        elif self.stale:
            raise UsageError(
                "stale: a stale timestamp needs standard-webhooks signing",
                "hmac-sha256 signs the body alone: it has no timestamp to back-date",
                field="stale",
            )

    def __repr__(self) -> str:  # never show the secret
        return f"Signing(scheme={self.scheme!r}, secret='***', header={self.header!r})"

    def headers(
        self, body: bytes, msg_id: str | None = None, now: float | None = None
    ) -> dict[str, str]:
        """The signature headers for ``body``; ``msg_id`` stays the same across the retries
        of one delivery, as Standard Webhooks asks."""
        if self.scheme == "hmac-sha256":
            raw = hmac.new(self.secret.encode(), body, hashlib.sha256).digest()
            return {self.header: "sha256=" + (_corrupt(raw) if self.bad else raw).hex()}
        msg_id = msg_id or new_message_id()
        stamp = str(int((time.time() if now is None else now) - self.stale))
        key = _standard_key(self.secret)
        raw = hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
        signature = base64.b64encode(_corrupt(raw) if self.bad else raw).decode()
        return {
            "webhook-id": msg_id,
            "webhook-timestamp": stamp,
            "webhook-signature": "v1," + signature,
        }


def new_message_id() -> str:
    return "msg_" + uuid.uuid4().hex


def _standard_key(secret: str) -> bytes:
    """The key of a ``whsec_<base64>`` secret; unpadded base64 is accepted, as the
    reference implementation accepts it."""
    raw = secret.removeprefix("whsec_")
    try:
        return base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
    except ValueError:
        raise UsageError(
            "secret: a standard-webhooks key is whsec_<base64>",
            "for example whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            field="secret",
        ) from None


def standard_signature(secret: str, msg_id: str, stamp: str, body: bytes) -> str:
    key = _standard_key(secret)
    signed = f"{msg_id}.{stamp}.".encode() + body
    return base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def _corrupt(digest: bytes) -> bytes:
    """A well-formed but wrong digest: every bit of the first byte flipped, so it differs
    from the right one whatever the comparison (bytes, hex in either case, base64)."""
    return bytes([digest[0] ^ 0xFF]) + digest[1:]


def verify(
    secret: str,
    headers: dict[str, str],
    body: bytes,
    *,
    hmac_header: str = DEFAULT_HMAC_HEADER,
    now: float | None = None,
) -> str:
    """``valid``, ``invalid: why`` or ``unsigned`` for a received request."""
    lowered = {k.lower(): v for k, v in headers.items()}
    if "webhook-signature" in lowered:
        try:
            expected = standard_signature(
                secret, lowered.get("webhook-id", ""), lowered.get("webhook-timestamp", ""), body
            )
        except UsageError:
            return "invalid: the secret is not whsec_<base64>"
        stamp = lowered.get("webhook-timestamp", "")
        if not stamp.isdigit():
            return "invalid: no webhook-timestamp"
        if abs((time.time() if now is None else now) - int(stamp)) > TOLERANCE:
            return "invalid: timestamp outside the 5 minute tolerance"
        # only v1 entries count: "v1a,<digest>" or a bare digest is no signature
        entries = (s.partition(",") for s in lowered["webhook-signature"].split())
        given = [sig for version, _, sig in entries if version == "v1"]
        ok = any(hmac.compare_digest(expected, g) for g in given)
        return "valid" if ok else "invalid: signature mismatch"
    if hmac_header.lower() in lowered:
        digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        ok = hmac.compare_digest("sha256=" + digest, lowered[hmac_header.lower()])
        return "valid" if ok else "invalid: signature mismatch"
    return "unsigned"
