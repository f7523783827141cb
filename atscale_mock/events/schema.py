"""JSON Schemas (draft 2020-12) of the payloads, derived from the catalogue.

Ids are checked as lowercase 8-4-4-4-12 hex, not as RFC 4122 version-4 UUIDs:
some ids in the spec's own examples are not version-4.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from .catalogue import EVENTS, Event, Field

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

UUID_PATTERN = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
TIMESTAMP_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$"
DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _field_schema(f: Field) -> dict[str, Any]:
    types = list(f.json_type)
    schema: dict[str, Any] = {
        "type": types[0] if len(types) == 1 else types,
        "description": f.description,
        "x-source": f.source,
    }
    if f.note:
        schema["x-not-in-spec"] = f.note
    if f.kind in ("event_type",):
        schema["const"] = f.const
    if f.kind in ("uuid", "same_as_project"):
        schema["pattern"] = UUID_PATTERN
    if f.kind == "timestamp":
        schema["pattern"] = TIMESTAMP_PATTERN
    if f.kind == "schema_status":
        schema["enum"] = ["success", "failure"]
    if f.kind in ("seconds", "millis"):
        schema["minimum"] = 0
    return schema


def _object(fields: list[tuple[str, Field]]) -> dict[str, Any]:
    """An object schema for fields given relative to this object."""
    props: dict[str, Any] = {}
    required: list[str] = []
    nested: dict[str, list[tuple[str, Field]]] = {}
    for rel, f in fields:
        head, _, rest = rel.partition(".")
        if rest:
            if head not in props:
                props[head] = {}
                required.append(head)
            nested.setdefault(head, []).append((rest, f))
            continue
        props[head] = _field_schema(f)
        if f.source == "example":
            required.append(head)
    for head, sub in nested.items():
        props[head] = _object(sub)
    return {
        "type": "object",
        "properties": props,
        "required": required,
        "additionalProperties": False,
    }


def event_schema(event: Event) -> dict[str, Any]:
    """The schema every payload of ``event`` (default or ``--full``) validates against."""
    body = _object([(f.path, f) for f in event.fields])
    return {
        "$schema": DIALECT,
        "$id": f"urn:atscale-mock:event:{event.name}",
        "title": f"{event.title} ({event.event_type})",
        **body,
    }


def all_schemas() -> dict[str, dict[str, Any]]:
    return {e.name: event_schema(e) for e in EVENTS}


@functools.cache
def validator(event: Event) -> Draft202012Validator:
    """A compiled validator per event (built once; jsonschema is imported on first use)."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(event_schema(event))


def validation_errors(event: Event, payload: Any) -> list[str]:
    """Every way ``payload`` fails ``event``'s schema, as ``path: message`` lines."""
    errors = sorted(validator(event).iter_errors(payload), key=lambda e: list(e.absolute_path))
    return [f"{'.'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}" for e in errors]
