"""Spec drift: where payloads a real engine sent differ from the documented catalogue.

Fed one payload at a time (:meth:`Drift.observe`), it keeps counts and a few examples,
never the payloads, so a day of traffic costs a few kilobytes. Per event type it finds:

* ``undocumented``: a field the catalogue does not name (with example values);
* ``missing``: a field the documentation's example payload shows, absent;
* ``type``: a value whose JSON type the documentation does not give it (a ``null``
  where the docs say a value, a number sent as a string);
* ``format``: a value of the right type in the wrong form (a UUID that is not one, a
  time without ``Z``);
* ``value``: a constant the documentation names only one value of, with another value;

and, not counted as drift, documented fields never seen (those the "POST parameters"
lists name and the examples omit: the documentation's own examples go without them).
Event types the catalogue (of the version judged by) does not have are drift too.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .catalogue import Event, Field, find_event
from .versions import Catalogue, catalogue

KINDS = ("undocumented", "missing", "type", "format", "value")
EXAMPLES = 3  # distinct example values kept per finding
#: distinct findings kept per event type, and distinct unknown event types: past these a
#: hostile or broken sender's endless new names are counted together, not kept one by one
MAX_FINDINGS = 100
MAX_UNKNOWN = 100
OTHERS = "(others)"
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@dataclass
class Finding:
    """One way one field of one event type differed, how often, with examples."""

    kind: str
    field: str
    detail: str
    count: int = 0
    examples: list[str] = dataclasses.field(default_factory=list)

    def add(self, value: Any = None, with_example: bool = True) -> None:
        self.count += 1
        if with_example and len(self.examples) < EXAMPLES:
            shown = _cut(json.dumps(value, ensure_ascii=False, default=str), 60)
            if shown not in self.examples:
                self.examples.append(shown)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "field": self.field,
            "detail": self.detail,
            "count": self.count,
            "examples": list(self.examples),
        }


@dataclass
class _PerEvent:
    event: Event | None
    seen: int = 0
    findings: dict[tuple[str, str], Finding] = dataclasses.field(default_factory=dict)
    present: set[str] = dataclasses.field(default_factory=set)

    def find(self, kind: str, path: str, detail: str) -> Finding:
        key = (kind, path)
        if key not in self.findings:
            if len(self.findings) >= MAX_FINDINGS:
                key = (kind, OTHERS)
                detail = f"more fields than the {MAX_FINDINGS} kept, counted together"
                if key in self.findings:
                    return self.findings[key]
            self.findings[key] = Finding(kind, key[1], detail)
        return self.findings[key]


class Drift:
    """The drift of payloads from ``catalogue`` (an AtScale version's, the latest by
    default), accumulated one payload at a time."""

    def __init__(self, judged_by: Catalogue | str | None = None) -> None:
        self.catalogue = judged_by if isinstance(judged_by, Catalogue) else catalogue(judged_by)
        self.payloads = 0
        self.not_objects = 0
        self.unknown: dict[str, int] = {}  # event_type -> count
        self.not_in_version: dict[str, int] = {}
        self._events: dict[str, _PerEvent] = {}

    def observe(self, payload: Any) -> None:
        """Judge one received payload (a parsed JSON body)."""
        self.payloads += 1
        if not isinstance(payload, dict):
            self.not_objects += 1
            return
        raw_type = payload.get("event_type")
        event = find_event(raw_type) if isinstance(raw_type, str) else None
        name = str(raw_type) if raw_type is not None else "(no event_type)"
        if event is None or event.event_type != raw_type:
            if name not in self.unknown and len(self.unknown) >= MAX_UNKNOWN:
                name = OTHERS
            self.unknown[name] = self.unknown.get(name, 0) + 1
            return
        if not self.catalogue.has(event):
            self.not_in_version[name] = self.not_in_version.get(name, 0) + 1
        per = self._events.setdefault(name, _PerEvent(event))
        per.seen += 1
        documented = {f.path: f for f in event.fields}
        containers = _containers(event)
        seen = flatten(payload, event)
        for path, value in seen.items():
            spec = documented.get(path)
            if spec is None:
                if path in containers:
                    per.find("type", path, "not an object where the docs show one").add(value)
                else:
                    per.find("undocumented", path, "a field the docs do not name").add(value)
                continue
            per.present.add(path)
            problem = _judge(spec, value)
            if problem is not None:
                kind, detail = problem
                per.find(kind, path, detail).add(value)
        for spec in event.fields:
            if spec.source == "example" and spec.path not in seen:
                per.find("missing", spec.path, "shown in the docs' example, absent").add(
                    with_example=False
                )

    @property
    def drifted(self) -> bool:
        return bool(
            self.unknown
            or self.not_in_version
            or self.not_objects
            or any(p.findings for p in self._events.values())
        )

    def never_seen(self, name: str) -> list[str]:
        """Documented fields of event type ``name`` that no payload carried (those the
        documentation's example omits: not drift, the docs' own example goes without)."""
        per = self._events.get(name)
        if per is None or per.event is None:
            return []
        return [
            f.path
            for f in per.event.fields
            if f.source == "parameters" and f.path not in per.present
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "catalogue": self.catalogue.version,
            "payloads": self.payloads,
            "drift": self.drifted,
            "events": {
                name: {
                    "seen": per.seen,
                    "findings": [f.to_json() for f in _ordered(per)],
                    "never_seen": self.never_seen(name),
                }
                for name, per in self._events.items()
            },
            "unknown_event_types": dict(self.unknown),
            "not_in_version": dict(self.not_in_version),
            "not_objects": self.not_objects,
        }

    def lines(self) -> list[str]:
        """The report as text lines (for a terminal)."""
        head = (
            f"spec drift, judged by {self.catalogue.label}, over {self.payloads} "
            f"payload{'s' if self.payloads != 1 else ''}: "
        )
        if not self.payloads:
            return [head + "nothing received"]
        out = [head + ("DRIFT" if self.drifted else "no drift")]
        for name, per in self._events.items():
            findings = _ordered(per)
            flag = "" if findings else ": as documented"
            out.append(f"  {_shown(name)} ({per.seen} seen){flag}")
            for f in findings:
                eg = f" e.g. {', '.join(f.examples)}" if f.examples else ""
                out.append(
                    f"    {f.kind:<12} {_shown(f.field)}: {f.detail}, {f.count} of {per.seen}{eg}"
                )
            never = self.never_seen(name)
            if never:
                out.append(f"    never seen (named only in the parameter list): {', '.join(never)}")
        for name, n in self.not_in_version.items():
            out.append(f"  {_shown(name)}: {n} received, not in {self.catalogue.label}")
        for name, n in self.unknown.items():
            out.append(f"  unknown event_type {_cut(name, 80)}: {n}")
        if self.not_objects:
            out.append(f"  bodies that are not a JSON object: {self.not_objects}")
        return out


def _ordered(per: _PerEvent) -> list[Finding]:
    return sorted(per.findings.values(), key=lambda f: (KINDS.index(f.kind), f.field))


def _containers(event: Event) -> set[str]:
    """The objects ``event``'s documented fields are nested in (``context``)."""
    return {f.path.rsplit(".", 1)[0] for f in event.fields if "." in f.path}


