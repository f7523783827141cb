"""Typed results of the library: frozen records with ``ok`` and ``to_json()`` (the keys
the CLI's ``--json`` prints)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..delivery.dispatch import Timing
from ..delivery.record import DeliveryRecord as DeliveryRecord  # re-exported
from ..delivery.summary import DeliverySummary


@dataclass(frozen=True, slots=True)
class ScheduleFigures:
    """How well a rate was held: deliveries started more than 10 ms late, the p99 of
    that lag, and how often every connection slot was busy when one fell due."""

    late: int = 0
    lag_p99_ms: float = 0.0
    waited_for_slot: int = 0

    @classmethod
    def of(cls, timing: Timing) -> ScheduleFigures:
        from ..delivery.summary import percentile

        p99 = percentile(timing.lags.sorted(), 99) * 1000
        return cls(timing.late, round(p99, 3), timing.waited_for_slot)

    def behind_text(self, total: int) -> str | None:
        """A line for the user when the schedule was not held, else None."""
        if not self.late:
            return None
        side = (
            "every connection was busy, so the receiver answered too slowly"
            if self.waited_for_slot
            else "connections were free, so this machine could not send on time"
        )
        return (
            f"behind schedule: {self.late} of {total} deliveries started more than 10 ms "
            f"late (p99 lag {self.lag_p99_ms:.1f} ms); {side}"
        )


@dataclass(frozen=True, slots=True)
class SendResult:
    """What ``send``, ``demo`` and ``replay`` did."""

    seed: int | None
    url: str  # redacted
    summary: DeliverySummary  # deliveries, ok, failed, attempts, dropped, statuses, ...
    deliveries: tuple[DeliveryRecord, ...] = ()
    interrupted: bool = False
    schedule: ScheduleFigures = field(default_factory=ScheduleFigures)
    extra: dict[str, Any] = field(default_factory=dict)  # event name(s), file, ...

    @property
    def ok(self) -> bool:
        """Every delivery met its expectation (by default: got a 2xx) and nothing was
        interrupted."""
        return not self.interrupted and self.summary["failed"] == 0

    @property
    def failed(self) -> int:
        return self.summary["failed"]

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"seed": self.seed, **self.extra, **self.summary}
        if self.schedule.late or self.schedule.lag_p99_ms:
            data["schedule"] = {
                "late": self.schedule.late,
                "lag_p99_ms": self.schedule.lag_p99_ms,
                "waited_for_slot": self.schedule.waited_for_slot,
            }
        if self.interrupted:
            data["interrupted"] = True
        return data
