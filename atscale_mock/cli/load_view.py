"""What ``load`` prints: the live status line while it runs, the table at the end."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from .common import err

if TYPE_CHECKING:
    from ..load.summary import LoadSummary


class LiveLine:
    """A live status line on a terminal; a line every 5 s otherwise; nothing if quiet."""

    def __init__(self, quiet: bool, duration: float) -> None:
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.duration = duration
        self.last = -1

    def __call__(self, totals: Any, elapsed: float) -> None:
        if self.quiet:
            return
        rows = totals.series()
        if not rows:
            return
        row = rows[-1]
        second = int(elapsed)
        if not self.tty and (second == self.last or second % 5):
            return
        self.last = second
        errors = ", ".join(f"{k}={v}" for k, v in sorted(totals.errors.items())) or "0"
        line = (
            f"{elapsed:6.1f}/{self.duration:g}s  sent {totals.sent}  ok {totals.ok}  "
            f"errors {errors}  rate {row['rate']:.0f}/s  "
            f"p50 {row['latency_ms']['p50']:.2f} ms  p99 {row['latency_ms']['p99']:.2f} ms"
        )
        if self.tty:
            sys.stderr.write("\r\x1b[2K" + line)
            sys.stderr.flush()
        else:
            err(line)

    def close(self) -> None:
        if self.tty and not self.quiet:
            sys.stderr.write("\n")


def summary_table(s: LoadSummary) -> str:
    from ..load.report import QUANTILES

    target = f"target {s['target_rate']:.0f}/s" if s["target_rate"] else "closed loop"
    lines = [
        f"{'INTERRUPTED: ' if s['interrupted'] else ''}{s['sent']} sent, {s['ok']} ok "
        f"(2xx), {s['completed'] - s['ok']} failed, {s['not_sent']} not sent, "
        f"{s['late']} late in {min(s['elapsed_s'], s['duration_s']):.1f} s: "
        f"{s['rate']:.1f} req/s ({target}); seed {s['seed']}",
        f"{'ms':<22}" + "".join(f"{q:>9}" for q in QUANTILES),
    ]
    rows = (
        (("latency (Locust)", s["latency_ms"]),)
        if s["mode"] == "locust"
        else (
            ("latency (intended)", s["latency_ms"]),
            ("service time", s["service_ms"]),
            ("dispatch lag", s["dispatch_lag_ms"] or {}),
        )
    )
    for name, v in rows:
        lines.append(
            f"{name:<22}" + "".join(f"{v[q]:>9.3f}" if q in v else f"{'':>9}" for q in QUANTILES)
        )
    statuses = ", ".join(f"{k}={v}" for k, v in sorted(s["statuses"].items())) or "none"
    errors = ", ".join(f"{k}={v}" for k, v in sorted(s["errors"].items())) or "none"
    lines += [f"statuses: {statuses}", f"errors: {errors}"]
    if s.get("events"):
        lines.append(
            "by event: "
            + ", ".join(f"{e['event']} {e['requests']} ({e['share']:.1%})" for e in s["events"])
        )
    if s["behind"]:
        lines.append(s["behind"])
    if s.get("faults"):
        lines.append(
            "faults injected: " + ", ".join(f"{k}={v}" for k, v in sorted(s["faults"].items()))
        )
    for t in s.get("thresholds", []):
        lines.append(
            f"{'PASS' if t['passed'] else 'FAIL'} {t['threshold']} "
            f"(actual {t['actual']:.4g}, limit {t['limit']:.4g})"
        )
    return "\n".join(lines)
