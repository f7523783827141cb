"""The built-in receiver against hostile and broken clients: every limit holds, only
complete requests are recorded, and legitimate webhooks keep being answered."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

import atscale_mock as am
from atscale_mock.receiver.http_server import Limits
from atscale_mock.receiver.local import KEEP_BODY, Receiver
from atscale_mock.report.text import received_line

WEBHOOK = json.dumps(am.payload("slow-query", seed=1)).encode()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    limits = Limits(
        max_body=1024 * 1024,
        max_header_bytes=8 * 1024,
        header_timeout=0.5,
        body_timeout=0.5,
        idle_timeout=0.5,
        max_connections=50,
    )
    with Receiver(limits=limits) as r:
        yield r


def raw(r: Receiver, data: bytes, read: bool = True, timeout: float = 5.0) -> bytes:
    """Send ``data`` on a fresh connection and read until the server closes it. A server
    that refuses early may reset the connection mid-send: what came back is returned."""
    chunks = []
    with socket.create_connection(("127.0.0.1", r.port), timeout=timeout) as s:
        try:
            s.sendall(data)
            if not read:
                return b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except (TimeoutError, ConnectionResetError, BrokenPipeError):
            pass
    return b"".join(chunks)


def post_head(length: str, extra: str = "") -> bytes:
    return (
        f"POST /hooks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\n{extra}Connection: close\r\n\r\n"
    ).encode()


def legit(r: Receiver) -> httpx.Response:
    return httpx.post(r.url + "/hooks", content=WEBHOOK, timeout=5)


@pytest.mark.parametrize("length", ["-1", "abc", "1, 2", "99999999999999999999999"])
def test_bad_content_length_is_refused_not_recorded(receiver: Receiver, length: str) -> None:
    answer = raw(receiver, post_head(length) + WEBHOOK)
    assert answer.startswith((b"HTTP/1.1 400", b"HTTP/1.1 413")), answer[:80]
    assert receiver.count == 0
    assert legit(receiver).status_code == 200


def test_declared_oversize_body_is_refused_before_it_is_read(receiver: Receiver) -> None:
    answer = raw(receiver, post_head(str(50 * 1024 * 1024)))
    assert answer.startswith(b"HTTP/1.1 413")
    assert receiver.count == 0 and receiver.refused["body too large"] == 1


def test_chunked_body_is_decoded_and_capped(receiver: Receiver) -> None:
    half = len(WEBHOOK) // 2
    chunks = b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (
        half,
        WEBHOOK[:half],
        len(WEBHOOK) - half,
        WEBHOOK[half:],
    )
    head = b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    answer = raw(receiver, head + chunks)
    assert answer.startswith(b"HTTP/1.1 200")
    got = receiver.events[-1]
    assert got.body == WEBHOOK and got.valid and got.event == "slow-query"
    # a chunked body past the cap: 413, and nothing recorded
    big = b"x" * (256 * 1024)
    bomb = head + b"".join(b"%x\r\n%s\r\n" % (len(big), big) for _ in range(8)) + b"0\r\n\r\n"
    answer = raw(receiver, bomb)
    assert answer.startswith(b"HTTP/1.1 413") or answer == b""  # or reset mid-send
    assert receiver.refused["body too large"] == 1
    assert receiver.count == 1


def test_half_sent_request_is_not_recorded(receiver: Receiver) -> None:
    raw(receiver, post_head(str(len(WEBHOOK))) + WEBHOOK[:10], read=False)
    time.sleep(0.2)
    assert receiver.count == 0
    assert legit(receiver).status_code == 200 and receiver.count == 1


def test_slow_headers_and_slow_bodies_time_out(receiver: Receiver) -> None:
    started = time.monotonic()
    answer = raw(receiver, b"POST /slow HTTP/1.1\r\nHost: x\r\n")  # never finishes headers
    assert time.monotonic() - started < 3
    assert answer.startswith(b"HTTP/1.1 408")
    answer = raw(receiver, post_head("1000") + b"{")  # never finishes the body
    assert answer.startswith(b"HTTP/1.1 408")
    assert receiver.count == 0


def test_huge_headers_are_refused(receiver: Receiver) -> None:
    answer = raw(receiver, post_head("2", "X-Big: " + "a" * 20_000 + "\r\n") + b"{}")
    assert answer.startswith(b"HTTP/1.1 431")


def test_idle_connections_are_closed(receiver: Receiver) -> None:
    with socket.create_connection(("127.0.0.1", receiver.port), timeout=5) as s:
        started = time.monotonic()
        assert s.recv(10) == b""  # closed by the server, not by our timeout
        assert time.monotonic() - started < 3


def test_connection_flood_does_not_lock_out_a_legit_sender(receiver: Receiver) -> None:
    idle = [socket.create_connection(("127.0.0.1", receiver.port)) for _ in range(200)]
    try:
        for _ in range(5):
            assert legit(receiver).status_code == 200
        assert receiver.refused.get("evicted", 0) >= 150
    finally:
        for s in idle:
            s.close()
    assert legit(receiver).status_code == 200


def test_kept_bodies_are_bounded_and_flagged(receiver: Receiver) -> None:
    big = b'{"event_type": "slow_query_event", "pad": "' + b"x" * (900 * 1024) + b'"}'
    for _ in range(5):
        assert httpx.post(receiver.url + "/big", content=big, timeout=5).status_code == 200
    kept = receiver.events
    assert all(e.truncated and len(e.body) == KEEP_BODY and e.payload is None for e in kept)
    assert "body kept cut to" in received_line(kept[-1])


def test_pipelined_requests_are_answered_in_order(receiver: Receiver) -> None:
    one = b"POST /p%d HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s"
    data = b"".join(one % (i, len(WEBHOOK), WEBHOOK) for i in range(3))
    data += b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    answer = raw(receiver, data)
    assert answer.count(b"HTTP/1.1 200") == 4
    assert [e.path for e in receiver.events] == ["/p0", "/p1", "/p2"]


def test_terminal_escapes_in_untrusted_fields_are_shown_escaped(receiver: Receiver) -> None:
    evil = {"event_type": "slow_query_event\x1b[2J", "query_id": "abc\r\n<-- POST / forged"}
    httpx.post(receiver.url + "/x", content=json.dumps(evil).encode(), timeout=5)
    line = received_line(receiver.events[-1])
    assert "\x1b" not in line and "\r" not in line and "\n" not in line
    assert "\\x1b[2J" in line and "\\r\\n" in line


def test_ipv6_loopback() -> None:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("this machine has no IPv6 loopback")
    with Receiver(host="::1") as r:
        assert r.url.startswith("http://[::1]:")
        answer = httpx.post(r.url + "/v6", content=WEBHOOK, timeout=5)
        assert answer.status_code == 200 and r.events[-1].event == "slow-query"
