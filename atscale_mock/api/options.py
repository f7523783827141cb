"""Option records of the library: small, frozen, validated when made. One record means
the same thing in every function (and every command) that takes it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..delivery.faults import Faults
from ..delivery.retry import MAX_RETRIES, MAX_WAIT, Retry
from ..delivery.signing import Signing
from ..errors import UsageError
from ..events.make import resolve_clock, resolve_seed
from ..scenario.units import parse_rate_option

if TYPE_CHECKING:
    from ..scenario.model import Expect


def as_retry(value: int | Retry | None) -> Retry:
    if value is None:
        return Retry()
    return value if isinstance(value, Retry) else Retry(value)


__all__ = [
    "MAX_RETRIES",
    "MAX_WAIT",
    "Faults",
    "Retry",
    "Signing",
    "as_expect",
    "as_retry",
    "resolve_clock",
    "resolve_seed",
]


def as_expect(status: str | list[str] | tuple[str, ...] | None) -> Expect | None:
    """``"401"``, ``"4xx"``, ``"401,403"`` (or a list of those) as an expectation; None
    keeps the default (a 2xx passes). Imports the scenario model only when asked."""
    from ..scenario.model import as_expect as parse

    return parse(status)


def as_rate(rate: float | str | None) -> float | None:
    """The CLI's spellings (``20/s``, ``600/m``, ``"2000"``) or a number of events a second."""
    if rate is None:
        return None
    try:
        per_second = parse_rate_option(rate)
    except ValueError as exc:
        raise UsageError(f"rate: {exc}, got {rate!r}", field="rate") from None
    if not per_second < float("inf"):
        raise UsageError(f"rate must be a finite number, got {rate!r}", field="rate")
    return per_second
