"""Load benchmarks: atscale-mock against its peers on the same nginx, same connection
count, interleaved round by round; open-loop accuracy; payload generation; memory.

    python bench/load_bench.py [--seconds 10] [--rounds 3] [--skip-memory] [--closed-only]

The peers, closed loop, 50 connections: with one static body, wrk (-t1), h2load
(HTTP/1.1, Debian's nghttp2-client) and hey; doing atscale-mock's work (a unique payload
per request), wrk building each body in a Lua script and Locust's FastHttpUser in one
process. Installs nginx, wrk, hey and nghttp2-client from Debian's packages when missing
(needs root); Locust comes with the `locust` extra. Every request goes to nginx on
127.0.0.1, which answers 204; every loop is bounded in time.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PORT = 18089
URL = f"http://127.0.0.1:{PORT}/hooks"
BODY = json.dumps(
    json.loads((Path(__file__).parent.parent / "tests/golden/spec/slow-query.json").read_text()),
    separators=(",", ":"),
)
NGINX = """worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {d}/body;
  keepalive_requests 10000000;
  server {{ listen 127.0.0.1:{port}; location / {{ return 204; }} }}
}}
"""


def ensure_tools() -> None:
    missing = [
        p
        for p, b in (
            ("nginx-light", "nginx"),
            ("wrk", "wrk"),
            ("hey", "hey"),
            ("nghttp2-client", "h2load"),
        )
        if not shutil.which(b) and not Path(f"/usr/sbin/{b}").exists()
    ]
    if missing:
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", *missing], check=True, stdout=subprocess.DEVNULL
        )


def start_nginx(workdir: Path) -> subprocess.Popen[bytes]:
    conf = workdir / "nginx.conf"
    conf.write_text(NGINX.format(d=workdir, port=PORT))
    exe = shutil.which("nginx") or "/usr/sbin/nginx"
    proc = subprocess.Popen([exe, "-c", str(conf)], stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    return proc


def wrk(seconds: int, workdir: Path) -> float:
    script = workdir / "post.lua"
    script.write_text(
        f"wrk.method = 'POST'\nwrk.body = {json.dumps(BODY)}\n"
        "wrk.headers['Content-Type'] = 'application/json'\n"
    )
    out = subprocess.run(
        ["wrk", "-t1", "-c50", f"-d{seconds}s", "-s", str(script), URL],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]


# A slow-query body per request, made in Lua: fresh version-4 UUIDs and the time now,
# the same shape as atscale-mock's payloads (wrk's -s script, one thread).
UNIQUE_LUA = r"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
math.randomseed(os.time())
local function uuid()
  return (string.gsub("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", "[xy]", function(c)
    local v = (c == "x") and math.random(0, 15) or math.random(8, 11)
    return string.format("%x", v)
  end))
end
request = function()
  local body = string.format(
    '{"event_type":"slow_query_event","query_id":"%s","finished_at":"%s",' ..
    '"org_id":"default","query_success":true,"time_taken":%.6f,' ..
    '"project_id":"%s","cube_id":"%s"}',
    uuid(), os.date("!%Y-%m-%dT%H:%M:%S.000000Z"), 3 + math.random() * 12.75, uuid(), uuid())
  return wrk.format(nil, nil, nil, body)
end
"""

# Locust's fast client, one process, a unique body per request (uuid4 and the time now)
LOCUST_PLAIN = """
import json, uuid
from datetime import datetime, timezone
from locust import FastHttpUser, task

class Poster(FastHttpUser):
    @task
    def post(self):
        body = json.dumps({
            "event_type": "slow_query_event", "query_id": str(uuid.uuid4()),
            "finished_at": datetime.now(timezone.utc).isoformat(), "org_id": "default",
            "query_success": True, "time_taken": 3.7, "project_id": str(uuid.uuid4()),
            "cube_id": str(uuid.uuid4())})
        self.client.post("/hooks", data=body, headers={"Content-Type": "application/json"})
"""


def wrk_unique(seconds: int, workdir: Path) -> float:
    script = workdir / "unique.lua"
    script.write_text(UNIQUE_LUA)
    out = subprocess.run(
        ["wrk", "-t1", "-c50", f"-d{seconds}s", "-s", str(script), URL],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]


def h2load(seconds: int, workdir: Path) -> float:
    body = workdir / "body.json"
    body.write_text(BODY)
    out = subprocess.run(
        ["h2load", "--h1", "-c", "50", "-t", "1", "-D", str(seconds), "-d", str(body),
         "-H", "Content-Type: application/json", URL],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return float(re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", out).group(1))  # type: ignore[union-attr]


def locust_plain(seconds: int, workdir: Path) -> float | None:
    """Locust FastHttpUser, one process, 50 users; None when Locust is not installed."""
    import importlib.util

    if importlib.util.find_spec("locust") is None:
        return None
    script = workdir / "plain_locustfile.py"
    script.write_text(LOCUST_PLAIN)
    prefix = workdir / "plain"
    subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(script), "--headless", "-u", "50",
         "-r", "50", "-t", f"{seconds}s", "--host", f"http://127.0.0.1:{PORT}",
         "--csv", str(prefix), "--only-summary", "--loglevel", "ERROR"],
        capture_output=True, text=True, timeout=seconds + 60,
    )  # fmt: skip
    import csv

    with open(f"{prefix}_stats.csv") as fh:
        row = next(r for r in csv.DictReader(fh) if r["Name"] == "Aggregated")
    return int(row["Request Count"]) / seconds


