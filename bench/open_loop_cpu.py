"""CPU an open-loop load spends: `atscale-mock load --rate R -d D` against
`atscale-mock receive` (its own process, 127.0.0.1), with and without --spin.
Reports the load process's user+system CPU (getrusage of the child), the achieved
rate and the dispatch lag. Aim (issue 17): at 1,000 req/s for 30 s, <= 3 s of CPU,
p99 lag <= 2 ms, rate within 0.5 %.

    .venv/bin/python bench/open_loop_cpu.py --rate 1000 --duration 30
"""

from __future__ import annotations

import argparse
import json
import resource
import signal
import subprocess
import sys

from procs import start_receiver


def run(url: str, rate: float, duration: float, spin: bool) -> dict[str, object]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    args = [sys.executable, "-m", "atscale_mock", "load", "--to", url, "--rate", str(rate),
            "-d", f"{duration}s", "-q", "--json"] + (["--spin"] if spin else [])  # fmt: skip
    done = subprocess.run(args, capture_output=True, text=True, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    s = json.loads(done.stdout)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "spin": s["spin"],
        "cpu_s": round(cpu, 2),
        "cpu_us_per_request": round(cpu / max(s["sent"], 1) * 1e6, 1),
        "rate": s["rate"],
        "rate_error_pct": round((s["rate"] - rate) / rate * 100, 3),
        "lag_p99_ms": s["dispatch_lag_ms"]["p99"],
        "late": s["late"],
    }


def main(rate: float, duration: float) -> list[dict[str, object]]:
    receiver, base = start_receiver()
    url = base + "/hooks"
    try:
        return [run(url, rate, duration, spin) for spin in (False, True)]
    finally:
        receiver.send_signal(signal.SIGTERM)
        receiver.communicate(timeout=30)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=1000)
    parser.add_argument("--duration", type=float, default=30)
    args = parser.parse_args()
    print(json.dumps(main(args.rate, args.duration), indent=2))
