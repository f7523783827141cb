"""``load --generator locust``: a headless Locust master and N local workers running
:mod:`atscale_mock.load.locustfile`, summarised like the built-in generator. Locust is started
as separate processes; nothing here imports it."""

from __future__ import annotations

import csv
import json
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ..config import install_hint as _install_hint
from ..errors import AtscaleMockError, UsageError
from .config import LoadConfig
from .summary import LoadSummary, Measured, SeriesRow, document


def locustfile_path() -> str:
    return str(Path(__file__).resolve().parent / "locustfile.py")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _check_installed() -> None:
    import importlib.util

    if importlib.util.find_spec("locust") is None:
        raise UsageError("the locust generator needs Locust", _install_hint("locust"))


def locust_environment(config: LoadConfig) -> dict[str, str]:
    """What the Locust file reads from the environment (so a signing key never shows in
    a process list): every header, and the signing scheme and key."""
    import json
    import os

    env = dict(os.environ)
    env["ATSCALE_MOCK_HEADERS"] = json.dumps([list(pair) for pair in config.headers])
    users = max(config.connections, config.processes)
    # the schedule's phases as per-user rates: a ramp stays a ramp
    env["ATSCALE_MOCK_PHASES"] = json.dumps(
        [[p.duration, p.rate / users, p.end_rate / users] for p in config.phases]
    )
    if config.signer is not None:
        env["ATSCALE_MOCK_SIGN"] = config.signer.scheme
        env["ATSCALE_MOCK_SECRET"] = config.signer.secret
        env["ATSCALE_MOCK_SIGNATURE_HEADER"] = config.signer.header
    return env


