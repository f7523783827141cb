"""``GET /_mock/report.html``: the journal as a report page, drawn by the same renderer as
``load`` and ``run`` (:mod:`atscale_mock.report.html`): attempts over time by status, a
lane per event with a dot per attempt, latency of each attempt, a table per event."""

from __future__ import annotations

import math
from typing import Any

from ..delivery.summary import percentile
from ..report import html as h

BUCKETS = (0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 300, 600, 1800, 3600, 21600, 86400)
MAX_BARS = 60
MAX_DOTS = 5000


def outcome(row: dict[str, Any]) -> str:
    """A row's status class (``2xx``...), or ``failed`` when no status came back."""
    status = row.get("status")
    return f"{str(status)[0]}xx" if status else "failed"


def journal_report(rows: list[dict[str, Any]], limit: int, total: int) -> str:
    """The page for ``rows`` (journal attempts, oldest first; ``total`` in the journal)."""
    if not rows:
        return h.page(
            "atscale-mock serve: deliveries",
            "the journal is empty",
            ['<p class="note">Nothing has been delivered yet: add a webhook and trigger an '
             "event (POST /_mock/webhooks, POST /_mock/events/{event}).</p>"],
        )  # fmt: skip
    t0 = rows[0]["time"]
    span = max(rows[-1]["time"] - t0, 0.001)
    width = next((b for b in BUCKETS if span / b <= MAX_BARS), BUCKETS[-1])
    buckets: dict[int, dict[str, int]] = {}
    for r in rows:
        key = outcome(r) if not r.get("status") else str(r["status"])
        bucket = buckets.setdefault(int((r["time"] - t0) // width), {})
        bucket[key] = bucket.get(key, 0) + 1
    bars = [(k * width, float(width), counts) for k, counts in sorted(buckets.items())]
    events = sorted({r["event"] for r in rows})
    lane = {e: i for i, e in enumerate(events)}
    step = max(1, math.ceil(len(rows) / MAX_DOTS))
    dots, points = [], []
    for r in rows[::step]:
        t = r["time"] - t0
        got = r["status"] if r.get("status") else f"{r.get('error_class')}: {r.get('error')}"
        tip = (
            f"{r['event']} #{r['seq']} attempt {r['attempt']} to {r['url']}: {got} in "
            f"{r['latency_ms'] or 0:.1f} ms at {r['time_iso']}"
        )
        dots.append((t, lane[r["event"]], outcome(r), tip))
        points.append((t, float(r["latency_ms"] or 0.0), outcome(r), tip))
    table = []
    for e in events:
        mine = [r for r in rows if r["event"] == e]
        lat = sorted(float(r["latency_ms"] or 0.0) for r in mine)
        ok = sum(1 for r in mine if outcome(r) == "2xx")
        table.append(
            (
                e,
                len(mine),
                ok,
                len(mine) - ok,
                h.verdict(ok == len(mine)),
                f"{percentile(lat, 50):.1f}",
                f"{percentile(lat, 99):.1f}",
            )
        )
    more = f" (?limit= shows more, up to {limit})" if total > len(rows) else ""
    shown = f"the last {len(rows)} of {total}" if total > len(rows) else f"{total}"
    sampled = f"; every {step}th attempt drawn" if step > 1 else ""
    return h.page(
        "atscale-mock serve: deliveries",
        f"{shown} attempts in the journal{more}, from {rows[0]['time_iso']} to "
        f"{rows[-1]['time_iso']}{sampled}",
        [
            h.stacked_bars(
                "Attempts over time, by status or error",
                bars,
                y_title=f"attempts per {width:g} s",
            ),
            h.lanes_chart("Attempts per event, by when they were made", events, dots),
            h.scatter_chart("Latency of each attempt", points, y_title="latency (ms)"),
            "<h2>Events</h2>",
            h.table(
                table,
                ("event", "attempts", "2xx", "not 2xx", "result", "p50 ms", "p99 ms"),
                numeric=(1, 2, 3, 5, 6),
            ),
        ],
    )
