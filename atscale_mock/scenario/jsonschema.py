"""The JSON Schema of the scenario format (version 1), for editors:
``# yaml-language-server: $schema=atscale-mock-scenario.schema.json``."""

from __future__ import annotations

from typing import Any

from ..delivery.faults import MALFORMED_KINDS
from ..events.catalogue import EVENTS
from ..events.schema import DIALECT

DURATION = {
    "description": "500ms, 2s, 1.5m, 1h, or seconds",
    "anyOf": [
        {"type": "number", "minimum": 0},
        {"type": "string", "pattern": r"^\d+(\.\d+)?\s*(ms|s|m|h)?$"},
    ],
}
RATE = {
    "description": "10/s, 600/m, 2/h, or per second",
    "anyOf": [
        {"type": "number", "exclusiveMinimum": 0},
        {"type": "string", "pattern": r"^\d+(\.\d+)?\s*/\s*(ms|s|m|h)$"},
    ],
}
STATUS = {
    "anyOf": [
        {"type": "integer", "minimum": 100, "maximum": 599},
        {"type": "string", "pattern": "^([1-5]xx|[1-5][0-9][0-9])$"},
    ]
}
EXPECT = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "status": {"anyOf": [STATUS, {"type": "array", "items": STATUS}]},
        "max_latency": DURATION,
        "json": {"type": "object", "description": "response-body path -> expected value"},
    },
}
HEADERS = {"type": "object", "additionalProperties": {"type": "string"}}
STEP_ID = {"type": "string", "pattern": "^[A-Za-z0-9_][A-Za-z0-9_-]*$"}
EVENT_NAMES = [e.name for e in EVENTS] + [e.event_type for e in EVENTS]


def _event_step() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["event"],
        "additionalProperties": False,
        "properties": {
            "id": STEP_ID,
            "event": {"enum": EVENT_NAMES},
            "description": {"type": "string"},
            "set": {"type": "object", "description": "dotted field path -> value"},
            "after": DURATION,
            "at": DURATION,
            "repeat": {
                "type": "object",
                "required": ["count"],
                "additionalProperties": False,
                "properties": {
                    "count": {"type": "integer", "minimum": 1},
                    "rate": RATE,
                    "every": DURATION,
                    "jitter": DURATION,
                },
            },
            "expect": EXPECT,
            "full": {"type": "boolean"},
            "failed": {"type": "boolean"},
            "to": {"type": "string"},
            "headers": HEADERS,
            "sign": {"type": "boolean", "description": "false: unsigned even when run signs"},
            "bad_signature": {"type": "boolean"},
            "stale_timestamp": DURATION,
            "duplicates": FRACTION,
            "drop": FRACTION,
            "malformed": {"enum": list(MALFORMED_KINDS)},
            "malformed_rate": FRACTION,
        },
    }


DIST = {
    "type": "object",
    "required": ["median", "p99"],
    "additionalProperties": False,
    "properties": {"median": DURATION, "p99": DURATION},
}
CUBE_REFS = {
    "type": "array",
    "minItems": 1,
    "items": {"type": "string", "pattern": "^[^/]+/[^/]+$"},
}
CUBE = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string"},
        "uuid": {"type": "string"},
        "aggregate_limit": {"type": "integer", "minimum": 1},
    },
}
PROBABILITY = {"type": "number", "minimum": 0, "maximum": 1}
ENGINE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "org": {"type": "string"},
        "slow_query_threshold": DURATION,
        "slow_agg_build_threshold": DURATION,
        "projects": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string"},
                    "uuid": {"type": "string"},
                    "published": {"type": "boolean"},
                    "cubes": {"type": "array", "items": CUBE},
                },
            },
        },
    },
}


