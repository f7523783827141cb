"""Reports of a scenario run: JUnit XML (one test case per delivery), a JSON summary and
an HTML page (``--report run.html``: a timeline per step, latency, failures).
Every text goes through the redactor: secrets never reach a report."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..delivery.summary import percentile
from ..errors import UsageError
from ..redact import Redactor
from ..report.files import report_format, write_text
from ..report.printable import for_xml
from .result import RunResult, json_report


def _outcome_text(r: Any) -> str:
    o = r.tries[-1].outcome
    return str(o.status) if o.status is not None else f"{o.error_class}: {o.error}"


def junit_xml(run: RunResult, redactor: Redactor) -> str:
    suite = ET.Element(
        "testsuite",
        {
            "name": run.scenario.name,
            "tests": str(len(run.deliveries) + (1 if run.not_sent else 0)),
            "failures": str(run.failed),
            "errors": "0",
            "skipped": str(sum(r.dropped for r in run.deliveries) + (1 if run.not_sent else 0)),
            "time": f"{run.elapsed:.3f}",
        },
    )
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", {"name": "seed", "value": str(run.seed)})
    ET.SubElement(props, "property", {"name": "file", "value": run.scenario.file})
    for r in sorted(run.deliveries, key=lambda r: (r.planned.group, r.planned.offset)):
        case = ET.SubElement(
            suite,
            "testcase",
            {
                "classname": f"{run.scenario.name}.{r.planned.step.id}",
                "name": f"{r.planned.label} ({r.planned.step.event.name})"
                + (f" [{'; '.join(r.faults)}]" if r.faults else ""),
                "time": f"{r.tries[-1].outcome.latency:.6f}",
            },
        )
        if r.faults:
            ET.SubElement(case, "system-out").text = redactor.text("faults: " + "; ".join(r.faults))
        if r.dropped:
            ET.SubElement(case, "skipped", {"message": "dropped by fault injection"})
        elif r.failures:
            failure = ET.SubElement(
                case, "failure", {"message": redactor.text("; ".join(r.failures))}
            )
            failure.text = redactor.text(
                f"expected: {r.planned.step.expect.describe()}\nactual: {_outcome_text(r)} after "
                f"{len(r.tries)} attempt(s)\nresponse: {r.tries[-1].outcome.body}"
            )
    if run.not_sent:
        case = ET.SubElement(
            suite, "testcase", {"classname": run.scenario.name, "name": f"{run.not_sent} not sent"}
        )
        ET.SubElement(case, "skipped", {"message": "the run was interrupted"})
    for element in suite.iter():  # a receiver's body may hold what XML cannot
        if element.text:
            element.text = for_xml(element.text)
        for key, value in element.attrib.items():
            element.attrib[key] = for_xml(value)
    ET.indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, "unicode") + "\n"


MAX_DOTS = 5000  # per chart: a longer run is sampled evenly (the tables count every one)


def _outcome(r: Any) -> str:
    if r.dropped:
        return "dropped"
    if r.copy:
        return "duplicate"
    return "passed" if r.passed else "failed"


def html_report(run: RunResult, redactor: Redactor) -> str:
    """A run's page: the verdict, a timeline of deliveries per step (when each was sent,
    coloured by outcome), latency per delivery, a table per step and every failure."""
    from ..report import html as h
    from .plan import step_key

    results = sorted(run.deliveries, key=lambda r: r.tries[0].sent_at)
    t0 = results[0].tries[0].sent_at if results else 0.0
    lanes: dict[str, int] = {}
    for step in run.scenario.event_steps():
        lanes.setdefault(step_key(step), len(lanes))
    sample = results[:: max(1, math.ceil(len(results) / MAX_DOTS))]
    dots, points = [], []
    for r in sample:
        last = r.tries[-1].outcome
        t = r.tries[0].sent_at - t0
        ms = last.latency * 1000
        tip = redactor.text(
            f"{r.planned.label} {r.planned.step.event.name} at {t:.3f} s: "
            f"{_outcome_text(r)} in {ms:.1f} ms after {len(r.tries)} attempt(s)"
            + (f"; {'; '.join(r.failures)}" if r.failures else "")
            + (f" [{', '.join(r.faults)}]" if r.faults else "")
        )
        key = step_key(r.planned.step)
        dots.append((t, lanes.setdefault(key, len(lanes)), _outcome(r), tip))
        if not r.dropped:
            points.append((t, ms, _outcome(r), tip))
    sampled = (
        f"Every {math.ceil(len(results) / MAX_DOTS)}th delivery of {len(results)} is drawn."
        if len(sample) < len(results)
        else ""
    )
    steps: dict[str, list[Any]] = {}
    for r in results:
        steps.setdefault(step_key(r.planned.step), []).append(r)
    rows = []
    for key in lanes:
        rs = steps.get(key, [])
        lat = sorted(r.tries[-1].outcome.latency * 1000 for r in rs if not r.dropped)
        statuses: dict[str, int] = {}
        for r in rs:
            if not r.dropped:
                statuses[_outcome_text(r)] = statuses.get(_outcome_text(r), 0) + 1
        failed = sum(not r.passed for r in rs)
        rows.append(
            (
                key,
                ", ".join(sorted({r.planned.step.event.name for r in rs})) or "-",
                len(rs),
                h.verdict(not failed) if rs else "not sent",
                failed,
                f"{percentile(lat, 50):.1f}",
                f"{percentile(lat, 99):.1f}",
                f"{lat[-1]:.1f}" if lat else "-",
                ", ".join(f"{k}={v}" for k, v in sorted(statuses.items())),
            )
        )
    failures = [
        (r.planned.label, _outcome_text(r), redactor.text("; ".join(r.failures)))
        for r in results
        if r.failures
    ]
    overview = [
        ("result", h.verdict(run.ok)),
        ("planned", run.planned),
        ("sent", run.sent),
        ("passed", run.passed),
        ("failed", run.failed),
        ("not sent", run.not_sent),
        ("dropped (fault injection)", run.dropped),
        ("duplicates sent", run.copies),
        ("seed", run.seed),
        ("elapsed", f"{run.elapsed:.3f} s"),
        ("interrupted", "yes (Ctrl-C or SIGTERM)" if run.interrupted else "no"),
    ]
    lags = run.lags.sorted()
    overview.append(
        (
            "dispatch lag",
            f"p50 {percentile(lags, 50) * 1000:.3f} ms, p99 {percentile(lags, 99) * 1000:.3f} ms",
        )
    )
    return h.page(
        f"atscale-mock run: {run.scenario.name}",
        redactor.text(f"{run.scenario.file}, seed {run.seed}"),
        [
            h.table(overview, ("", "")),
            "<h2>Timeline</h2>",
            h.lanes_chart("Deliveries per step, by when they were sent", list(lanes), dots),
            h.scatter_chart("Latency of each delivery", points, y_title="latency (ms)"),
            f'<p class="note">{h.esc(sampled)}</p>' if sampled else "",
            "<h2>Steps</h2>",
            h.table(
                rows,
                (
                    "step",
                    "event",
                    "deliveries",
                    "result",
                    "failed",
                    "p50 ms",
                    "p99 ms",
                    "max ms",
                    "outcomes",
                ),  # fmt: skip
                numeric=(2, 4, 5, 6, 7),
            ),
            "<h2>Failures</h2>",
            h.table(failures, ("delivery", "outcome", "why"))
            if failures
            else '<p class="note">none</p>',
        ],
    )


def _report_text(run: RunResult, redactor: Redactor, path: Path | None) -> str:
    if path is not None and report_format(path) == "html":
        return html_report(run, redactor)
    return json.dumps(redactor.data(json_report(run, redactor)), indent=2) + "\n"


def write_reports(
    run: RunResult, redactor: Redactor, junit: Path | None, report: Path | None
) -> list[str]:
    """Write the reports asked for; what could not be written (a full disk), as lines."""
    problems = []
    renders: list[tuple[Path | None, Callable[[], str]]] = [
        (junit, lambda: junit_xml(run, redactor)),
        (report, lambda: _report_text(run, redactor, report)),
    ]
    for path, render in renders:
        if path is None:
            continue
        try:
            write_text(path, render())  # redacted value by value as it was built
        except UsageError as exc:
            problems.append(exc.message)
    return problems
