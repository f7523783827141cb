"""The HTTP edge: one attempt's classification (respx) and the retry policy."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
import respx

from atscale_mock.delivery.retry import Retry, deliver, parse_retry_after
from atscale_mock.delivery.transport import HttpxSender, Outcome, Request
from atscale_mock.testing import FakeSender

URL = "http://127.0.0.1:10502/hooks"
REQ = Request(
    "slow-query", URL, b'{"event_type":"slow_query_event"}', (("Authorization", "Bearer s3cret"),)
)


def run_deliver(policy: Retry, sender: object | None = None) -> tuple[list, list[float]]:
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    async def go() -> list:
        s = sender or HttpxSender(timeout=1.0)
        try:
            return await deliver(s, REQ, policy, rng=random.Random(1), sleep=fake_sleep)  # type: ignore[arg-type]
        finally:
            await s.aclose()  # type: ignore[union-attr]

    return asyncio.run(go()), waits


@respx.mock
def test_posts_the_exact_body_as_json_with_headers() -> None:
    route = respx.post(URL).mock(return_value=httpx.Response(204))
    attempts, _ = run_deliver(Retry())
    sent = route.calls.last.request
    assert sent.content == REQ.body
    assert sent.headers["content-type"] == "application/json"
    assert sent.headers["authorization"] == "Bearer s3cret"
    assert [a.outcome.status for a in attempts] == [204] and attempts[0].ok


@respx.mock
def test_5xx_is_retried_then_succeeds() -> None:
    route = respx.post(URL).mock(
        side_effect=[httpx.Response(503), httpx.Response(502), httpx.Response(200)]
    )
    attempts, waits = run_deliver(Retry(retries=3, base=0.5))
    assert [a.outcome.status for a in attempts] == [503, 502, 200]
    assert [a.attempt for a in attempts] == [1, 2, 3]
    assert route.call_count == 3
    assert 0.25 <= waits[0] <= 0.5 and 0.5 <= waits[1] <= 1.0  # exponential with jitter


@respx.mock
@pytest.mark.parametrize("status", [400, 404, 410, 422])
def test_other_4xx_is_not_retried(status: int) -> None:
    route = respx.post(URL).mock(return_value=httpx.Response(status))
    attempts, waits = run_deliver(Retry(retries=3))
    assert route.call_count == 1 and waits == [] and not attempts[-1].ok


@respx.mock
def test_429_retry_after_is_honoured() -> None:
    respx.post(URL).mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200)]
    )
    attempts, waits = run_deliver(Retry(retries=1))
    assert waits == [7.0] and attempts[-1].ok


@respx.mock
def test_retry_after_is_capped() -> None:
    respx.post(URL).mock(
        side_effect=[httpx.Response(503, headers={"Retry-After": "3600"}), httpx.Response(200)]
    )
    _, waits = run_deliver(Retry(retries=1, cap=30))
    assert waits == [30]


@respx.mock
def test_retries_run_out() -> None:
    route = respx.post(URL).mock(return_value=httpx.Response(500))
    attempts, waits = run_deliver(Retry(retries=2))
    assert route.call_count == 3 and len(waits) == 2 and attempts[-1].outcome.status == 500


@respx.mock
@pytest.mark.parametrize(
    ("exc", "cls"),
    [
        (httpx.ConnectError("Connection refused"), "refused"),
        (httpx.ReadTimeout("timed out"), "timeout"),
        (httpx.ConnectTimeout("timed out"), "timeout"),
        (httpx.ReadError("Connection reset by peer"), "reset"),
        (httpx.RemoteProtocolError("Server disconnected without sending a response."), "reset"),
        (httpx.RemoteProtocolError("illegal status line"), "protocol"),
        (httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"), "tls"),
    ],
)
def test_transport_errors_are_classified_and_retried(exc: Exception, cls: str) -> None:
    route = respx.post(URL).mock(side_effect=[exc, httpx.Response(200)])
    attempts, _ = run_deliver(Retry(retries=1))
    assert attempts[0].outcome.error_class == cls and attempts[0].outcome.status is None
    assert attempts[1].ok and route.call_count == 2


@respx.mock
def test_redirect_is_reported_not_followed() -> None:
    route = respx.post(URL).mock(
        return_value=httpx.Response(302, headers={"Location": "http://127.0.0.1:1/elsewhere"})
    )
    attempts, _ = run_deliver(Retry(retries=2))
    assert route.call_count == 1
    assert attempts[0].outcome.status == 302 and attempts[0].outcome.location.endswith("/elsewhere")


@respx.mock
def test_response_body_is_truncated() -> None:
    respx.post(URL).mock(return_value=httpx.Response(500, content=b"x" * 500_000))
    attempts, _ = run_deliver(Retry())
    assert len(attempts[0].outcome.body) <= 1025


def test_retry_after_parsing() -> None:
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    later = datetime.now(UTC) + timedelta(seconds=60)
    assert 50 <= (parse_retry_after(format_datetime(later, usegmt=True)) or 0) <= 61


def test_fake_sender_lets_the_loop_run_without_network() -> None:
    fake = FakeSender([Outcome(None, 0.0, "refused", "no"), Outcome(200, 0.01)])
    attempts, waits = run_deliver(Retry(retries=5), fake)
    assert len(fake.requests) == 2 and attempts[-1].ok and len(waits) == 1