def _engine_steps() -> list[dict[str, Any]]:
    bodies = {
        "batch": {
            "cubes": CUBE_REFS,
            "project": {"type": "string"},
            "full": {"type": "boolean"},
            "aggregates": {"type": "integer", "minimum": 1},
            "build_duration": DIST,
            "failure_probability": PROBABILITY,
            "error": {"type": "string"},
        },
        "queries": {
            "cubes": CUBE_REFS,
            "project": {"type": "string"},
            "count": {"type": "integer", "minimum": 0},
            "rate": RATE,
            "over": DURATION,
            "latency": DIST,
            "success_ratio": PROBABILITY,
        },
        "publish": {
            "project": {"type": "string"},
            "uuid": {"type": "string"},
            "cubes": {"type": "array", "items": CUBE},
            "status": {"enum": ["success", "failure"]},
        },
        "unpublish": {"project": {"type": "string"}},
    }
    return [
        {
            "type": "object",
            "required": [kind],
            "additionalProperties": False,
            "properties": {
                "id": STEP_ID,
                "description": {"type": "string"},
                "after": DURATION,
                "at": DURATION,
                kind: {"type": "object", "additionalProperties": False, "properties": body},
            },
        }
        for kind, body in bodies.items()
    ]


LOAD = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "phases": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["duration", "rate"],
                "additionalProperties": False,
                "properties": {"duration": DURATION, "rate": RATE, "ramp_to": RATE},
            },
        },
        "mix": {"type": "object", "additionalProperties": {"type": "number", "minimum": 0}},
        "connections": {"type": "integer", "minimum": 1},
        "processes": {"type": "integer", "minimum": 1},
        "thresholds": {"type": "array", "items": {"type": "string"}},
    },
}


FRACTION = {"type": "number", "minimum": 0, "maximum": 1}
FAULTS = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "duplicates": FRACTION,
        "reorder": {"type": "integer", "minimum": 0},
        "drop": FRACTION,
        "delay": DURATION,
        "jitter": DURATION,
        "malformed_rate": FRACTION,
        "malformed": {"enum": list(MALFORMED_KINDS)},
    },
}


def scenario_schema() -> dict[str, Any]:
    event_step = _event_step()
    engine_steps = _engine_steps()
    parallel = {
        "type": "object",
        "required": ["parallel"],
        "additionalProperties": False,
        "properties": {
            "id": STEP_ID,
            "description": {"type": "string"},
            "after": DURATION,
            "at": DURATION,
            "parallel": {
                "type": "array",
                "minItems": 1,
                "items": {"oneOf": [event_step, *engine_steps]},
            },
        },
    }
    return {
        "$schema": DIALECT,
        "$id": "urn:atscale-mock:scenario:v1",
        "title": "atscale-mock scenario (version 1)",
        "type": "object",
        "required": ["version", "steps"],
        "additionalProperties": False,
        "properties": {
            "version": {"const": 1},
            "name": {"type": "string"},
            "description": {"type": "string"},
            "clock": {"type": "string", "description": "ISO 8601 time of the first event"},
            "time_scale": {
                "type": "number",
                "exclusiveMinimum": 0,
                "description": "simulated seconds per wall-clock second",
            },
            "engine": ENGINE,
            "load": LOAD,
            "faults": FAULTS,
            "defaults": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "to": {"type": "string"},
                    "headers": HEADERS,
                    "timeout": DURATION,
                    "retries": {"type": "integer", "minimum": 0},
                    "seed": {"type": "integer", "minimum": 0},
                    "expect": EXPECT,
                    "atscale_version": {
                        "type": "string",
                        "pattern": "^(?i:latest|I\\d{4}\\.\\d{1,2}\\.(\\d{1,3}|x))$",
                        "description": "The AtScale version whose event catalogue applies "
                        "(I2022.4.1: six events, no prune-result; I2023.4.1 and later: seven).",
                    },
                },
            },
            "vars": {"type": "object"},
            "steps": {
                "type": "array",
                "minItems": 1,
                "items": {"oneOf": [event_step, parallel, *engine_steps]},
            },
        },
    }
