"""Reports of a scenario run: JUnit XML (one test case per delivery) and a JSON summary.
Every text goes through the redactor: secrets never reach a report."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from ..redact import Redactor
from .summary import percentile

if TYPE_CHECKING:
    from ..scenario.runner import RunResult


def _outcome_text(r: Any) -> str:
    o = r.attempts[-1].outcome
    return str(o.status) if o.status is not None else f"{o.error_class}: {o.error}"


def junit_xml(run: RunResult, redactor: Redactor) -> str:
    suite = ET.Element(
        "testsuite",
        {
            "name": run.scenario.name,
            "tests": str(len(run.results) + (1 if run.not_sent else 0)),
            "failures": str(run.failed),
            "errors": "0",
            "skipped": str(sum(r.dropped for r in run.results) + (1 if run.not_sent else 0)),
            "time": f"{run.elapsed:.3f}",
        },
    )
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", {"name": "seed", "value": str(run.seed)})
    ET.SubElement(props, "property", {"name": "file", "value": run.scenario.file})
    for r in sorted(run.results, key=lambda r: (r.planned.group, r.planned.offset)):
        case = ET.SubElement(
            suite,
            "testcase",
            {
                "classname": f"{run.scenario.name}.{r.planned.step.id}",
                "name": f"{r.planned.label} ({r.planned.step.event.name})"
                + (f" [{'; '.join(r.faults)}]" if r.faults else ""),
                "time": f"{r.attempts[-1].outcome.latency:.6f}",
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
                f"{len(r.attempts)} attempt(s)\nresponse: {r.attempts[-1].outcome.body}"
            )
    if run.not_sent:
        case = ET.SubElement(
            suite, "testcase", {"classname": run.scenario.name, "name": f"{run.not_sent} not sent"}
        )
        ET.SubElement(case, "skipped", {"message": "the run was interrupted"})
    ET.indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, "unicode") + "\n"


def json_report(run: RunResult, redactor: Redactor) -> dict[str, Any]:
    lags = run.lags.sorted()
    return {
        **run.summary.as_dict(),  # first: the run's own counts below win where names meet
        "scenario": run.scenario.name,
        "file": run.scenario.file,
        "seed": run.seed,
        "interrupted": run.interrupted,
        "elapsed_seconds": round(run.elapsed, 3),
        "planned": run.planned,
        "sent": run.sent,
        "not_sent": run.not_sent,
        "passed": run.passed,
        "failed": run.failed,
        "dropped_planned": run.dropped,
        "duplicates_sent": run.copies,
        "dispatch_lag_ms": {f"p{q}": round(percentile(lags, q) * 1000, 3) for q in (50, 99)},
        "deliveries": [
            {
                "label": r.planned.label,
                "step": r.planned.step.id,
                "index": r.planned.index,
                "event": r.planned.step.event.name,
                "planned_offset": round(r.planned.offset, 6),
                "status": r.attempts[-1].outcome.status,
                "error_class": r.attempts[-1].outcome.error_class,
                "attempts": len(r.attempts),
                "latency_ms": round(r.attempts[-1].outcome.latency * 1000, 3),
                "passed": r.passed,
                "failures": [redactor.text(f) for f in r.failures],
                "faults": list(r.faults),
                "dropped": r.dropped,
                "duplicate": r.copy,
            }
            for r in sorted(run.results, key=lambda r: (r.planned.group, r.planned.offset))
        ],
    }


def write_text(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from exc


def write_reports(
    run: RunResult, redactor: Redactor, junit: Path | None, report: Path | None
) -> list[str]:
    """Write the reports asked for; what could not be written (a full disk), as lines."""
    problems = []
    renders: list[tuple[Path | None, Callable[[], str]]] = [
        (junit, lambda: junit_xml(run, redactor)),
        (report, lambda: json.dumps(redactor.data(json_report(run, redactor)), indent=2) + "\n"),
    ]
    for path, render in renders:
        if path is None:
            continue
        try:
            write_text(path, render())  # redacted value by value as it was built
        except UsageError as exc:
            problems.append(exc.message)
    return problems
