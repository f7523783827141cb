"""replay of a big log: how soon it sends and how much memory it holds.

Writes a JSON Lines log of N deliveries (about 700 bytes a line), starts the built-in
receiver, and runs `atscale-mock replay LOG --to URL --max-time S -q` in a child
process; prints the child's exit code, its peak resident size and how many requests the
receiver got within the time. With ``--pythonpath DIR`` the command runs another
checkout's code (to compare with an earlier commit).

    python bench/replay_stream.py --lines 150000 --max-time 3
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.test_replay_streaming import write_log  # noqa: E402  (the test's log, here bigger)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=150_000)
    parser.add_argument("--max-time", default="3")
    parser.add_argument("--pythonpath", default="")
    args = parser.parse_args()
    import atscale_mock as am

    with tempfile.TemporaryDirectory() as tmp, am.Receiver() as receiver:
        log = Path(tmp) / "big.jsonl"
        write_log(log, args.lines)
        env = dict(os.environ)
        if args.pythonpath:
            env["PYTHONPATH"] = args.pythonpath
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "atscale_mock", "replay", str(log), "--to",
             receiver.url + "/hooks", "--max-time", args.max_time, "-q"],
            env=env, capture_output=True, text=True, cwd=tmp,
        )  # fmt: skip
        took = time.monotonic() - started
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(
            f"log {log.stat().st_size / 2**20:.0f} MB, {args.lines} lines: exit "
            f"{done.returncode} after {took:.1f} s, peak RSS {peak_mb:.0f} MB, "
            f"{receiver.count} requests received"
        )


if __name__ == "__main__":
    main()