def run_locust(config: LoadConfig) -> LoadSummary:
    """Run master and workers to completion; the summary in the built-in generator's shape."""
    _check_installed()
    mix_text = ",".join(f"{k}={v:g}" for k, v in config.mix.items())
    users = max(config.connections, config.processes)
    rate = config.target_rate
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        prefix = str(Path(tmp) / "stats")
        base = [sys.executable, "-m", "locust", "-f", locustfile_path()]
        ours = [
            "--mix",
            mix_text,
            "--seed",
            str(config.seed),
            "--rate-per-user",
            str(rate / users if rate else 0),
        ]
        if config.full:
            ours.append("--full")
        master = base + [
            "--headless",
            "--master",
            "--master-bind-host",
            "127.0.0.1",
            "--master-bind-port",
            str(port),
            "--expect-workers",
            str(config.processes),
            "-u",
            str(users),
            "-r",
            str(users),
            "-t",
            f"{config.duration:g}s",
            # at the deadline, a request in flight finishes and is counted (not cut off
            # after it reached the receiver): Locust's counts then match the receiver's
            "--stop-timeout",
            f"{config.timeout:g}",
            "--host",
            config.url,
            "--csv",
            prefix,
            "--only-summary",
            "--loglevel",
            "WARNING",
            *ours,
        ]
        worker = base + [
            "--worker",
            "--master-host",
            "127.0.0.1",
            "--master-port",
            str(port),
            "--loglevel",
            "WARNING",
        ]
        env = locust_environment(config)
        status_file = Path(tmp) / "statuses.json"
        env["ATSCALE_MOCK_STATUS_FILE"] = str(status_file)
        start = time.monotonic()
        procs: list[subprocess.Popen[Any]] = [
            subprocess.Popen(
                master, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env
            )
        ]
        procs += [
            subprocess.Popen(worker, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
            for _ in range(config.processes)
        ]
        interrupted = False
        try:
            _, errors = procs[0].communicate(timeout=config.duration + 120)
        except KeyboardInterrupt:
            interrupted = True
            procs[0].terminate()
            _, errors = procs[0].communicate(timeout=30)
        finally:
            for p in procs[1:]:
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    p.kill()
        elapsed = time.monotonic() - start
        stats = Path(prefix + "_stats.csv")
        if not stats.exists():
            raise AtscaleMockError(
                "Locust produced no statistics: " + (errors or "").strip()[-500:]
            )
        rows = list(csv.DictReader(stats.open()))
        row = next(r for r in rows if r["Name"] == "Aggregated")
        events = {r["Name"]: int(r["Request Count"]) for r in rows if r["Name"] != "Aggregated"}
        failures = Path(prefix + "_failures.csv")
        error_rows = list(csv.DictReader(failures.open())) if failures.exists() else []
        seconds = json.loads(status_file.read_text())["seconds"] if status_file.exists() else {}
    series = _series(seconds)
    statuses: dict[str, int] = {}
    for r in series:
        for code, n in r["statuses"].items():
            statuses[code] = statuses.get(code, 0) + n
    summary = _summary(config, row, error_rows, elapsed, interrupted, statuses, events)
    summary["series"] = series
    return summary


def _series(seconds: dict[str, dict[str, Any]]) -> list[SeriesRow]:
    """The built-in generator's series from what the Locust file counted per second of
    the wall clock (atscale_mock/load/locustfile.py): responses by status or error, and a
    latency histogram. Time runs from the first request; the first and last seconds
    cover only part of a second (``span_s`` and ``partial`` say how much)."""
    from hdrh.histogram import HdrHistogram

    from .stats import percentiles_ms

    if not seconds:
        return []
    keys = sorted(seconds, key=int)
    start = seconds[keys[0]]["first"]
    series: list[SeriesRow] = []
    for n, key in enumerate(keys):
        b = seconds[key]
        sec = int(key)
        begin = max(float(sec), start)
        end = b["last"] if n == len(keys) - 1 else sec + 1.0
        span = max(0.001, end - begin)
        counts: dict[str, int] = b["counts"]
        statuses = {k: v for k, v in counts.items() if k.isdigit()}
        errors = {k: v for k, v in counts.items() if not k.isdigit()}
        done = sum(counts.values())
        ok = sum(v for k, v in statuses.items() if k.startswith("2"))
        series.append(
            {
                "t": round(begin - start, 3),
                "sent": done,
                "completed": done,
                "ok": ok,
                "late": 0,
                "rate": round(done / span, 1),
                "statuses": statuses,
                "errors": errors,
                "latency_ms": b["latency_ms"]
                if "latency_ms" in b
                else percentiles_ms(HdrHistogram.decode(b["hist"].encode())),
                "span_s": round(span, 3),
                "partial": span < 0.999,
            }
        )
    return series


LOCUST_PERCENTILES = (50, 66, 75, 80, 90, 95, 98, 99, 99.9, 99.99, 100)


def _distribution(row: dict[str, str]) -> list[list[float]]:
    """The percentiles Locust writes, as [[percentile, ms], ...]."""
    out = []
    for q in LOCUST_PERCENTILES:
        key = f"{q:g}%"
        if row.get(key, "") not in ("", "N/A"):
            out.append([float(q), _ms(row, key)])
    return out


def _ms(row: dict[str, str], key: str) -> float:
    value = row.get(key, "")
    return float(value) if value not in ("", "N/A") else 0.0


def _summary(
    config: LoadConfig,
    row: dict[str, str],
    error_rows: list[dict[str, str]],
    elapsed: float,
    interrupted: bool,
    statuses: dict[str, int] | None = None,
    events: dict[str, int] | None = None,
) -> LoadSummary:

    count, failed = int(row["Request Count"]), int(row["Failure Count"])
    latency = {
        "p50": _ms(row, "50%"),
        "p90": _ms(row, "90%"),
        "p95": _ms(row, "95%"),
        "p99": _ms(row, "99%"),
        "p99.9": _ms(row, "99.9%"),
        "max": _ms(row, "100%"),
    }
    measured: Measured = {
        "mode": "locust",
        "elapsed_s": elapsed,
        "interrupted": interrupted,
        "sent": count,
        "completed": count,
        "ok": count - failed,
        "late": 0,
        "rate": _rate(count, config.duration, elapsed, interrupted),
        "not_sent": 0,
        "pool_exhausted": 0,
        "connections_opened": 0,
        "statuses": dict(statuses or {}),
        "errors": {r["Error"]: int(r["Occurrences"]) for r in error_rows},
        "faults": {},
        "latency_ms": latency,
        "service_ms": latency,  # Locust times from the actual send: latency is service time
        "dispatch_lag_ms": None,  # Locust does not report dispatch lag: not measured, not zero
        "distribution_ms": {"latency": _distribution(row)},
        "interval_s": 1.0,
        "series": [],
    }
    users = max(config.connections, config.processes)
    return document(config, config.seed, measured, users, dict(events or {}))


def _rate(count: int, duration: float, elapsed: float, interrupted: bool) -> float:
    """Requests per second over the planned duration, or, when interrupted, over the
    time it actually ran."""
    window = min(duration, elapsed) if interrupted else duration
    return count / window if window > 0 else 0.0
