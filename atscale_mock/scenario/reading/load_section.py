"""The `load:` section of a scenario: phases (duration, rate, ramp_to), mix,
connections, processes and thresholds, for `atscale-mock load FILE`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...errors import UsageError
from ...load.schedule import Phase
from ..units import parse_duration, parse_rate

if TYPE_CHECKING:
    from .base import LoaderBase as _Loader

LOAD_KEYS = ("phases", "mix", "connections", "processes", "thresholds")
PHASE_KEYS = ("duration", "rate", "ramp_to")


def load_spec(L: _Loader, raw: Any) -> dict[str, Any]:
    d = L.mapping(raw, ("load",), LOAD_KEYS, "load")
    out: dict[str, Any] = {}
    phases = d.get("phases")
    if phases is not None:
        if not isinstance(phases, list) or not phases:
            L.add(
                ("load", "phases"),
                "`phases` must be a non-empty list",
                "for example - {duration: 30s, rate: 100/s, ramp_to: 1000/s}",
            )
        else:
            out["phases"] = [
                p
                for i, item in enumerate(phases)
                if (p := _phase(L, ("load", "phases", i), item)) is not None
            ]
    if "mix" in d:
        out["mix"] = _mix(L, d["mix"])
    for key in ("connections", "processes"):
        if key in d:
            out[key] = L.integer(("load", key), d[key], key, 1)
    if "thresholds" in d:
        out["thresholds"] = _thresholds(L, d["thresholds"])
    return out


def _phase(L: _Loader, path: tuple[str | int, ...], raw: Any) -> Phase | None:
    d = L.mapping(raw, path, PHASE_KEYS, "a load phase")
    if "duration" not in d or "rate" not in d:
        L.add(path, "a phase needs `duration` and `rate`", "for example {duration: 1m, rate: 50/s}")
        return None
    duration = L.convert((*path, "duration"), d["duration"], parse_duration, "duration")
    rate = L.convert((*path, "rate"), d["rate"], _rate, "rate")
    ramp = L.convert((*path, "ramp_to"), d["ramp_to"], _rate, "rate") if "ramp_to" in d else None
    if duration is None or rate is None or ("ramp_to" in d and ramp is None):
        return None
    if duration <= 0:
        L.add((*path, "duration"), "a phase's duration must be greater than zero")
        return None
    return Phase(duration, rate, ramp)


def _rate(value: Any) -> float:
    return parse_rate(f"{value}/s" if isinstance(value, int | float) else value)


def _mix(L: _Loader, raw: Any) -> dict[str, float]:
    from ...events.catalogue import event_names, find_event, suggest

    if not isinstance(raw, dict):
        L.add(("load", "mix"), "`mix` maps events to weights", "for example {slow-query: 8}")
        return {}
    out: dict[str, float] = {}
    for name, weight in raw.items():
        event = find_event(str(name))
        if event is None:
            close = suggest(str(name), event_names())
            L.add(
                ("load", "mix", name),
                f"unknown event '{name}'",
                f"did you mean '{close}'?" if close else "",
                key=True,
            )
        elif isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
            L.add(("load", "mix", name), f"bad weight {weight!r}", "a number >= 0")
        else:
            out[event.name] = float(weight)
    return out


def _thresholds(L: _Loader, raw: Any) -> list[str]:
    from ...load.thresholds import parse_threshold

    if not isinstance(raw, list):
        L.add(("load", "thresholds"), "`thresholds` must be a list", "for example - p99<250ms")
        return []
    out = []
    for i, text in enumerate(raw):
        try:
            parse_threshold(str(text))
            out.append(str(text))
        except UsageError as exc:
            L.add(("load", "thresholds", i), exc.message, exc.hint)
    return out
