"""`serve` under a steady trigger rate: the latency it adds and its memory.

Starts `atscale-mock serve` in a subprocess with one subscription pointing at a small
asyncio receiver in this process (both on 127.0.0.1), then POSTs /_mock/events/slow-query
at --rate for --duration seconds. Each trigger carries its sequence number in the
payload's org_id, so the receiver can match an arrival to the moment its trigger was
sent: "added latency" = arrival at the receiver - trigger request start (the control
API round trip, payload build, journal row and delivery). RSS of the serve process is
sampled once a second.

    .venv/bin/python bench/serve_bench.py --rate 200 --duration 60
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import time
from typing import Any

import httpx
from procs import rss_mb


class Receiver:
    def __init__(self) -> None:
        self.arrivals: dict[int, float] = {}

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                now = time.perf_counter()
                length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))  # type: ignore[union-attr]
                body = await reader.readexactly(length)
                org = json.loads(body)["org_id"]
                self.arrivals[int(org.removeprefix("bench-"))] = now
                writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            writer.close()


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def receiver_process(port_out: Any, stop: Any, arrivals_out: Any) -> None:
    """The receiver in a process of its own, so the trigger client's work cannot delay
    its arrival times (perf_counter is CLOCK_MONOTONIC: comparable across processes)."""

    async def run() -> None:
        receiver = Receiver()
        server = await asyncio.start_server(receiver.handle, "127.0.0.1", 0)
        port_out.send(server.sockets[0].getsockname()[1])
        while not stop.is_set():
            await asyncio.sleep(0.1)
        server.close()
        arrivals_out.send(receiver.arrivals)

    asyncio.run(run())


class RawClient:
    """Keep-alive HTTP/1.1 POSTs over a few raw connections: a light client, so the
    bench's own CPU does not crowd the engine on a 2-core machine."""

    def __init__(self, host: str, port: int, connections: int = 8) -> None:
        self.host, self.port = host, port
        self.idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
            asyncio.Queue()
        )
        self.size = connections

    async def open(self) -> None:
        for _ in range(self.size):
            self.idle.put_nowait(await asyncio.open_connection(self.host, self.port))

    async def post(self, path: str, body: bytes) -> int:
        reader, writer = await self.idle.get()
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = re.search(rb"(?i)content-length:\s*(\d+)", head)
        await reader.readexactly(int(length.group(1)) if length else 0)
        self.idle.put_nowait((reader, writer))
        return status

    def close(self) -> None:
        while not self.idle.empty():
            self.idle.get_nowait()[1].close()


async def main(rate: float, duration: float, journal: str | None) -> dict[str, object]:
    import multiprocessing as mp

    port_in, port_out = mp.Pipe(duplex=False)
    arrivals_in, arrivals_out = mp.Pipe(duplex=False)
    stop = mp.Event()
    child = mp.Process(target=receiver_process, args=(port_out, stop, arrivals_out))
    child.start()
    rport = port_in.recv()
    engine = subprocess.Popen(
        [sys.executable, "-m", "atscale_mock", "serve", "--port", "0"]
        + (["--journal", journal] if journal else []),
        stderr=subprocess.PIPE,
        text=True,
    )
    assert engine.stderr is not None
    line = engine.stderr.readline()
    url = line.split()[3]
    sent: dict[int, float] = {}
    answered: dict[int, float] = {}
    rss: list[tuple[float, float]] = []
    failures = 0
    try:
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            await client.post("/_mock/webhooks", json={"url": f"http://127.0.0.1:{rport}/hook"})
            total = int(rate * duration)
            start = time.perf_counter()

            host, port = url.removeprefix("http://").rsplit(":", 1)
            raw = RawClient(host, int(port))
            await raw.open()

            async def fire(n: int) -> None:
                nonlocal failures
                sent[n] = time.perf_counter()
                status = await raw.post("/_mock/events/slow-query", b'{"org": "bench-%d"}' % n)
                answered[n] = time.perf_counter()
                failures += status != 202

            async def sample() -> None:
                while True:
                    rss.append((time.perf_counter() - start, rss_mb(engine.pid)))
                    await asyncio.sleep(1)

            sampler = asyncio.create_task(sample())
            tasks = []
            for n in range(total):
                due = start + n / rate
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(fire(n)))
            await asyncio.gather(*tasks)
            deadline = time.perf_counter() + 10
            while time.perf_counter() < deadline:
                health = (await client.get("/_mock/health")).json()
                if health["attempts"] >= total and health["in_flight"] == 0:
                    break
                await asyncio.sleep(0.05)
            sampler.cancel()
            raw.close()
            attempts = (await client.get("/_mock/health")).json()["attempts"]
        cpu = _cpu_seconds(engine.pid)
    finally:
        engine.terminate()
        engine.wait(20)
        stop.set()
        arrivals = arrivals_in.recv()
        child.join(10)
    rtt = [(answered[n] - sent[n]) * 1000 for n in answered]
    added = [(arrivals[n] - sent[n]) * 1000 for n in arrivals]
    early = [m for t, m in rss if 9 <= t <= 11]
    late = [m for t, m in rss if t >= duration - 2]
    return {
        "rate": rate,
        "duration_s": duration,
        "triggered": len(sent),
        "trigger_failures": failures,
        "delivered": len(arrivals),
        "journal_attempts": attempts,
        "added_ms_p50": round(pct(added, 50), 2),
        "added_ms_p99": round(pct(added, 99), 2),
        "added_ms_max": round(max(added), 2),
        "trigger_rtt_ms_p50": round(pct(rtt, 50), 2),
        "trigger_rtt_ms_p99": round(pct(rtt, 99), 2),
        "serve_cpu_s": round(cpu, 2),
        "rss_mb_at_10s": round(early[0], 1) if early else None,
        "rss_mb_at_end": round(late[-1], 1) if late else None,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--journal", help="the engine's journal file (default: a temp file)")
    args = parser.parse_args()
    os.environ.setdefault("NO_PROXY", "127.0.0.1")
    print(json.dumps(asyncio.run(main(args.rate, args.duration, args.journal)), indent=2))