def hey(seconds: int, workdir: Path) -> float:
    body = workdir / "body.json"
    body.write_text(BODY)
    out = subprocess.run(
        [
            "hey",
            "-z",
            f"{seconds}s",
            "-c",
            "50",
            "-m",
            "POST",
            "-T",
            "application/json",
            "-D",
            str(body),
            URL,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]


def ours(*args: str) -> dict[str, object]:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "atscale_mock",
            "load",
            "--to",
            URL,
            "--json",
            "-q",
            "--seed",
            "1",
            *args,
        ],
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def generation_rate(head: bytes | None = None) -> float:
    """Unique payloads (or, given a head, whole requests) per second, default mix."""
    from atscale_mock.load.generator import DEFAULT_MIX, PayloadGenerator

    gen = PayloadGenerator(DEFAULT_MIX, 1, head=head)
    start, n = time.perf_counter(), 0
    while time.perf_counter() - start < 3:
        n += len(gen.bodies(1024))
    return n / (time.perf_counter() - start)


def memory(seconds: int) -> tuple[float, float]:
    """RSS (MB) of a 10,000 req/s open-loop run at 10 s and at ``seconds``."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "atscale_mock",
            "load",
            "--to",
            URL,
            "--rate",
            "10000",
            "-d",
            f"{seconds + 5}s",
            "-q",
            "--json",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def rss() -> float:
        status = Path(f"/proc/{proc.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]

    time.sleep(10)
    early = rss()
    time.sleep(seconds - 10)
    late = rss()
    proc.wait(timeout=120)
    return early, late


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--closed-only", action="store_true", help="only the peer comparison")
    parser.add_argument("--memory-seconds", type=int, default=300)
    args = parser.parse_args()
    ensure_tools()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        nginx = start_nginx(workdir)
        try:
            s = args.seconds
            print(
                f"## Closed loop, 50 connections, {s} s per run, nginx answering 204, "
                f"{args.rounds} interleaved rounds\n"
            )
            print("| round | tool | req/s | vs wrk (same round) |\n|---:|---|---:|---:|")
            ratios: dict[str, list[float]] = {}
            for round_ in range(1, args.rounds + 1):
                w = wrk(s, workdir)
                runs: dict[str, float | None] = {
                    "wrk -t1 -c50 (static body)": w,
                    "h2load --h1 -c50 -t1 (static body)": h2load(s, workdir),
                    "hey -c 50 (static body)": hey(s, workdir),
                    "wrk -t1 -c50, unique body per request in Lua": wrk_unique(s, workdir),
                    "Locust FastHttpUser, 1 process, unique body": locust_plain(s, workdir),
                    "atscale-mock load --rate max": float(
                        ours("--rate", "max", "-c", "50", "-d", f"{s}s")["rate"]  # type: ignore[arg-type]
                    ),
                    "atscale-mock load --rate max --processes 2": float(
                        ours("--rate", "max", "-c", "50", "-d", f"{s}s", "--processes", "2")["rate"]  # type: ignore[arg-type]
                    ),
                }
                for name, rate in runs.items():
                    if rate is None:
                        print(f"| {round_} | {name} | (Locust not installed) | |")
                        continue
                    ratios.setdefault(name, []).append(rate / w)
                    print(f"| {round_} | {name} | {rate:,.0f} | {rate / w:.2f} |")
            print("\n| tool | median ratio to wrk |\n|---|---:|")
            for name, values in ratios.items():
                print(f"| {name} | {statistics.median(values):.2f} |")
            if args.closed_only:
                return
            print("\n## Open loop, 5 s per rate\n")
            print(
                "| target req/s | processes | achieved req/s | error | not sent | late | "
                "dispatch lag p99 (ms) | latency p99 (ms) |"
            )
            print("|---:|---:|---:|---:|---:|---:|---:|---:|")
            for rate in (500, 1000, 5000, 10000, 20000, 25000, 50000):
                for procs in ("1", "2") if rate >= 20000 else ("1",):
                    d = ours("--rate", str(rate), "-d", "5s", "-c", "200", "--processes", procs)
                    achieved = float(d["rate"])  # type: ignore[arg-type]
                    print(
                        f"| {rate} | {procs} | {achieved:,.0f} | "
                        f"{(achieved - rate) / rate:+.3%} | {d['not_sent']} | {d['late']} | "
                        f"{d['dispatch_lag_ms']['p99']:.3f} | "  # type: ignore[index]
                        f"{d['latency_ms']['p99']:.3f} |"
                    )  # type: ignore[index]
            print("\n## Locust generator, rate max, 50 users, nginx answering 204\n")
            print("| workers | req/s | per worker |\n|---:|---:|---:|")
            for workers in (1, 2):
                d = ours(
                    "--generator",
                    "locust",
                    "--processes",
                    str(workers),
                    "--rate",
                    "max",
                    "-c",
                    "50",
                    "-d",
                    f"{s}s",
                )
                rate = float(d["rate"])  # type: ignore[arg-type]
                print(f"| {workers} | {rate:,.0f} | {rate / workers:,.0f} |")
            from atscale_mock.load.client import Target

            print(
                f"\n## Payload generation (default mix, one core, batches of 1024)\n\n"
                f"{generation_rate():,.0f} unique payloads/s; "
                f"{generation_rate(Target.parse(URL).json_head):,.0f} whole requests/s"
            )
            if not args.skip_memory:
                early, late = memory(args.memory_seconds)
                print(
                    f"\n## Memory at 10,000 req/s\n\nRSS {early:.1f} MB at 10 s, {late:.1f} MB "
                    f"at {args.memory_seconds} s: {late - early:+.1f} MB"
                )
        finally:
            nginx.terminate()
            nginx.wait(10)


if __name__ == "__main__":
    main()
