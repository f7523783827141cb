"""Cold-start wall time: `atscale-mock --help` and `atscale-mock send slow-query` against
the one-liner `python -c "import httpx; httpx.post(URL, json=...)"`, side by side in one
run (interleaved, median of N). Traffic goes only to a receiver on 127.0.0.1.

    python bench/cold_start.py [--runs 15]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time

from atscale_mock.receiver.local import Receiver


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    exe = shutil.which("atscale-mock") or sys.exit("atscale-mock is not installed")
    with Receiver() as receiver:
        url = receiver.url + "/hooks"
        one_liner = [
            sys.executable,
            "-c",
            f"import httpx; httpx.post({url!r}, json={{'event_type': 'slow_query_event'}})",
        ]
        cases = {
            "httpx one-liner": one_liner,
            "atscale-mock --help": [exe, "--help"],
            "atscale-mock send slow-query": [exe, "send", "slow-query", "--to", url],
        }
        times: dict[str, list[float]] = {name: [] for name in cases}
        for cmd in cases.values():  # warm the page cache once
            timed(cmd)
        for _ in range(args.runs):
            for name, cmd in cases.items():
                times[name].append(timed(cmd))
    base = statistics.median(times["httpx one-liner"])
    print(f"| command | median (ms) | min (ms) | × one-liner |  (runs: {args.runs})")
    print("|---|---:|---:|---:|")
    for name, values in times.items():
        med = statistics.median(values)
        print(f"| {name} | {med * 1000:.0f} | {min(values) * 1000:.0f} | {med / base:.2f} |")


if __name__ == "__main__":
    main()
