"""The pure payload builder: an event, a seed and a :class:`PayloadOptions` record in; a
dict out.

No I/O; the wall clock only when the record leaves ``clock`` unset (now, at the build).
Faker is imported only when a field needs a realistic text value.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..config import DEFAULT_ORG
from ..errors import UnknownEventError, UnknownFieldError, UsageError
from .catalogue import (
    EVENTS,
    SLOW_AGG_BUILD_THRESHOLD_MS,
    SLOW_QUERY_THRESHOLD_S,
    Event,
    Field,
    event_names,
    event_suggestion,
    find_event,
    suggest,
)
from .ids import uuid4_from

if TYPE_CHECKING:
    from faker import Faker

#: Error texts for a failed batch. The spec gives none: these are atscale-mock's own.
BATCH_ERRORS = (
    "Aggregate build failed: query execution timed out",
    "Aggregate build failed: insufficient privileges to create table",
    "Aggregate build failed: source table not found",
    "Aggregate build failed: connection to the data warehouse was lost",
)


#: the fields of :class:`PayloadOptions` a user sets: each way in's keywords, options
#: and body keys of the same names (``slow_agg_threshold_ms`` is the library's own)
PAYLOAD_KEYWORDS = (
    "set",
    "full",
    "failed",
    "error",
    "org",
    "project",
    "cube",
    "slow_threshold",
    "clock",
)


@dataclass(frozen=True, slots=True)
class PayloadOptions:
    """How an event's payload is made: the one record ``payload``, ``send``, ``show``,
    ``trigger`` and serve's trigger body take (their keywords and options of the same
    names are shortcuts for its fields).

    ``set``: values by dotted path (``"context.project_id"``), over the generated ones.
    ``full``: add the documented parameters the spec's example omits. ``failed``: the
    failure variant (``error`` gives a batch's error text, and implies it). ``org``,
    ``project``, ``cube``: pin those ids. ``slow_threshold``: the seconds a slow query's
    generated ``time_taken`` starts from (the spec's default: "four seconds or more").
    ``clock``: when the event happens (a ``datetime``, ISO 8601 text, or ``"now"``);
    unset, the library's callers use a fixed time when a seed is given and now
    otherwise, and :func:`build_payload` uses now. ``slow_agg_threshold_ms``: the same
    for a slow aggregate build's ``duration``, in ms (the spec's default, 4000)."""

    set: Mapping[str, Any] = field(default_factory=dict)
    full: bool = False
    failed: bool = False
    error: str | None = None
    org: str | None = None
    project: str | None = None
    cube: str | None = None
    slow_threshold: float = SLOW_QUERY_THRESHOLD_S
    clock: datetime | str | None = None
    slow_agg_threshold_ms: int = SLOW_AGG_BUILD_THRESHOLD_MS

    def moment(self) -> datetime:
        """``clock`` as a time: now when it is unset or ``"now"``."""
        if isinstance(self.clock, datetime):
            return self.clock.astimezone(UTC)
        if self.clock is None or self.clock == "now":
            return datetime.now(UTC)
        return parse_timestamp(self.clock)


def resolve_event(name: str) -> Event:
    """The event named by CLI name or event_type; UnknownEventError with a did-you-mean."""
    event = find_event(name)
    if event is None:
        raise UnknownEventError(name, event_suggestion(name), event_names())
    return event


def format_timestamp(moment: datetime) -> str:
    """ISO 8601 UTC with microseconds and ``Z``, as the spec's ``finished_at``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_timestamp(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise UsageError(
            f"not an ISO 8601 time: {text!r}", "for example 2021-12-07T15:44:07Z"
        ) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class NonFiniteNumber(ValueError):
    """A number JSON cannot carry (``NaN``, ``Infinity``, ``1e999``)."""


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise NonFiniteNumber(f"{text} is not a finite number (JSON has no Infinity or NaN)")
    return value


def _no_constant(text: str) -> Any:
    raise NonFiniteNumber(f"{text} is not JSON (JSON has no Infinity or NaN)")


def strict_loads(text: str | bytes) -> Any:
    """``json.loads`` as RFC 8259 reads JSON: ``NaN``, ``Infinity`` and numbers beyond a
    double (``1e999``) are a :class:`NonFiniteNumber` error, not floats that cannot be
    written back as JSON."""
    return json.loads(text, parse_constant=_no_constant, parse_float=_finite)


def parse_value(text: str) -> Any:
    """A ``--set`` value: JSON when it parses (true, null, 3.5, "x"), else the string;
    ``NaN``, ``Infinity`` and ``1e999`` are refused (no receiver could parse them)."""
    try:
        return strict_loads(text)
    except NonFiniteNumber:
        raise
    except ValueError:
        return text


def parse_assignment(text: str) -> tuple[str, Any]:
    """``PATH=VALUE`` into (path, parsed value)."""
    path, sep, value = text.partition("=")
    if not sep or not path.strip():
        raise UsageError(
            f"--set expects PATH=VALUE, got {text!r}",
            "for example --set context.project_id=91db9aa1-... or --set cube_id=null",
        )
    try:
        return path.strip(), parse_value(value)
    except NonFiniteNumber as exc:
        raise UsageError(
            f"--set {path.strip()}: {exc}",
            "use a finite number, or quote it to send a string: --set 'time_taken=\"NaN\"'",
        ) from None


