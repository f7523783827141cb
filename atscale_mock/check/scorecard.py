"""What a check found: one result per named check, one finding per fuzzing failure,
and the scorecard that holds them, as text, JSON, JUnit XML and an HTML page. The four
renderings are made from the same records, so their counts agree.

One rule for a "should" check that fails, in every rendering: its verdict is ``warn``
(text WARN, JSON ``"verdict": "warn"``, counted as ``failed_should``, HTML a plain
badge, JUnit a ``<skipped>`` whose message says warning and a ``verdict`` property of
``warn``), and it never makes the card fail: the exit code, ``ok`` and a CI reading
the JUnit file agree. A "must" check that fails is ``fail`` everywhere."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ..delivery.record import DeliveryRecord
from ..report.printable import for_terminal, for_xml

if TYPE_CHECKING:
    from ..delivery.dispatch import Prepared
    from .probes import Context

Level = Literal["must", "should"]
Verdict = Literal["pass", "fail", "warn", "skip"]


@dataclass(frozen=True, slots=True)
class ProbeResult(DeliveryRecord):
    """One request a check sent and what came back: a delivery record like send's (a
    check sends each probe once, so ``attempts`` is 1, or 0 when it was not sent), whose
    ``expected`` is whether the answer met the check, ``error`` the class of failure
    when no answer came, ``response_body`` the start of the answer (1 KiB, one line,
    escaped)."""

    @property
    def response(self) -> str:
        return self.response_body

    def outcome(self) -> str:
        return str(self.status) if self.status is not None else (self.error or "no answer")

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "event": self.event,
            "status": self.status,
            "latency_ms": round(self.latency * 1000, 3),
            "passed": self.passed,
            "error": self.error,
            "response": self.response,
        }


@dataclass(frozen=True, slots=True)
class Check:
    """One check of the battery: its name, level, what it sends, what it expects of
    the receiver (statuses) and why, and how it builds its probes."""

    name: str
    level: Level
    sends: str
    expects: tuple[str, ...]
    why: str
    build: Callable[[Context], list[Prepared]]
    needs_signer: str = ""  # "" or which signing it needs ("any", "timestamp")
    concurrent: bool = False


@dataclass(frozen=True, slots=True)
class CheckResult:
    """A check's verdict: the check (its name, level, what it sends and why), what it
    expected after any --expect override, and its probes' results."""

    check: Check
    verdict: Verdict
    expects: str  # what it expects, after any --expect override
    probes: tuple[ProbeResult, ...] = ()
    note: str = ""  # why it was skipped, or a figure (the p99 of a burst)
    reproduce: str = ""  # a failed or warned check: the command that runs it again

    @property
    def name(self) -> str:
        return self.check.name

    @property
    def level(self) -> Level:
        return self.check.level

    @property
    def sends(self) -> str:
        """What the check sends."""
        return self.check.sends

    @property
    def why(self) -> str:
        """Why a receiver should behave so."""
        return self.check.why

    @property
    def failures(self) -> list[ProbeResult]:
        return [p for p in self.probes if not p.passed]

    def detail(self) -> str:
        """One line on what went wrong (or the note)."""
        bad = self.failures
        if self.verdict in ("fail", "warn") and bad:
            shown = "; ".join(f"{p.label}: got {p.outcome()}" for p in bad[:3])
            more = f" (+{len(bad) - 3} more)" if len(bad) > 3 else ""
            return f"expected {self.expects}; {shown}{more}" + (
                f"; {self.note}" if self.note else ""
            )
        return self.note

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "level": self.level,
            "verdict": self.verdict,
            "sends": self.sends,
            "expects": self.expects,
            "why": self.why,
            "note": self.note,
            "reproduce": self.reproduce,
            "probes": [p.to_json() for p in self.probes],
        }


@dataclass(frozen=True, slots=True)
class Finding:
    """A schema-valid payload the receiver failed on (5xx, timeout, reset), shrunk."""

    event: str
    target: str  # the field that was fuzzed, "+extra" or "*" (the whole payload)
    outcome: str  # "500", "timeout", "reset" ...
    payload: Any
    seed: int
    reproduce: str  # the command that sends it again
    saved: str | None = None  # the file the reproducer reads, when there is one
    response: str = ""  # the start of the receiver's answer (1 KiB, one line, escaped)
    in_schema: bool = True  # False: the payload is outside the event's schema
    also: tuple[str, ...] = ()  # other "event field" targets the same value broke

    def title(self) -> str:
        where = {"*": "whole payload", "+extra": "extra fields"}.get(self.target, self.target)
        if not self.in_schema:
            where += ", outside the schema"
        more = f" (and {len(self.also)} more: {', '.join(self.also)})" if self.also else ""
        return f"{self.event} [{where}] -> {self.outcome}{more}"

    def to_json(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "target": self.target,
            "outcome": self.outcome,
            "payload": self.payload,
            "seed": self.seed,
            "reproduce": self.reproduce,
            "saved": self.saved,
            "response": self.response,
            "in_schema": self.in_schema,
            "also": list(self.also),
        }


