"""Timing accuracy of `run`: the gap between each event's planned and actual send time
for a scenario of N events at R per second, against `atscale-mock receive` in another
process on 127.0.0.1. Bounded: N events, then it stops.

    python bench/timing_accuracy.py [--count 1000] [--rate 200]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime

from atscale_mock.delivery.retry import Retry
from atscale_mock.delivery.summary import percentile
from atscale_mock.delivery.transport import HttpxSender
from atscale_mock.scenario.reading import parse_scenario
from atscale_mock.scenario.runner import Runner


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def run(count: int, rate: float, url: str) -> list[float]:
    text = f"""version: 1
name: timing
steps:
  - id: burst
    event: slow-query
    repeat: {{count: {count}, rate: {rate}/s}}
"""
    scenario = parse_scenario(text.encode(), "timing.yaml")
    async with HttpxSender(timeout=5) as sender:
        runner = Runner(scenario, 1, datetime.now(UTC), url, sender, Retry())
        result = await runner.run()
    assert result.summary["ok"] == count, result.summary
    return sorted(r.lag for r in result.results)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=200)
    args = parser.parse_args()
    port = free_port()
    receiver = subprocess.Popen(
        [sys.executable, "-m", "atscale_mock", "receive", "--port", str(port), "--duration", "600"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(1.0)
        lags = asyncio.run(run(args.count, args.rate, f"http://127.0.0.1:{port}/hooks"))
    finally:
        receiver.terminate()
        receiver.wait(10)
    ms = {q: percentile(lags, q) * 1000 for q in (50, 99)}
    print("| events | rate | p50 lag (ms) | p99 lag (ms) | max lag (ms) |")
    print("|---:|---:|---:|---:|---:|")
    print(
        f"| {args.count} | {args.rate:g}/s | {ms[50]:.3f} | {ms[99]:.3f} | {lags[-1] * 1000:.3f} |"
    )


if __name__ == "__main__":
    main()
