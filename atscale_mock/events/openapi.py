"""An OpenAPI 3.1 document of the engine's webhooks, for receiver authors: one entry per
event under ``webhooks:``, each ``$ref``-ing its payload schema in
``components/schemas`` (the same JSON Schemas ``schema`` prints), with the spec's
example, the documented extras marked (``x-source: parameters``), and the signature
headers when a signing scheme is chosen. Feed it to a model generator, e.g.
``datamodel-codegen --input-file-type openapi``."""

from __future__ import annotations

from typing import Any

from ..config import DEFAULT_HMAC_HEADER
from ..config import SIGNING_SCHEMES as MODES
from ..errors import UsageError
from .catalogue import EVENTS, Event

OPENAPI_VERSION = "3.1.0"


def _model_name(event: Event) -> str:
    return "".join(part.capitalize() for part in event.name.split("-")) + "Event"


def _component(event: Event) -> dict[str, Any]:
    from .schema import event_schema
    from .spec_examples import EXAMPLES

    schema = {k: v for k, v in event_schema(event).items() if k not in ("$schema", "$id")}
    schema["title"] = _model_name(event)
    schema["description"] = f"{event.title} (`{event.event_type}`): {event.trigger}"
    if event.name in EXAMPLES:
        schema["examples"] = [EXAMPLES[event.name]]
    return schema


def _signature_headers(scheme: str | None, hmac_header: str) -> list[dict[str, Any]]:
    if scheme is None:
        return []
    if scheme == "standard-webhooks":
        described = {
            "webhook-id": "The message id; the same across retries and duplicates.",
            "webhook-timestamp": "Unix seconds when signed.",
            "webhook-signature": "v1,<base64 HMAC-SHA256 of '{id}.{timestamp}.{body}'>",
        }
    else:
        described = {hmac_header: "sha256=<hex HMAC-SHA256 of the body>"}
    return [
        {
            "name": name,
            "in": "header",
            "required": True,
            "description": text,
            "schema": {"type": "string"},
        }
        for name, text in described.items()
    ]


def openapi_document(
    scheme: str | None = None, hmac_header: str = DEFAULT_HMAC_HEADER
) -> dict[str, Any]:
    """The document; ``scheme`` (standard-webhooks or hmac-sha256) adds its headers.
    The spec documents no signing: without a scheme there are none."""
    if scheme is not None and scheme not in MODES:
        raise UsageError(f"unknown signing scheme {scheme!r}", "use " + " or ".join(MODES))
    headers = _signature_headers(scheme, hmac_header)
    webhooks: dict[str, Any] = {}
    for event in EVENTS:
        operation: dict[str, Any] = {
            "operationId": event.name.replace("-", "_"),
            "summary": event.title,
            "description": event.trigger,
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": f"#/components/schemas/{_model_name(event)}"}
                    }
                },
            },
            "responses": {"2XX": {"description": "Received."}},
        }
        if headers:
            operation["parameters"] = headers
        webhooks[event.event_type] = {"post": operation}
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "AtScale engine webhooks (atscale-mock)",
            "version": "1",
            "description": "The engine's webhook payloads as documented on AtScale's "
            "'Engine Webhooks' page. Fields marked x-source: parameters are documented "
            "in its parameter lists but absent from its examples; x-not-in-spec says "
            "what the page does not state. Signing is not documented by the page.",
        },
        "webhooks": webhooks,
        "components": {"schemas": {_model_name(e): _component(e) for e in EVENTS}},
    }
