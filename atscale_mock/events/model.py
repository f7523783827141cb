"""What the catalogue is made of: an ``Event`` (its CLI name, ``event_type`` and fields
in wire order) and a ``Field`` (a dotted path, the kind of value it holds, its JSON
types, and where the spec documents it: ``example`` or ``parameters``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Source = Literal["example", "parameters"]

#: The kinds of value a field can hold; the payload builder knows how to make each.
Kind = Literal[
    "event_type",  # the event's constant event_type
    "uuid",  # lowercase 8-4-4-4-12 id
    "org",  # organisation id, "default" unless pinned
    "bool",
    "is_full_build",
    "query_success",
    "error",  # null on success, a string on failure
    "seconds",  # float seconds, at least the slow-query threshold
    "millis",  # integer milliseconds, at least the slow-agg-build threshold
    "timestamp",  # ISO 8601 UTC with microseconds and Z
    "username",
    "callback_url",
    "schema_status",  # "success" | "failure"
    "const",  # the example's value, verbatim
    "agg_name",
    "message",
    "same_as_project",  # the project's id
]


@dataclass(frozen=True, slots=True)
class Field:
    """One key of a payload, at a dotted ``path`` (``context.org_id``)."""

    path: str
    kind: Kind
    json_type: tuple[str, ...]
    source: Source
    description: str
    const: object = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class Event:
    """A webhook event: its CLI name, its ``event_type`` and its fields in wire order."""

    name: str
    event_type: str
    title: str
    trigger: str
    fields: tuple[Field, ...]
    failure: str = ""  # what --failed changes, "" when the spec documents no failure variant

    def field(self, path: str) -> Field | None:
        return next((f for f in self.fields if f.path == path), None)

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(f.path for f in self.fields)

    @property
    def example_paths(self) -> tuple[str, ...]:
        return tuple(f.path for f in self.fields if f.source == "example")
