"""Memory of a long send: does RSS stay flat while deliveries go on and on?

Starts `atscale-mock receive` (a receiver in its own process, 127.0.0.1) and
`atscale-mock send slow-query -n 100000000 --rate 1000` against it, samples the sender's
RSS every second for --duration seconds, then stops both with SIGTERM.
Aim (issue 17): RSS within ±10 MB between 10 s and 60 s.

    .venv/bin/python bench/flat_memory.py --duration 60
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import time

from procs import rss_mb, start_receiver


def main(duration: float, rate: float) -> dict[str, object]:
    receiver, url = start_receiver()
    sender = subprocess.Popen(
        [sys.executable, "-m", "atscale_mock", "send", "slow-query", "-n", "100000000",
         "--rate", str(rate), "--to", url + "/hooks", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    samples = []
    start = time.monotonic()
    try:
        while time.monotonic() - start < duration:
            time.sleep(1)
            samples.append((round(time.monotonic() - start), rss_mb(sender.pid)))
    finally:
        sender.send_signal(signal.SIGTERM)
        out, _ = sender.communicate(timeout=30)
        receiver.send_signal(signal.SIGTERM)
        receiver.communicate(timeout=30)
    summary = json.loads(out)
    at = dict(samples)
    window = [m for t, m in samples if t >= 10]
    return {
        "rate": rate,
        "duration_s": duration,
        "delivered": summary["deliveries"],
        "failed": summary["failed"],
        "rss_mb_at": {t: round(at[t], 1) for t in (1, 5, 10, 30, 60) if t in at},
        "rss_mb_min_max_from_10s": [round(min(window), 1), round(max(window), 1)]
        if window
        else None,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--rate", type=float, default=1000)
    args = parser.parse_args()
    print(json.dumps(main(args.duration, args.rate), indent=2))