def flatten(payload: dict[str, Any], event: Event) -> dict[str, Any]:
    """``payload`` by dotted path: the objects ``event``'s docs nest fields in are walked
    into, any other value (an undocumented object too) is one field."""
    containers = _containers(event)
    out: dict[str, Any] = {}

    def walk(prefix: str, obj: dict[str, Any]) -> None:
        for key, value in obj.items():
            path = f"{prefix}{key}"
            if path in containers and isinstance(value, dict):
                walk(path + ".", value)
            else:
                out[path] = value

    walk("", payload)
    return out


_JSON_TYPES = {
    "string": lambda v: isinstance(v, str),
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
}


def _type_name(value: Any) -> str:
    for name in ("null", "boolean", "integer", "number", "string"):
        if _JSON_TYPES[name](value):
            return name
    return "array" if isinstance(value, list) else "object"


def _judge(spec: Field, value: Any) -> tuple[str, str] | None:
    """What is wrong with ``value`` for documented field ``spec``, or None."""
    if not any(_JSON_TYPES[t](value) for t in spec.json_type):
        expected = " or ".join(spec.json_type)
        got = _type_name(value)
        if got == "null":
            return "type", f"null where the docs say a value ({expected})"
        return "type", f"{got} where the docs say {expected}"
    if value is None:
        return None
    if spec.kind in ("uuid", "same_as_project") and not _UUID.match(value):
        return "format", "not a UUID"
    if spec.kind == "timestamp":
        return _timestamp_problem(value)
    if spec.kind == "const" and spec.const is not None and value != spec.const:
        return "value", f"a value the docs do not name (they show {spec.const!r})"
    return None


def _timestamp_problem(text: str) -> tuple[str, str] | None:
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return "format", "not an ISO 8601 time"
    if not text.endswith("Z"):
        return "format", "a time without Z (the docs' example is UTC with Z)"
    return None


def _shown(text: str) -> str:
    return _cut(text, 200)


def _cut(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters (what prints it escapes control characters:
    the CLI's output does, as for every text from outside)."""
    return text if len(text) <= limit else text[:limit] + "..."
