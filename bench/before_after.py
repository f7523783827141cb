"""Start-up of two checkouts side by side, interleaved: `--help` and `send slow-query`
(to a receiver on 127.0.0.1), median of N runs each, with the same interpreter.

    git worktree add /tmp/old <commit>
    .venv/bin/python bench/before_after.py /tmp/old . [--runs 15] [--load-rounds 3]

With --load-rounds N it also runs `load --rate max -c 50 -d 5s` of both checkouts and
wrk, interleaved, against nginx on 127.0.0.1 (installed from Debian's packages when
missing), and prints each one's ratio to wrk in the same round.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

from atscale_mock.receiver.local import Receiver


def timed(root: str, args: list[str]) -> float:
    env = {**os.environ, "PYTHONPATH": os.path.abspath(root)}
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "atscale_mock", *args],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--load-rounds", type=int, default=0)
    args = parser.parse_args()
    if args.load_rounds:
        closed_loop(args.before, args.after, args.load_rounds)
    with Receiver() as receiver:
        cases = {
            "--help": ["--help"],
            "send slow-query": ["send", "slow-query", "--to", receiver.url + "/hooks"],
        }
        times: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.runs):
            for name, argv in cases.items():
                for side in (args.before, args.after):
                    times.setdefault((name, side), []).append(timed(side, argv))
    for name in cases:
        before = statistics.median(times[(name, args.before)]) * 1000
        after = statistics.median(times[(name, args.after)]) * 1000
        print(f"{name}: before {before:.0f} ms, after {after:.0f} ms, x{after / before:.2f}")


def closed_loop(before: str, after: str, rounds: int) -> None:
    import json
    import statistics
    import tempfile
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from load_bench import URL, ensure_tools, start_nginx, wrk

    def ours(root: str) -> float:
        env = {**os.environ, "PYTHONPATH": os.path.abspath(root)}
        done = subprocess.run(
            [sys.executable, "-m", "atscale_mock", "load", "--to", URL, "--rate", "max",
             "-c", "50", "-d", "5s", "-q", "--json"],
            env=env, capture_output=True, text=True, check=True, timeout=60,
        )  # fmt: skip
        return float(json.loads(done.stdout)["rate"])

    ensure_tools()
    ratios: dict[str, list[float]] = {before: [], after: []}
    with tempfile.TemporaryDirectory() as tmp:
        nginx = start_nginx(Path(tmp))
        try:
            for _ in range(rounds):
                w = wrk(5, Path(tmp))
                for side in (before, after):
                    rate = ours(side)
                    ratios[side].append(rate / w)
                    print(f"wrk {w:,.0f} req/s; {side}: {rate:,.0f} req/s ({rate / w:.2f}x)")
        finally:
            nginx.terminate()
            nginx.wait(10)
    for side, values in ratios.items():
        print(f"closed loop {side}: median {statistics.median(values):.2f}x wrk")


if __name__ == "__main__":
    main()
