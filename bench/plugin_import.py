"""What the pytest plugin costs a session that does not use it: `pytest` on a file of
one trivial test, with the plugin (found through its entry point) and with it disabled
(`-p no:atscale_mock`), interleaved, median of N runs.

    .venv/bin/python bench/plugin_import.py [--runs 21]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(args: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=cwd, check=True, capture_output=True,
    )  # fmt: skip
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=21)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        (cwd / "test_x.py").write_text("def test_x():\n    assert 1 + 1 == 2\n")
        on: list[float] = []
        off: list[float] = []
        for _ in range(runs):
            on.append(timed([], cwd))
            off.append(timed(["-p", "no:atscale_mock"], cwd))
    a, b = statistics.median(on) * 1000, statistics.median(off) * 1000
    print(f"pytest with the plugin: {a:.0f} ms; without: {b:.0f} ms; difference {a - b:+.0f} ms")


if __name__ == "__main__":
    main()
