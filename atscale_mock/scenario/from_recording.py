"""A recording (``receive --record``, a ``--log`` file) written back as a version-1
scenario, as VCR writes a cassette: the same events in the same order at the same
offsets (``at:``, seconds from the first), each recorded value a ``set:`` override.

Ids that a real engine makes new for every batch, query and aggregate instance (the
fields in :data:`FRESH`) are not replayed as recorded: their first appearance is left
for the run to generate, and every later appearance of the same value (a batch result
naming its start, a build naming the query that triggered it) becomes
``${steps.ID.payload.PATH}`` of the step that first carried it. So a replay pairs each
result with its start, and two replays in a row share no id.

What a scenario cannot say is listed in the file's header comment and returned as
warnings: fields the catalogue does not name (``set:`` takes documented fields only),
documented fields the recording lacked (the catalogue's payload has them), and lines
that are not an engine event.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..events.catalogue import Event, find_event
from ..events.drift import flatten
from .model import SCENARIO_VERSION
from .template import escape

#: fields whose values the engine makes new for each batch, query or aggregate instance
FRESH = ("id", "query_id", "instance_id")
#: wall-clock seconds a compressed replay spans at most (without --keep-timing)
COMPRESSED_SPAN = 2.0
TO = "${env:RECEIVER_URL:-http://127.0.0.1:10502/hooks}"


@dataclass
class Converted:
    """The scenario's YAML text and what could not be carried over."""

    text: str
    steps: int
    warnings: list[str] = field(default_factory=list)


def from_recording(
    path: Path,
    *,
    keep_timing: bool = False,
    name: str | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> Converted:
    """The scenario of recording ``path`` (see the module's docstring). Without
    ``keep_timing`` the offsets stay as recorded and ``time_scale`` compresses the
    whole to at most :data:`COMPRESSED_SPAN` seconds."""
    import yaml

    from ..recording import stream_recording

    warnings: list[str] = []

    def warn(text: str) -> None:
        warnings.append(text)
        if on_warning is not None:
            on_warning(text)

    steps: list[dict[str, Any]] = []
    first_time: float | None = None
    span = 0.0  # seconds from the first event to the last
    seen: dict[str, str] = {}  # a fresh id's value -> the reference to where it began
    counts: dict[str, int] = {}
    undocumented: dict[str, set[str]] = {}
    missing: dict[str, set[str]] = {}

    def torn(text: str) -> None:  # headers are not replayed: their warnings do not apply
        if not text.startswith("header "):
            warn(text)

    for recorded in stream_recording(path, torn):
        where = f"{path}:{recorded.line}"
        try:
            payload = json.loads(recorded.body)
        except ValueError:
            warn(f"{where}: skipped: the body is not JSON")
            continue
        raw_type = payload.get("event_type") if isinstance(payload, dict) else None
        event = find_event(raw_type) if isinstance(raw_type, str) else None
        if event is None or event.event_type != raw_type:
            warn(f"{where}: skipped: not an engine event (event_type {raw_type!r})")
            continue
        counts[event.name] = counts.get(event.name, 0) + 1
        sid = f"{event.name}-{counts[event.name]}"
        sets, extra, absent = _overrides(event, payload, sid, seen)
        undocumented.setdefault(event.event_type, set()).update(extra)
        missing.setdefault(event.event_type, set()).update(absent)
        step: dict[str, Any] = {"id": sid, "event": event.name}
        if not math.isnan(recorded.time):
            if first_time is None:
                first_time = recorded.time
            span = max(span, recorded.time - first_time)
            step["at"] = _at(recorded.time - first_time)
        if sets:
            step["set"] = sets
        steps.append(step)
    if not steps:
        from ..errors import UsageError

        raise UsageError(
            f"{path}: no engine event to make a scenario of",
            "from-recording reads files written by receive --record or --log",
        )
    for event_type, fields in undocumented.items():
        if fields:
            named = ", ".join(sorted(fields))
            warn(f"{event_type}: not replayed, the catalogue does not name: {named}")
    for event_type, fields in missing.items():
        if fields:
            warn(
                f"{event_type}: recorded without {', '.join(sorted(fields))}; "
                "the replay sends the catalogue's value"
            )
    doc: dict[str, Any] = {
        "version": SCENARIO_VERSION,
        "name": name or path.stem,
        "description": f"{len(steps)} events recorded in {path.name}, in their order",
    }
    if not keep_timing and span > COMPRESSED_SPAN:
        doc["time_scale"] = round(span / COMPRESSED_SPAN, 3)
    doc["defaults"] = {"to": TO}
    doc["steps"] = steps
    header = [
        f"# Made by `atscale-mock scenario from-recording {path.name}`: the recorded events",
        "# in order at their recorded offsets (at:), recorded values as set: overrides.",
        "# Batch, query and instance ids are generated per run; later uses of one are",
        "# ${steps...} references, so results stay paired with their starts.",
    ]
    if "time_scale" in doc:
        header.append(
            f"# time_scale compresses {span:.1f} s to {COMPRESSED_SPAN:g} s "
            "(--keep-timing, or delete it, for the recorded pace)."
        )
    header += [f"# not replayed: {w}" for w in warnings]
    body = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
    return Converted("\n".join(header) + "\n" + body, len(steps), warnings)


def _at(seconds: float) -> str:
    """An offset as the scenario format writes it, to the millisecond."""
    return f"{max(0.0, seconds) * 1000:.0f}ms"


def _overrides(
    event: Event, payload: dict[str, Any], sid: str, seen: dict[str, str]
) -> tuple[dict[str, Any], list[str], list[str]]:
    """The ``set:`` of one recorded payload, the fields it had that the catalogue does
    not name, and the documented fields it lacked."""
    sets: dict[str, Any] = {}
    flat = flatten(payload, event)
    documented = {f.path for f in event.fields}
    for path, value in flat.items():
        if path not in documented:
            continue
        if path == "event_type":
            continue  # the event's own constant
        leaf = path.rsplit(".", 1)[-1]
        if isinstance(value, str) and value in seen:
            sets[path] = seen[value]  # an id an earlier step began
        elif leaf in FRESH and isinstance(value, str):
            seen[value] = "${steps." + sid + ".payload." + path + "}"  # generated per run
        else:
            sets[path] = escape(value) if isinstance(value, str) else value
    extra = sorted(p for p in flat if p not in documented)
    absent = sorted(f.path for f in event.fields if f.source == "example" and f.path not in flat)
    return sets, extra, absent
