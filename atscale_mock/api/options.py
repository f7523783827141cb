"""Option records of the library: small, frozen, validated when made. One record means
the same thing in every function (and every command) that takes it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING

from ..aliases import Transport
from ..config import DEFAULT_TIMEOUT
from ..delivery.dispatch import DEFAULT_MAX_IN_FLIGHT
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


#: headers as a mapping or (name, value) pairs
Headers = Mapping[str, str] | Iterable[tuple[str, str]] | None


def normalise_headers(headers: Headers) -> tuple[tuple[str, str], ...]:
    if headers is None:
        return ()
    items = headers.items() if isinstance(headers, Mapping) else headers
    return tuple((str(k), str(v)) for k, v in items)


@dataclass(frozen=True, slots=True)
class Delivery:
    """How deliveries go out: one record for every way in (``send``, ``run``,
    ``replay``, ``adeliver``, ``check``, ``load``). ``headers`` are added to every
    request (a mapping or pairs), ``timeout`` bounds each attempt, ``verify`` is TLS
    verification (or a CA bundle's path), ``sign`` signs, ``retry`` retries, ``faults``
    misbehaves on purpose, at most ``max_in_flight`` deliveries are in flight, and
    ``transport`` is a Sender or an httpx transport of the caller's. A function's
    keywords of the same names are shortcuts merged into it (:func:`delivery_of`); a
    field a function cannot honour (``faults`` for ``check``) is refused by name."""

    headers: tuple[tuple[str, str], ...] = ()
    timeout: float = DEFAULT_TIMEOUT
    verify: bool | str = True
    sign: Signing | None = None
    retry: Retry = Retry(0)
    faults: Faults = Faults()
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT
    transport: Transport | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "headers", normalise_headers(self.headers))
        if isinstance(self.timeout, bool) or not 0 < self.timeout < 1e6:
            raise UsageError(
                f"timeout must be a positive number of seconds, got {self.timeout}",
                field="timeout",
            )
        if isinstance(self.max_in_flight, bool) or self.max_in_flight < 1:
            raise UsageError(
                f"max_in_flight must be at least 1, got {self.max_in_flight}",
                field="max_in_flight",
            )

    def __repr__(self) -> str:  # header values may be secrets: their names only
        shown = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "headers"}
        names = [k for k, _ in self.headers]
        return (
            f"Delivery(headers={names!r}, "
            + ", ".join(f"{k}={v!r}" for k, v in shown.items())
            + ")"
        )

    def given(self, name: str) -> bool:
        """Whether field ``name`` differs from a plain ``Delivery()``'s (was chosen): a
        scenario's file gives what the record leaves at its default."""
        return bool(getattr(self, name) != getattr(_PLAIN, name))


def delivery_of(record: Delivery | None, **shortcuts: object) -> Delivery:
    """The one place a function's keyword shortcuts merge into a Delivery record: each
    one given (not None) replaces the record's field;
    ``headers`` are added to the record's (a name given again replaces it); ``retries``
    (a count or a Retry) is ``retry``."""
    base = record or _PLAIN
    changes: dict[str, object] = {}
    for name, value in shortcuts.items():
        if name == "retries":
            name, value = "retry", (None if value is None else as_retry(value))  # type: ignore[arg-type]
        if name == "headers":
            extra = normalise_headers(value)  # type: ignore[arg-type]
            names = {k.lower() for k, _ in extra}
            value = tuple(h for h in base.headers if h[0].lower() not in names) + extra
            if not extra:
                continue
        if value is None:
            continue
        changes[name] = value
    return replace(base, **changes) if changes else base  # type: ignore[arg-type]


_PLAIN = Delivery()


def refuse_unused(how: Delivery, function: str, unused: tuple[str, ...]) -> None:
    """A UsageError naming the first field of ``unused`` the record sets: ``function``
    cannot honour it (a check sends each probe once, so it takes no retry)."""
    for name in unused:
        if how.given(name):
            raise UsageError(
                f"delivery.{name}: {function} does not take {name}",
                f"leave it at Delivery()'s default for {function}",
                field="delivery",
            )


__all__ = [
    "Delivery",
    "Headers",
    "delivery_of",
    "refuse_unused",
    "normalise_headers",
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
