"""Pass/fail thresholds on a load run's summary: ``p95<50ms``, ``p99<250ms``, ``error_rate<1%``,
``rate>=0.99*target``, ``service_p99<100ms``, ``not_sent==0``."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypedDict

from ..errors import UsageError


class ThresholdResult(TypedDict):
    threshold: str  # as given, e.g. "p99<50ms"
    passed: bool
    actual: float
    limit: float


_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "<": operator.lt,
    ">": operator.gt,
}
_EXPR = re.compile(r"^\s*([a-z0-9_.]+)\s*(<=|>=|==|<|>)\s*(.+?)\s*$")
_VALUE = re.compile(r"^(\d+(?:\.\d+)?)\s*(\*\s*target|%|ms|s|us)?$")
LATENCY = ("p50", "p90", "p95", "p99", "p99.9", "max")
METRICS = (*LATENCY, *(f"service_{p}" for p in LATENCY), "error_rate", "rate", "not_sent", "late")


@dataclass(frozen=True, slots=True)
class Threshold:
    text: str
    metric: str
    op: str
    value: float  # in the metric's unit: ms, a fraction, req/s or a count
    relative: bool = False  # value is a multiple of the target rate

    def limit(self, target: float | None) -> float:
        if self.relative:
            if target is None:
                raise UsageError(
                    f"threshold {self.text!r}: 'target' needs a target rate",
                    "give a rate: a closed loop (as fast as answered) has none",
                )
            return self.value * target
        return self.value

    def check(self, metrics: dict[str, float], target: float | None) -> tuple[bool, float, float]:
        actual, limit = metrics[self.metric], self.limit(target)
        return _OPS[self.op](actual, limit), actual, limit


def parse_threshold(text: str) -> Threshold:
    match = _EXPR.match(text)
    if not match or match.group(1) not in METRICS:
        raise UsageError(
            f"bad threshold {text!r}",
            "METRIC OP VALUE, e.g. p99<250ms, error_rate<1%, rate>=0.99*target; "
            "metrics: " + ", ".join(METRICS),
        )
    metric, op, raw = match.groups()
    value = _VALUE.match(raw.replace(" ", ""))
    if not value:
        raise UsageError(
            f"bad threshold value {raw!r} in {text!r}",
            "a number with ms/s/us for latencies, % for error_rate, *target for rate",
        )
    number, unit = float(value.group(1)), (value.group(2) or "").replace(" ", "")
    latency = metric in LATENCY or metric.startswith("service_")
    if latency:
        number = {"s": number * 1000, "us": number / 1000}.get(unit, number)
        if unit in ("%", "*target"):
            raise UsageError(f"threshold {text!r}: a latency takes ms, s or us")
    elif unit == "%":
        number /= 100
    elif unit in ("ms", "s", "us"):
        raise UsageError(f"threshold {text!r}: {metric} is not a latency")
    return Threshold(text, metric, op, number, unit == "*target")


def evaluate(
    thresholds: list[Threshold], metrics: dict[str, float], target: float | None
) -> list[ThresholdResult]:
    out: list[ThresholdResult] = []
    for t in thresholds:
        passed, actual, limit = t.check(metrics, target)
        out.append({"threshold": t.text, "passed": passed, "actual": actual, "limit": limit})
    return out
