"""``load --engine locust``: a headless Locust master and N local workers running
:mod:`atscale_mock.locustfile`, summarised like the built-in engine. Locust is started
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

from ..errors import AtscaleMockError, UsageError
from .runner import LoadConfig


def locustfile_path() -> str:
    return str(Path(__file__).resolve().parent.parent / "locustfile.py")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _check_installed() -> None:
    import importlib.util

    if importlib.util.find_spec("locust") is None:
        raise UsageError("--engine locust needs Locust", "pip install 'atscale-mock[locust]'")


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
        env["ATSCALE_MOCK_SIGN"] = config.signer.mode
        env["ATSCALE_MOCK_SECRET"] = config.signer.secret
        env["ATSCALE_MOCK_SIGNATURE_HEADER"] = config.signer.header
    return env


def run_locust(config: LoadConfig) -> dict[str, Any]:
    """Run master and workers to completion; the summary in the built-in engine's shape."""
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
        row = next(r for r in csv.DictReader(stats.open()) if r["Name"] == "Aggregated")
        failures = Path(prefix + "_failures.csv")
        error_rows = list(csv.DictReader(failures.open())) if failures.exists() else []
        statuses = json.loads(status_file.read_text()) if status_file.exists() else {}
        series = _series(Path(prefix + "_stats_history.csv"))
    summary = _summary(config, row, error_rows, elapsed, interrupted, statuses)
    summary["series"] = series
    return summary


def _series(history: Path) -> list[dict[str, Any]]:
    """Locust's per-second history (its Aggregated rows) as the built-in engine's
    series, so the HTML report draws Locust runs too."""
    if not history.exists():
        return []
    rows = [r for r in csv.DictReader(history.open()) if r.get("Name") == "Aggregated"]
    series: list[dict[str, Any]] = []
    if not rows:
        return series
    start, before, failed_before = float(rows[0]["Timestamp"]), 0, 0
    for r in rows:
        total = int(float(r.get("Total Request Count") or 0))
        failed = int(float(r.get("Total Failure Count") or 0))
        done, bad = total - before, failed - failed_before
        before, failed_before = total, failed
        series.append(
            {
                "t": round(float(r["Timestamp"]) - start, 3),
                "sent": done,
                "completed": done,
                "ok": done - bad,
                "late": 0,
                "rate": round(_ms(r, "Requests/s"), 1),
                "statuses": {},
                "errors": {"failed": bad} if bad else {},
                "latency_ms": {q: _ms(r, f"{q[1:]}%") for q in ("p50", "p90", "p99")},
            }
        )
    return series


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
) -> dict[str, Any]:
    from .report import Measured, document

    count, failed = int(row["Request Count"]), int(row["Failure Count"])
    latency = {
        "p50": _ms(row, "50%"),
        "p90": _ms(row, "90%"),
        "p99": _ms(row, "99%"),
        "p99.9": _ms(row, "99.9%"),
        "max": _ms(row, "100%"),
    }
    measured = Measured(
        mode="locust",
        elapsed=elapsed,
        interrupted=interrupted,
        sent=count,
        completed=count,
        ok=count - failed,
        latency=latency,
        service=latency,  # Locust times from the actual send: latency is service time
        lag=dict.fromkeys(latency, 0.0),  # Locust does not report dispatch lag
        rate=_rate(count, config.duration, elapsed, interrupted),
        statuses=dict(statuses or {}),
        errors={r["Error"]: int(r["Occurrences"]) for r in error_rows},
    )
    return document(config, config.seed, measured, max(config.connections, config.processes))


def _rate(count: int, duration: float, elapsed: float, interrupted: bool) -> float:
    """Requests per second over the planned duration, or, when interrupted, over the
    time it actually ran."""
    window = min(duration, elapsed) if interrupted else duration
    return count / window if window > 0 else 0.0
