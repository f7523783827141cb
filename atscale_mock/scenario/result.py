"""What a run did: one ``DeliveryResult`` per planned delivery (and per duplicate), and
the ``RunResult`` that counts them as they settle, with its JSON form (``run --json``,
``run --report x.json``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..delivery.retry import Attempt
from ..delivery.summary import DeliverySummary, Reservoir, Summary, percentile
from ..redact import Redactor
from .model import Scenario
from .plan import Planned


@dataclass
class DeliveryResult:
    planned: Planned
    tries: list[Attempt]  # every attempt, in order (``attempts`` is how many, as in send)
    failures: list[str]  # unmet expectations, empty when passed
    lag: float  # seconds between the planned and the actual first send
    dropped: bool = False  # fault injection generated it and never sent it
    copy: bool = False  # a duplicate of a planned delivery (reported, not checked)

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def faults(self) -> tuple[str, ...]:
        return self.tries[-1].request.faults

    # what SendResult's DeliveryRecord says, under the same names and types
    @property
    def attempts(self) -> int:
        """How many attempts the delivery took (its retries included)."""
        return len(self.tries)

    @property
    def event(self) -> str:
        return self.planned.step.event.name

    @property
    def label(self) -> str:
        return self.planned.label

    @property
    def status(self) -> int | None:
        return self.tries[-1].outcome.status if self.tries else None

    @property
    def error_class(self) -> str | None:
        return self.tries[-1].outcome.error_class if self.tries else None

    @property
    def error(self) -> str | None:
        return self.tries[-1].outcome.error if self.tries else None

    @property
    def latency(self) -> float:
        return self.tries[-1].outcome.latency if self.tries else 0.0


@dataclass
class RunResult:
    """What a run did. Its counts are kept as deliveries settle; the per-delivery
    ``deliveries`` (for the JSON, JUnit and HTML reports) only while ``keep`` is true, so
    a run of millions of deliveries that asks for no report holds no list of them."""

    scenario: Scenario
    seed: int
    planned: int
    deliveries: list[DeliveryResult] = field(default_factory=list)
    totals: Summary = field(default_factory=Summary)  # kept as deliveries settle
    interrupted: bool = False
    elapsed: float = 0.0
    keep: bool = True
    lags: Reservoir = field(default_factory=Reservoir)  # dispatch lags of planned sends (s)
    sent: int = 0  # planned deliveries sent (each once, however many attempts)
    passed: int = 0  # ... that met their expectations
    failed: int = 0  # ... that did not
    dropped: int = 0  # planned deliveries generated and never sent (fault injection)
    copies: int = 0  # duplicates sent by fault injection
    settled: int = 0  # planned deliveries that settled one way or another

    def add(self, r: DeliveryResult) -> None:
        if self.keep:
            self.deliveries.append(r)
        if not r.passed:
            self.failed += 1
        if r.copy:
            self.copies += not r.dropped
            return
        self.settled += 1
        self.lags.append(r.lag)
        if r.dropped:
            self.dropped += 1
        else:
            self.sent += 1
            self.passed += r.passed

    @property
    def ok(self) -> bool:
        """Every planned delivery was sent and met its expectations."""
        return not self.interrupted and self.failed == 0 and self.not_sent == 0

    def to_json(self, deliveries: bool = True) -> dict[str, Any]:
        """The JSON report (``run --report``); the CLI's ``--json`` is it without the
        per-delivery list. Secrets of the scenario are redacted."""
        data = json_report(self, Redactor(self.scenario.secrets))
        if not deliveries:
            data.pop("results")
        return data

    @property
    def summary(self) -> DeliverySummary:
        """What the deliveries came to, duplicates included (the same record as
        ``SendResult.summary``)."""
        return self.totals.as_dict()

    @property
    def results(self) -> list[DeliveryResult]:
        """The same list as ``deliveries`` (its name before 0.x; ``SendResult`` and
        ``LoadResult`` say ``deliveries`` too)."""
        return self.deliveries

    @property
    def not_sent(self) -> int:
        """Planned deliveries never attempted (an interrupted run); duplicates and drops
        made by fault injection do not count here."""
        return self.planned - self.settled


def json_report(run: RunResult, redactor: Redactor) -> dict[str, Any]:
    lags = run.lags.sorted()
    return {
        **run.summary,  # the counts send's JSON has, under the same names
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
        "dispatch_lag_ms": {f"p{q}": round(percentile(lags, q) * 1000, 3) for q in (50, 99)},
        "results": [  # one record per delivery; "deliveries" is their count, as in send
            {
                "label": r.planned.label,
                "step": r.planned.step.id,
                "index": r.planned.index,
                "event": r.planned.step.event.name,
                "planned_offset": round(r.planned.offset, 6),
                "status": r.tries[-1].outcome.status,
                "error_class": r.tries[-1].outcome.error_class,
                "attempts": len(r.tries),
                "latency_ms": round(r.tries[-1].outcome.latency * 1000, 3),
                "passed": r.passed,
                "failures": [redactor.text(f) for f in r.failures],
                "faults": list(r.faults),
                "dropped": r.dropped,
                "duplicate": r.copy,
            }
            for r in sorted(run.deliveries, key=lambda r: (r.planned.group, r.planned.offset))
        ],
    }
