"""Sign a request of your own (as Stripe's ``generate_test_header_string`` does): the
headers a receiver's test needs to send a correctly signed body."""

from __future__ import annotations

from ..aliases import JSON
from ..delivery.signing import DEFAULT_HMAC_HEADER, Signing
from ..events.payload import encode


def sign_headers(
    payload_or_bytes: JSON | bytes,
    secret: str,
    scheme: str = "standard-webhooks",
    *,
    header: str = DEFAULT_HMAC_HEADER,
    msg_id: str | None = None,
    timestamp: float | None = None,
) -> dict[str, str]:
    """The headers that sign this body: ``webhook-id``, ``webhook-timestamp`` and
    ``webhook-signature`` (standard-webhooks), or ``header: sha256=<hex>``
    (hmac-sha256), with ``Content-Type``. A dict is signed as the compact JSON
    atscale-mock sends: ``json.dumps(payload, separators=(",", ":"),
    ensure_ascii=False)``; send exactly those bytes."""
    body = payload_or_bytes if isinstance(payload_or_bytes, bytes) else encode(payload_or_bytes)
    signed = Signing(scheme, secret, header).headers(body, msg_id, timestamp)
    return {"Content-Type": "application/json", **signed}
