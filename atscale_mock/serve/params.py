"""Reading ``serve``'s requests: JSON bodies, query parameters and the body of
``POST /_mock/scenarios`` (JSON, or the scenario's YAML itself), each checked with an
error that names the field. The routes in ``app.py`` stay one call each."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from starlette.responses import JSONResponse

from .model import FieldError

MAX_LIMIT = 10_000


def error_response(
    status: int, message: str, field: str | None = None, **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {"error": message, **extra}
    if field is not None:
        body["field"] = field
    return JSONResponse(body, status)


def json_body(raw: bytes) -> Any:
    """A request's JSON body (None when empty); FieldError names what is wrong."""
    if not raw.strip():
        return None
    from ..events.payload import strict_loads

    try:
        return strict_loads(raw)
    except ValueError as exc:
        raise FieldError("body", f"not JSON: {exc}") from None
    except RecursionError:
        raise FieldError("body", "JSON nested too deeply") from None


def run_body(content_type: str, raw: bytes, query: Mapping[str, str]) -> dict[str, Any]:
    """The fields of ``POST /_mock/scenarios``: a JSON object, or (``Content-Type:
    application/yaml``, ``application/x-yaml`` or ``text/yaml``) the scenario's YAML
    itself, its options in the query string."""
    if "yaml" not in content_type.lower():
        body = json_body(raw) or {}
        if not isinstance(body, dict):
            raise FieldError("body", "expected a JSON object")
        return body
    fields: dict[str, Any] = {"scenario": raw.decode("utf-8", "replace")}
    fields.update(query)
    if "seed" in fields:
        fields["seed"] = int_param(fields["seed"], "seed")
    if "time_scale" in fields:
        fields["time_scale"] = time_scale_param(fields["time_scale"])
    if "continuous" in fields:
        fields["continuous"] = fields["continuous"].lower() in ("1", "true", "yes")
    return fields


def run_request(body: dict[str, Any], scenarios: Mapping[str, Path]) -> dict[str, Any]:
    """The keyword arguments of :meth:`ServeState.start_run` from a checked body."""
    allowed = ("name", "scenario", "seed", "continuous", "time_scale")
    unknown = [k for k in body if k not in allowed]
    if unknown:
        raise FieldError(unknown[0], "unknown field; known: " + ", ".join(allowed))
    known = ", ".join(scenarios) or "none"
    if ("name" in body) == ("scenario" in body):
        raise FieldError(
            "name",
            f"give name (one of the files given to serve --scenario: {known}) "
            "or scenario (the YAML text)",
        )
    if "name" in body:
        if not isinstance(body["name"], str) or body["name"] not in scenarios:
            raise FieldError("name", f"no scenario {body['name']!r}; known: {known}")
        source, name = str(scenarios[body["name"]]), str(body["name"])
    else:
        if not isinstance(body["scenario"], str) or not body["scenario"].strip():
            raise FieldError("scenario", "expected the scenario's YAML text")
        source = body["scenario"] if "\n" in body["scenario"] else body["scenario"] + "\n"
        name = "inline"
    seed = body.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise FieldError("seed", "expected an integer")
    continuous = body.get("continuous", False)
    if not isinstance(continuous, bool):
        raise FieldError("continuous", "expected true or false")
    time_scale = body.get("time_scale")
    if time_scale is not None:
        time_scale = time_scale_param(time_scale)
    return {
        "source": source,
        "name": name,
        "seed": seed,
        "continuous": continuous,
        "time_scale": time_scale,
    }


def journal_query(q: Mapping[str, str]) -> dict[str, Any]:
    """The filters of ``GET /_mock/deliveries`` as :meth:`Journal.query` takes them."""
    from .journal import status_clause

    status = q.get("status") or None
    if status is not None:
        try:
            status_clause(status)
        except ValueError as exc:
            raise FieldError("status", str(exc).removeprefix("status: ")) from None
    return {
        "event": event_param(q.get("event")),
        "status": status,
        "since": since_param(q.get("since")),
        "webhook_id": q.get("webhook_id") or None,
        "run_id": q.get("run_id") or None,
        "delivery_id": q.get("id") or None,
        "after": int_param(q["after"], "after") if q.get("after") else None,
        "limit": limit_param(q.get("limit")),
    }


def event_param(value: str | None) -> str | None:
    if not value:
        return None
    from ..events.payload import resolve_event

    return resolve_event(value).name


def int_param(value: Any, name: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise FieldError(name, f"expected an integer, got {value!r}") from None
    if not -(2**63) <= number < 2**63:  # what SQLite's INTEGER holds
        raise FieldError(name, f"out of range: {value!r}")
    return number


def time_scale_param(value: Any) -> float:
    """``time_scale`` from JSON or a query string, held to the scenario file's rule."""
    from ..scenario.reading.engine import parse_time_scale

    if isinstance(value, bool):
        raise FieldError("time_scale", f"expected a number, got {value!r}")
    try:
        return parse_time_scale(float(value))
    except (TypeError, ValueError) as exc:
        raise FieldError("time_scale", f"expected {exc}, got {value!r}") from None


def limit_param(value: str | None) -> int:
    if not value:
        return 100
    limit = int_param(value, "limit")
    if not 1 <= limit <= MAX_LIMIT:
        raise FieldError("limit", f"must be from 1 to {MAX_LIMIT}, got {limit}")
    return limit


def since_param(value: str | None) -> float | None:
    """Epoch seconds or an ISO 8601 time."""
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise FieldError("since", f"expected epoch seconds or ISO 8601, got {value!r}") from None


class PostedEnvironment(Mapping[str, str]):
    """What ``${env:...}`` and ``${secret:...}`` see in a scenario posted to serve: only
    the variables named with ``serve --scenario-env`` (none by default). Any local
    process may post a scenario to a token-less serve; it must not read the environment
    of the user who started it."""

    missing_hint = (
        "a scenario posted to serve reads only the variables serve was started with "
        "--scenario-env for: start it with --scenario-env {name}, or give a default"
    )

    def __init__(self, names: Iterable[str]) -> None:
        self._values = {n: os.environ[n] for n in names if n in os.environ}

    def __getitem__(self, name: str) -> str:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)
