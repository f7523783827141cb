"""What the benches share: a process's resident size, and `atscale-mock receive` in a
process of its own on a free loopback port."""

from __future__ import annotations

import subprocess
import sys


def rss_mb(pid: int) -> float:
    """Resident set size of ``pid`` in MB (from /proc)."""
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def start_receiver() -> tuple[subprocess.Popen[str], str]:
    """`atscale-mock receive --port 0` (its lines discarded) and its base URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "atscale_mock", "receive", "--port", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    return proc, proc.stderr.readline().split()[2]
