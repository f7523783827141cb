"""How long `check` takes: the battery alone, and with `--fuzz 500`, against the same
receiver (a threaded WSGI receiver on 127.0.0.1 that verifies signatures and answers
in well under a millisecond), for one or more checkouts side by side.

    git worktree add /tmp/before <commit>
    .venv/bin/python bench/check_time.py /tmp/before . [--runs 3]

Each case runs `python -m atscale_mock check --to URL --sign standard-webhooks
--secret S --seed 7 [--fuzz 500]` with the checkout first on PYTHONPATH; the median
wall time of the runs is printed per checkout. The goal: under 30 s for --fuzz 500.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.test_check_verdicts import SECRET, Receiver, serving  # noqa: E402


def timed(root: str, url: str, extra: list[str]) -> tuple[float, int]:
    env = {**os.environ, "PYTHONPATH": os.path.abspath(root), "ATSCALE_MOCK_SECRET": SECRET}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "atscale_mock", "check", "--to", url, "--sign",
         "standard-webhooks", "--seed", "7", "-q", *extra],
        env=env, capture_output=True, text=True, cwd="/tmp",
    )  # fmt: skip
    return time.perf_counter() - start, done.returncode


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("roots", nargs="+")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    cases = {"battery": [], "battery + --fuzz 500": ["--fuzz", "500"]}
    with serving(Receiver(secret=SECRET)) as url:
        for name, extra in cases.items():
            for root in args.roots:
                runs = [timed(root, url, extra) for _ in range(args.runs)]
                seconds = statistics.median(t for t, _ in runs)
                codes = sorted({c for _, c in runs})
                print(f"{name:<22} {root:<16} {seconds:6.2f} s  exit {codes}")


if __name__ == "__main__":
    main()
