"""Loading a 100,000-step scenario: `atscale-mock validate` time and peak memory, for a
valid file and for one with a typo in its last step (the error path composes the file
again to find the position).

    .venv/bin/python bench/big_scenario.py [--steps 100000]

Aim (issue 17): <= 5 s and <= 300 MB for the valid file.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def measure(path: Path) -> dict[str, object]:
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "atscale_mock", "validate", str(path)],
        capture_output=True, text=True,
    )  # fmt: skip
    elapsed = time.monotonic() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "seconds": round(elapsed, 2),
        "peak_rss_mb_so_far": round(peak, 1),  # children's peak: the largest run so far
        "exit": done.returncode,
        "says": done.stderr.strip().splitlines()[:2],
    }


def main(steps: int) -> dict[str, object]:
    body = "".join(f"  - id: s{i}\n    event: slow-query\n" for i in range(steps))
    with tempfile.TemporaryDirectory() as tmp:
        good = Path(tmp) / "good.yaml"
        good.write_text("version: 1\nname: big\nsteps:\n" + body)
        bad = Path(tmp) / "bad.yaml"
        bad.write_text(
            "version: 1\nname: big\nsteps:\n" + body[: -len("slow-query\n")] + "slow-qery\n"
        )
        return {"steps": steps, "valid": measure(good), "typo_in_last_step": measure(bad)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100_000)
    print(json.dumps(main(parser.parse_args().steps), indent=2))