def check_paths(event: Event, paths: list[str] | tuple[str, ...]) -> None:
    for path in paths:
        if event.field(path) is None:
            raise UnknownFieldError(event.name, path, event.paths, suggest(path, event.paths))


_faker: Faker | None = None


def _get_faker(seed: int) -> Faker:
    global _faker
    if _faker is None:
        from faker import Faker

        _faker = Faker("en_US")
    _faker.seed_instance(seed)
    return _faker


class _Values:
    """Generates one payload's values from one seeded RNG."""

    def __init__(self, event: Event, seed: int, options: PayloadOptions) -> None:
        self.event = event
        self.rng = random.Random(seed)
        self.options = options
        self.moment = options.moment()
        drawn = uuid4_from(self.rng)
        self.project = options.project or drawn
        self._faker_seed = self.rng.getrandbits(32)

    def faker(self) -> Faker:
        return _get_faker(self._faker_seed)

    def value(self, f: Field) -> Any:
        o, rng = self.options, self.rng
        match f.kind:
            case "event_type" | "const":
                return f.const
            case "org":
                return o.org or DEFAULT_ORG
            case "uuid":
                drawn = uuid4_from(rng)  # always drawn, so pinning never shifts other values
                if f.path.endswith("project_id"):
                    return self.project
                if f.path == "cube_id":
                    if o.cube:
                        return o.cube
                    # the spec: "null if not available". How often is not stated; our
                    # choice: when the drawn id starts with 0 (1 in 16), no new draw
                    return None if drawn[0] == "0" else drawn
                return drawn
            case "same_as_project":
                return self.project
            case "is_full_build" | "bool":
                return rng.random() < 0.5
            case "query_success":
                return not o.failed
            case "error":
                drawn = rng.choice(BATCH_ERRORS)
                if o.error is not None:
                    return o.error
                return drawn if o.failed else None
            case "schema_status":
                return "failure" if o.failed else "success"
            case "seconds":
                return o.slow_threshold + rng.lognormvariate(0.0, 1.0) * o.slow_threshold / 2
            case "millis":
                extra = rng.lognormvariate(0.0, 1.0) * o.slow_agg_threshold_ms
                return o.slow_agg_threshold_ms + int(extra)
            case "timestamp":
                return format_timestamp(self.moment)
            case "callback_url":
                return f.const
            case "username":
                return self.faker().user_name()
            case "agg_name":
                return "_".join(self.faker().words(3))
            case "message":
                return self.faker().sentence()
        raise AssertionError(f"unhandled kind {f.kind}")  # pragma: no cover


def _included(event: Event, options: PayloadOptions, overrides: Mapping[str, Any]) -> list[Field]:
    wanted = set(overrides)
    if event.name == "schema-publish" and options.failed:
        wanted.add("status")
    return [f for f in event.fields if f.source == "example" or options.full or f.path in wanted]


def _put(target: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    for key in parents:
        target = target.setdefault(key, {})
    target[leaf] = value


def build_payload(event: Event, seed: int, options: PayloadOptions | None = None) -> dict[str, Any]:
    """The payload of ``event`` for ``seed``: the spec example's keys, order and nesting,
    plus documented parameters with ``full``, with ``options.set`` (dotted paths)
    applied."""
    options = options or PayloadOptions()
    overrides = options.set
    check_paths(event, list(overrides))
    if options.failed and not event.failure:
        raise UsageError(
            f"event '{event.name}' has no failure variant in the spec",
            "set the field you want with --set PATH=VALUE",
        )
    values = _Values(event, seed, options)
    payload: dict[str, Any] = {}
    for f in _included(event, options, overrides):
        # Draw every value even when overridden, so an override never shifts the others.
        generated = values.value(f)
        _put(payload, f.path, overrides.get(f.path, generated))
    return payload


def encode(payload: Any) -> bytes:
    """The wire body: compact JSON in the payload's key order. A float that JSON cannot
    carry (NaN, an infinity: YAML's ``.inf`` or a library caller's ``float("nan")``) is a
    UsageError naming its field, never ``NaN`` on the wire."""
    try:
        return json.dumps(
            payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode()
    except ValueError:
        path = _non_finite_path(payload)
        where = path or "the payload"
        raise UsageError(
            f"{where}: {_non_finite_value(payload, path)} is not a JSON number "
            "(JSON has no Infinity or NaN)",
            "use a finite number, or a string",
            field=where,
        ) from None


def _non_finite_path(node: Any, prefix: str = "") -> str | None:
    if isinstance(node, float) and not math.isfinite(node):
        return prefix or None
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, value in items:
        found = _non_finite_path(value, f"{prefix}.{key}" if prefix else str(key))
        if found:
            return found
    return None


def _non_finite_value(node: Any, path: str | None) -> str:
    try:
        return repr(get_path(node, path)) if path else "a value"
    except (KeyError, TypeError):
        return "a value"


def get_path(payload: Any, path: str) -> Any:
    """The value at a dotted path; KeyError when absent."""
    node = payload
    for key in path.split("."):
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            raise KeyError(path)
    return node


def lookup_key(payload: dict[str, Any], key: str) -> Any:
    """A key at the top level or under ``context`` (for URL placeholders like ``{org_id}``)."""
    if "." in key:
        return get_path(payload, key)
    if key in payload:
        return payload[key]
    context = payload.get("context")
    if isinstance(context, dict) and key in context:
        return context[key]
    raise KeyError(key)


__all__ = ["EVENTS", "PayloadOptions", "build_payload", "resolve_event", "parse_assignment"]