@dataclass(frozen=True, slots=True)
class FuzzFigures:
    examples: int  # payloads generated and sent (shrinking not counted)
    shrink_sends: int  # further sends while shrinking findings
    seconds: float
    seed: int
    unfuzzed: tuple[str, ...] = ()  # events whose default payload already failed
    per_target: tuple[tuple[str, int], ...] = ()  # ("event field", payloads sent)

    def spread(self) -> str:
        """How the payloads were spread over the targets, in a few words."""
        if not self.per_target:
            return ""
        counts = [n for _, n in self.per_target]
        empty = [t for t, n in self.per_target if n == 0]
        text = f"{len(counts)} targets, {min(counts)}-{max(counts)} payloads each"
        return text + (f"; none sent to: {', '.join(empty)}" if empty else "")

    def to_json(self) -> dict[str, Any]:
        return {
            "unfuzzed": list(self.unfuzzed),
            "targets": dict(self.per_target),
            "examples": self.examples,
            "shrink_sends": self.shrink_sends,
            "seconds": round(self.seconds, 3),
            "seed": self.seed,
        }


@dataclass(frozen=True, slots=True)
class Scorecard:
    """Every check's result and every finding. ``ok``: no "must" check failed and the
    fuzzer found nothing (a "should" that fails is reported, not fatal)."""

    target: str
    checks: tuple[CheckResult, ...]
    findings: tuple[Finding, ...] = ()
    fuzz: FuzzFigures | None = None
    seconds: float = 0.0
    seed: int = 0
    interrupted: bool = False
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        counted = {
            "checks": len(self.checks),
            "passed": sum(c.verdict == "pass" for c in self.checks),
            "failed_must": sum(c.verdict == "fail" and c.level == "must" for c in self.checks),
            "failed_should": sum(c.verdict == "warn" for c in self.checks),
            "skipped": sum(c.verdict == "skip" for c in self.checks),
            "findings": len(self.findings),
        }
        object.__setattr__(self, "counts", counted)

    @property
    def ok(self) -> bool:
        return (
            not self.interrupted
            and self.counts["failed_must"] == 0
            and self.counts["findings"] == 0
        )

    def result(self, name: str) -> CheckResult:
        """The result of the check called ``name`` (KeyError if it did not run)."""
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "ok": self.ok,
            "interrupted": self.interrupted,
            "seed": self.seed,
            "seconds": round(self.seconds, 3),
            "counts": dict(self.counts),
            "checks": [c.to_json() for c in self.checks],
            "findings": [f.to_json() for f in self.findings],
            "fuzz": self.fuzz.to_json() if self.fuzz else None,
        }

    def summary_line(self) -> str:
        c = self.counts
        parts = [
            f"{c['passed']} passed",
            f"{c['failed_must']} must failed",
            f"{c['failed_should']} should failed",
            f"{c['skipped']} skipped",
        ]
        if self.fuzz is not None:
            parts.append(f"{c['findings']} finding(s) in {self.fuzz.examples} fuzzed payloads")
        head = "interrupted: " if self.interrupted else ""
        verdict = "PASS" if self.ok else "FAIL"
        return f"{head}{verdict}: {c['checks']} checks: " + ", ".join(parts)

    def text(self) -> str:
        """The scorecard for a terminal: one line per check, then the findings."""
        width = max((len(c.name) for c in self.checks), default=10)
        lines = [f"check of {self.target} (seed {self.seed})"]
        for c in self.checks:
            detail = c.detail()
            lines.append(
                f"  {c.verdict.upper()}  {c.name:<{width}}  {c.level:<6}  {c.sends}"
                + (f"\n        {detail}" if detail else "")
            )
            for probe in c.failures[:3] if c.verdict in ("fail", "warn") else ():
                if probe.response:
                    lines.append(f"        answer to {probe.label}: {probe.response[:200]}")
            if c.reproduce:
                lines.append(f"        reproduce: {c.reproduce}")
        for i, f in enumerate(self.findings, 1):
            lines.append(f"  FINDING {i}: {f.title()}")
            if f.response:
                lines.append(f"    answer: {f.response[:200]}")
            lines.append(f"    reproduce: {f.reproduce}")
        if self.fuzz is not None and self.fuzz.spread():
            lines.append(f"  fuzzed {self.fuzz.spread()}")
        if self._unfuzzed_note():
            lines.append("  " + self._unfuzzed_note())
        lines.append(self.summary_line())
        return for_terminal("\n".join(lines))

    def junit(self) -> str:
        """A JUnit XML file: one testcase per check and per finding."""
        suite = ET.Element(
            "testsuite",
            {
                "name": "atscale-mock check",
                "tests": str(len(self.checks) + len(self.findings)),
                "failures": str(self.counts["failed_must"] + self.counts["findings"]),
                "errors": "0",
                "skipped": str(self.counts["skipped"] + self.counts["failed_should"]),
                "time": f"{self.seconds:.3f}",
            },
        )
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", {"name": "seed", "value": str(self.seed)})
        ET.SubElement(props, "property", {"name": "target", "value": for_xml(self.target)})
        for c in self.checks:
            case = ET.SubElement(
                suite, "testcase", {"classname": f"check.{c.level}", "name": c.name}
            )
            case_props = ET.SubElement(case, "properties")
            ET.SubElement(case_props, "property", {"name": "verdict", "value": c.verdict})
            text = for_xml(
                f"sends: {c.sends}\nexpects: {c.expects}\nwhy: {c.why}\n"
                + "\n".join(
                    f"{p.label}: {p.outcome()}"
                    + (f"\n  answer: {p.response}" if p.response else "")
                    for p in c.failures
                )
                + (f"\nreproduce: {c.reproduce}" if c.reproduce else "")
            )
            if c.verdict == "skip":
                ET.SubElement(case, "skipped", {"message": for_xml(c.note)})
            elif c.verdict == "warn":  # a "should": reported, never a CI failure
                warned = ET.SubElement(
                    case, "skipped", {"message": for_xml("warning (should): " + c.detail())}
                )
                warned.text = text
            elif c.verdict == "fail":
                failure = ET.SubElement(case, "failure", {"message": for_xml(c.detail())})
                failure.text = text
        for i, f in enumerate(self.findings, 1):
            case = ET.SubElement(
                suite, "testcase", {"classname": "check.fuzz", "name": f"finding {i}: {f.title()}"}
            )
            failure = ET.SubElement(case, "failure", {"message": for_xml(f.title())})
            failure.text = for_xml(
                f"seed: {f.seed}\nreproduce: {f.reproduce}"
                + (f"\nanswer: {f.response}" if f.response else "")
            )
        ET.indent(suite)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, "unicode") + "\n"

    def _unfuzzed_note(self) -> str:
        if self.fuzz is None or not self.fuzz.unfuzzed:
            return ""
        return (
            "not fuzzed, their default payload already fails (see the events check): "
            + ", ".join(self.fuzz.unfuzzed)
        )

    def _unfuzzed_html(self) -> str:
        from ..report.html import esc

        note = self._unfuzzed_note()
        return f"<p>{esc(note)}</p>" if note else ""

    def html(self) -> str:
        """A self-contained HTML page: the counts, a table of checks, the findings."""
        from ..report import html

        c = self.counts
        counts = html.table(
            [
                [
                    c["checks"],
                    c["passed"],
                    c["failed_must"],
                    c["failed_should"],
                    c["skipped"],
                    c["findings"],
                ]
            ],
            ["checks", "passed", "must failed", "should failed", "skipped", "findings"],
            numeric=range(6),
        ).replace("<table", '<table id="counts"', 1)
        rows = [
            [html.Raw(f'<span class="v-{x.verdict} {_badge(x)}">{x.verdict}</span>'), x.name]
            + [x.level]
            + [x.sends, x.expects, x.detail() or "-", _answers(x) or "-"]
            for x in self.checks
        ]
        checks = html.table(
            rows, ["verdict", "check", "level", "sends", "expects", "detail", "answer, reproduce"]
        ).replace("<table", '<table id="checks"', 1)
        found = (
            html.table(
                [[f.title(), f.seed, f.response or "-", f.reproduce] for f in self.findings],
                ["finding", "seed", "answer", "reproduce"],
            ).replace("<table", '<table id="findings"', 1)
            if self.findings
            else '<p id="findings">no findings</p>'
        )
        fuzz = (
            f"<p>fuzzing: {self.fuzz.examples} payloads ({html.esc(self.fuzz.spread())}), "
            f"{self.fuzz.shrink_sends} more while shrinking, {self.fuzz.seconds:.1f} s, "
            f"seed {self.fuzz.seed}</p>" + self._unfuzzed_html()
            if self.fuzz
            else "<p>fuzzing: not run (use --fuzz N)</p>"
        )
        return html.page(
            "atscale-mock check",
            f"{self.target}: {self.summary_line()}",
            [
                "<h2>Verdict</h2><p>" + html.verdict(self.ok).html + "</p>" + counts,
                "<h2>Checks</h2>" + checks,
                "<h2>Fuzzing</h2>" + fuzz + found,
            ],
        )


def _badge(result: CheckResult) -> str:
    """The page's colours: a failed "must" red, a pass green, a warning or skip plain."""
    return {"pass": "pass", "fail": "fail"}.get(result.verdict, "")


def _answers(result: CheckResult) -> str:
    """What the receiver answered to the failed probes, and how to run the check again."""
    lines = [f"{p.label}: {p.response or p.outcome()}" for p in result.failures[:3]]
    return "\n".join(lines + ([f"reproduce: {result.reproduce}"] if result.reproduce else []))
