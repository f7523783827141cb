"""Durations (``500ms``, ``2s``, ``1.5m``, ``1h``) and rates (``10/s``, ``600/m``)."""

from __future__ import annotations

import contextlib
import re

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(ms|s|m|h)\s*$")


#: the longest duration anything takes (ten years): past it is a typo (999999999h), and
#: a scenario's timeline of such steps would run past the year 9999 of its timestamps
MAX_DURATION = 10 * 365 * 86400.0
_TOO_LONG = "a duration of at most 10 years (315360000 s)"


def parse_duration(value: object) -> float:
    """Seconds from ``2s``/``500ms``/``1m``/``1h`` or a bare number of seconds, at most
    ten years; ValueError with a reason otherwise."""
    if isinstance(value, bool):
        raise ValueError("a duration, not a boolean")
    if isinstance(value, int | float):
        if not value >= 0:  # NaN too
            raise ValueError("a duration that is not negative")
        if value > MAX_DURATION:
            raise ValueError(_TOO_LONG)
        return float(value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError("a duration such as 500ms, 2s, 1.5m or 1h")
    seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds > MAX_DURATION:
        raise ValueError(_TOO_LONG)
    return seconds


def positive_duration(value: object) -> float:
    """A duration (as :func:`parse_duration` reads it) greater than zero."""
    seconds = parse_duration(value)
    if seconds <= 0:
        raise ValueError("a duration greater than zero")
    return seconds


def parse_rate(value: object) -> float:
    """Events per second from ``10/s``, ``600/m``, ``2/h`` or a bare positive number."""
    if isinstance(value, bool):
        raise ValueError("a rate, not a boolean")
    if isinstance(value, int | float):
        per_second = float(value)
    else:
        match = _RATE.match(str(value))
        if not match:
            raise ValueError("a rate such as 10/s, 600/m or 2/h")
        per_second = float(match.group(1)) / _UNITS[match.group(2)]
    if not per_second > 0:  # NaN too
        raise ValueError("a rate must be greater than zero")
    return per_second


def parse_rate_option(value: object) -> float:
    """:func:`parse_rate` as a command line or a query string gives it: text that is a
    bare number (``"2000"``) is events per second too (in a scenario file that is a
    YAML number, and a quoted ``"10"`` stays an error)."""
    if isinstance(value, str):
        with contextlib.suppress(ValueError):  # 10/s, 600/m: parse_rate reads the unit
            value = float(value)
    return parse_rate(value)
