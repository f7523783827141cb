"""The one per-delivery record: what ``send``, ``replay`` and ``check`` give for each
delivery (``run``'s :class:`~atscale_mock.scenario.result.DeliveryResult` reads the
same names): its event, label, last status or error, latency and attempts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .retry import Attempt


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """One delivery as it ended: its last attempt decides."""

    event: str
    label: str
    status: int | None
    latency: float  # seconds, of the last attempt
    attempts: int
    error_class: str | None = None
    error: str | None = None
    faults: tuple[str, ...] = ()
    response_body: str = ""
    payload: Any = None
    expected: bool | None = None  # met an explicit expectation (None: none was given)

    @property
    def ok(self) -> bool:
        """Got a 2xx."""
        return self.status is not None and 200 <= self.status < 300

    @property
    def passed(self) -> bool:
        """Met its expectation: the one given (``expect_status``), else a 2xx."""
        return self.ok if self.expected is None else self.expected

    @classmethod
    def of(cls, attempts: list[Attempt], expected: bool | None = None) -> DeliveryRecord:
        last = attempts[-1]
        o = last.outcome
        return cls(
            last.request.event,
            last.label,
            o.status,
            o.latency,
            sum(a.attempt > 0 for a in attempts),
            o.error_class,
            o.error,
            last.request.faults,
            o.body,
            last.payload,
            expected,
        )
