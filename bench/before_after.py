"""Start-up of two checkouts side by side, interleaved: `--help` and `send slow-query`
(to a receiver on 127.0.0.1), median of N runs each, with the same interpreter.

    git worktree add /tmp/old <commit>
    .venv/bin/python bench/before_after.py /tmp/old . [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

from atscale_mock.receiver import Receiver


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
    args = parser.parse_args()
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


if __name__ == "__main__":
    main()
