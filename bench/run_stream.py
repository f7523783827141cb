"""A scenario of ten million deliveries: how soon does `run` send its first one, and
does its memory stay flat while it goes on? Also `plan --summary` of it.

Writes the scenario (one step, `repeat: {count: 10000000, rate: 1000/s}`, with a
jittered second step) to a temporary directory, starts a one-line HTTP receiver on
127.0.0.1 that notes when the first request arrives, then runs
`atscale-mock run FILE --to URL --max-time SECONDS` and samples its RSS every second.
The first-send figure is from the moment the process is started (so it includes the
interpreter's start-up), and also from the run's own start (its `started` stderr line
is not relied on: the receiver's clock is the judge).

    .venv/bin/python bench/run_stream.py --duration 30
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from procs import rss_mb

SCENARIO = """version: 1
name: ten-million
steps:
  - id: flood
    event: slow-query
    repeat: {count: 10000000, rate: 1000/s}
  - id: tail
    event: slow-query
    repeat: {count: 1000, rate: 1000/s, jitter: 5ms}
"""


class First(BaseHTTPRequestHandler):
    first: float | None = None
    count = 0

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        if First.first is None:
            First.first = time.monotonic()
        First.count += 1
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def plan_summary(path: Path) -> dict[str, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-m", "atscale_mock", "plan", str(path), "--summary", "--json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    elapsed = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    doc = json.loads(out.stdout)
    return {
        "deliveries": doc["deliveries"],
        "seconds": round(elapsed, 2),
        "peak_rss_mb": round(max(after.ru_maxrss, before.ru_maxrss) / 1024, 1),
    }


def main(duration: float) -> dict[str, object]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), First)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ten-million.yaml"
        path.write_text(SCENARIO)
        summary = plan_summary(path)
        start = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "atscale_mock", "run", str(path), "--to", url,
             "--max-time", str(duration), "--quiet", "--json"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        samples = []
        while proc.poll() is None and time.monotonic() - start < duration + 30:
            time.sleep(1)
            if proc.poll() is None:
                samples.append((round(time.monotonic() - start), round(rss_mb(proc.pid), 1)))
        out, _ = proc.communicate(timeout=60)
    server.shutdown()
    result = json.loads(out) if out.strip() else {}
    first = None if First.first is None else round(First.first - start, 3)
    at = dict(samples)
    return {
        "plan_summary": summary,
        "first_delivery_s_from_process_start": first,
        "received": First.count,
        "rss_mb": {t: at[t] for t in (1, 5, 10, 20, 30, 60) if t in at},
        "run_sent": result.get("sent"),
        "run_exit": proc.returncode,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=30.0)
    args = parser.parse_args()
    print(json.dumps(main(args.duration), indent=2))
