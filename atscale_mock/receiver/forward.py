"""``receive --forward-to``: the built-in receiver as a proxy between a real engine and
the user's receiver (as ``stripe listen --forward-to`` sits between a platform and a
local app).

Each request goes on with its body byte for byte and its headers as they came, but the
hop-by-hop and framing ones (the HTTP client sets ``Host`` and ``Content-Length``); with
``resign``, its signature headers are replaced by a new signature with another key
(Standard Webhooks keeps the request's ``webhook-id`` and ``webhook-timestamp``). The
receiver's answer (status, body and the headers that matter to a sender) goes back to
the engine. A forward that gets no answer is a 502 whose body says why.

The URL is used as given: the path a request arrived on is not appended (what a real
engine posts to is in each line and in ``--record``).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..delivery.request import check_url
from ..delivery.signing import SIGNATURE_HEADERS, Signing
from ..delivery.transport import Outcome
from ..errors import UsageError

if TYPE_CHECKING:
    import httpx

#: never forwarded: they describe one hop, or the client sets them for the next one
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
#: headers of the receiver's answer a sender may act on; the rest stay behind
ANSWER_HEADERS = frozenset(
    {"content-type", "retry-after", "www-authenticate", "location", "cache-control"}
)
MAX_ANSWER = 1024 * 1024  # bytes of the receiver's answer passed back; the rest is cut


@dataclass(frozen=True, slots=True)
class Forward:
    """Where each received request goes on to: ``url`` as given, an answer within
    ``timeout`` seconds, signed again with ``resign`` when the receiver has another key."""

    url: str
    timeout: float = 10.0
    resign: Signing | None = None

    def __post_init__(self) -> None:
        check_url(self.url, "--forward-to")
        if not 0 < self.timeout < 1e6:
            raise UsageError(f"forward timeout: {self.timeout} is not a positive number of seconds")

    def __repr__(self) -> str:  # never show the key
        return f"Forward(url={self.url!r}, timeout={self.timeout}, resign={self.resign!r})"


@dataclass(frozen=True, slots=True)
class Leg:
    """One forward: what the receiver answered (its ``Outcome``: a status, or an error
    class and message when it gave none, and the latency), and the answer to pass back as
    it came: the ``raw`` body and the headers that matter to a sender."""

    outcome: Outcome
    raw: bytes = b""
    passed: tuple[tuple[str, str], ...] = ()

    @property
    def answered(self) -> int:
        """The status the engine gets: the receiver's, or 502 when it gave none."""
        return 502 if self.outcome.status is None else self.outcome.status

    def answer(self) -> tuple[int, bytes, tuple[tuple[str, str], ...]]:
        if self.outcome.status is None:
            why = {"error": f"atscale-mock could not forward: {self.outcome.error}"}
            return 502, json.dumps(why).encode(), (("Content-Type", "application/json"),)
        return self.outcome.status, self.raw, self.passed


def resign_scheme(secret: str, signature_header: str) -> Signing:
    """How ``--resign SECRET`` signs: Standard Webhooks for a ``whsec_`` key, else
    hmac-sha256 in ``signature_header``."""
    if secret.startswith("whsec_"):
        return Signing("standard-webhooks", secret)
    return Signing("hmac-sha256", secret, header=signature_header)


def forwarded_headers(
    headers: dict[str, str], body: bytes, resign: Signing | None
) -> list[tuple[str, str]]:
    """The request's headers as they go on: hop-by-hop ones left out; with ``resign``,
    the old signature replaced by a new one."""
    out = [(k, v) for k, v in headers.items() if k.lower() not in HOP_BY_HOP]
    if resign is None:
        return out
    lowered = {k.lower(): v for k, v in headers.items()}
    dropped = SIGNATURE_HEADERS | {resign.header.lower()}
    out = [(k, v) for k, v in out if k.lower() not in dropped]
    stamp = lowered.get("webhook-timestamp", "")
    new = resign.headers(
        body,
        msg_id=lowered.get("webhook-id") or None,
        now=float(stamp) if stamp.isdigit() else None,
    )
    return out + list(new.items())


class Forwarder:
    """Forwards requests on the receiver's event loop, over one pooled client."""

    def __init__(self, forward: Forward) -> None:
        self.forward = forward
        self._client: httpx.AsyncClient | None = None

    async def send(self, headers: dict[str, str], body: bytes) -> Leg:
        import httpx

        from ..delivery.transport import classify, read_capped

        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self.forward.timeout, follow_redirects=False, trust_env=False
            )
        started = time.perf_counter()
        request = self._client.build_request(
            "POST",
            self.forward.url,
            headers=forwarded_headers(headers, body, self.forward.resign),
            content=body,
        )
        sent = {k.lower() for k in headers}
        for name in ("accept", "accept-encoding", "user-agent"):  # httpx's own defaults
            if name not in sent:
                del request.headers[name]
        try:
            response = await self._client.send(request, stream=True)
            try:
                raw = (await read_capped(response, MAX_ANSWER))[:MAX_ANSWER]
            finally:
                await response.aclose()
        except httpx.TransportError as exc:
            error_class, message = classify(exc)
            return Leg(Outcome(None, time.perf_counter() - started, error_class, message))
        kept = tuple(
            (k, v) for k, v in response.headers.multi_items() if k.lower() in ANSWER_HEADERS
        )
        if response.headers.get("content-encoding"):  # the body goes back as it came
            kept += (("Content-Encoding", response.headers["content-encoding"]),)
        return Leg(Outcome(response.status_code, time.perf_counter() - started), raw, kept)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
