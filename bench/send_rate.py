"""Does the one delivery pipeline hold its rate? `send -n 4000 --rate 2000` and a
scenario repeat of 10,000 at 5,000/s against nginx on 127.0.0.1 (answering 204).

    PATH=.venv/bin:$PATH .venv/bin/python bench/send_rate.py

Installs nginx from Debian's packages when missing (needs root). Prints wall time,
statuses, failures and the schedule figures; bounded in count and time.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from load_bench import URL, ensure_tools, start_nginx  # noqa: E402


def timed(args: list[str]) -> tuple[float, dict[str, object]]:
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    wall = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(done.stderr)
    return wall, json.loads(done.stdout)


def main() -> None:
    ensure_tools()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        nginx = start_nginx(workdir)
        try:
            for _ in range(3):
                wall, data = timed(
                    ["atscale-mock", "send", "slow-query", "-n", "4000", "--rate", "2000",
                     "--to", URL, "--json"]
                )  # fmt: skip
                print(
                    f"send -n 4000 --rate 2000: {wall:.2f} s wall, statuses "
                    f"{data['statuses']}, failed {data['failed']}, "
                    f"schedule {data.get('schedule', {})}"
                )
            scenario = workdir / "repeat.yaml"
            scenario.write_text(
                "version: 1\nname: repeat\nsteps:\n  - id: q\n    event: slow-query\n"
                "    repeat: {count: 10000, rate: 5000/s}\n"
            )
            for _ in range(3):
                wall, data = timed(
                    ["atscale-mock", "run", str(scenario), "--to", URL, "--json", "-q"]
                )
                print(
                    f"run repeat 10,000 at 5,000/s: {wall:.2f} s wall, passed {data['passed']}, "
                    f"failed {data['failed']}, statuses {data['statuses']}, dispatch lag p99 "
                    f"{data['dispatch_lag_ms']['p99']} ms, elapsed {data['elapsed_seconds']} s"
                )
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)


if __name__ == "__main__":
    main()
