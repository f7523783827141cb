"""The built-in receiver under attack: does it keep answering legitimate webhooks?

Starts `atscale-mock receive` in a subprocess, then for --attack seconds runs hostile
clients against it from this process (all on 127.0.0.1): thousands of idle
connections, slowloris headers (a byte a second), bodies that declare 50 MB, chunked
bodies that never end, 15 MB bodies one after another, and garbage. Meanwhile a
legitimate sender POSTs a webhook every 20 ms on a fresh connection and times the
answer; it goes on for --after seconds once the attackers stop. Reports the
legitimate latency during and after the attack, how long recovery took, and the
receiver's peak RSS.

    .venv/bin/python bench/receiver_attack.py --attack 10 --after 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import threading
import time

from procs import rss_mb, start_receiver

WEBHOOK = json.dumps(
    {"event_type": "unpublish_schema_success", "context": {"org_id": "default",
     "project_id": "p", "user_id": "u"}, "published_project_id": "p"}
).encode()  # fmt: skip


def legit_once(port: int) -> float | None:
    start = time.perf_counter()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(
                b"POST /hooks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(WEBHOOK), WEBHOOK)
            )
            data = s.recv(4096)
        if not data.startswith(b"HTTP/1.1 200"):
            return None
    except OSError:
        return None
    return (time.perf_counter() - start) * 1000


async def attackers(port: int, seconds: float, stop: asyncio.Event) -> dict[str, int]:
    counts = {"idle": 0, "slowloris": 0, "oversize": 0, "chunked": 0, "big": 0, "garbage": 0}
    held: list[asyncio.StreamWriter] = []

    async def connect() -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        try:
            return await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            return None

    async def idle() -> None:
        for _ in range(3000):
            if stop.is_set():
                return
            pair = await connect()
            if pair:
                held.append(pair[1])
                counts["idle"] += 1

    async def slowloris() -> None:
        async def one() -> None:
            pair = await connect()
            if not pair:
                return
            counts["slowloris"] += 1
            try:
                for byte in b"POST /x HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100:
                    if stop.is_set():
                        return
                    pair[1].write(bytes([byte]))
                    await pair[1].drain()
                    await asyncio.sleep(1)
            except OSError:
                return

        await asyncio.gather(*(one() for _ in range(200)))

    async def loop(kind: str, payload: bytes, repeat_body: bytes = b"") -> None:
        while not stop.is_set():
            pair = await connect()
            if not pair:
                await asyncio.sleep(0.05)
                continue
            counts[kind] += 1
            try:
                pair[1].write(payload)
                for _ in range(40 if repeat_body else 0):
                    if stop.is_set():
                        break
                    pair[1].write(repeat_body)
                    await pair[1].drain()
                await asyncio.wait_for(pair[0].read(100), 2)
            except (OSError, TimeoutError):
                pass
            finally:
                pair[1].close()

    big = b'{"event_type": "x", "pad": "' + b"x" * (15 * 1024 * 1024) + b'"}'
    chunk = b"x" * (512 * 1024)
    tasks = [
        idle(),
        slowloris(),
        loop("oversize", b"POST /o HTTP/1.1\r\nHost: x\r\nContent-Length: 52428800\r\n\r\n"),
        loop(
            "chunked",
            b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"%x\r\n%s\r\n" % (len(chunk), chunk),
        ),
        loop("big", b"POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(big) + big),
        loop("garbage", b"\x16\x03\x01 not http at all\r\n\r\n"),
    ]
    runner = asyncio.gather(*tasks)
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.wait_for(runner, 10)
    for w in held:
        w.close()
    return counts


def main(attack: float, after: float) -> dict[str, object]:
    proc, url = start_receiver()
    port = int(url.rsplit(":", 1)[1])
    samples: list[tuple[float, float | None]] = []
    peak = [0.0]
    done = threading.Event()
    t0 = time.perf_counter()

    def legit() -> None:
        while not done.is_set():
            samples.append((time.perf_counter() - t0, legit_once(port)))
            peak[0] = max(peak[0], rss_mb(proc.pid))
            time.sleep(0.02)

    sender = threading.Thread(target=legit)
    sender.start()
    time.sleep(1)  # a baseline second
    stop = asyncio.Event()
    counts = asyncio.run(attackers(port, attack, stop))
    ended = time.perf_counter() - t0
    time.sleep(after)
    done.set()
    sender.join()
    proc.terminate()
    proc.communicate(timeout=20)

    def stats(rows: list[tuple[float, float | None]]) -> dict[str, object]:
        ok = sorted(ms for _, ms in rows if ms is not None)
        pick = (lambda p: round(ok[min(len(ok) - 1, int(p / 100 * len(ok)))], 2)) if ok else None
        return {
            "requests": len(rows),
            "failed": sum(ms is None for _, ms in rows),
            "p50_ms": pick(50) if pick else None,
            "p99_ms": pick(99) if pick else None,
            "max_ms": round(ok[-1], 2) if ok else None,
        }

    during = [s for s in samples if 1 <= s[0] < ended]
    later = [s for s in samples if s[0] >= ended]
    bad_after = [t for t, ms in later if ms is None or ms > 50]
    recovered = round(max(bad_after) - ended, 2) if bad_after else 0.0
    return {
        "attack_s": attack,
        "attackers": counts,
        "legit_during_attack": stats(during),
        "legit_after_attack": stats(later),
        "recovered_within_s": recovered,
        "receiver_peak_rss_mb": round(peak[0], 1),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attack", type=float, default=10)
    parser.add_argument("--after", type=float, default=3)
    args = parser.parse_args()
    print(json.dumps(main(args.attack, args.after), indent=2))
