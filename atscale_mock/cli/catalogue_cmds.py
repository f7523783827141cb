"""events, show, schema: the catalogue, with no network."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from ..events.catalogue import Event
from ..events.payload import PayloadOptions, encode, resolve_event
from .common import err, handle_errors, in_catalogue, out, print_json
from .option_groups import NO_PAYLOAD_OPTIONS, payload_options
from .options import (
    AtscaleVersion,
    EventArg,
    Json,
    Seed,
)


def _event_dict(event: Event) -> dict[str, Any]:
    return {
        "name": event.name,
        "event_type": event.event_type,
        "title": event.title,
        "trigger": event.trigger,
        "failure_variant": event.failure or None,
        "fields": [
            {
                "path": f.path,
                "type": list(f.json_type),
                "source": f.source,
                "description": f.description,
                "not_in_spec": f.note or None,
            }
            for f in event.fields
        ],
    }


@handle_errors
def events(atscale_version: AtscaleVersion = None, json_out: Json = False) -> None:
    """List the seven engine events: CLI name, event_type, trigger and fields; with
    --atscale-version, that version's catalogue (I2022.4.1: six, no prune-result).

    Fields marked [parameters] are only named in the spec's parameter list (added by
    --full); * marks a value the spec does not state, chosen by atscale-mock.

    Examples:

      atscale-mock events --json

      atscale-mock events --atscale-version I2022.4.1
    """
    from ..events.versions import catalogue

    in_catalogue(None, atscale_version)
    listed = catalogue(atscale_version)
    if json_out:
        print_json([_event_dict(e) for e in listed.events])
        return
    err(f"{listed.label}:")
    for e in listed.events:
        out(f"{e.name:<15} {e.event_type:<26} {e.trigger}")
        for f in e.fields:
            tag = "" if f.source == "example" else "  [parameters]"
            mark = " *" if f.note else ""
            out(f"    {f.path:<22} {'|'.join(f.json_type):<13}{tag}{mark}".rstrip())
    out(
        "\n[parameters]: not in the spec's example; added by --full or --set.  "
        "*: value not stated by the spec (see `events --json`)."
    )


@handle_errors
@payload_options
def show(
    event: EventArg,
    seed: Seed = None,
    atscale_version: AtscaleVersion = None,
    compact: Annotated[bool, typer.Option("--compact", help="The exact wire bytes.")] = False,
    payload_options: PayloadOptions = NO_PAYLOAD_OPTIONS,
) -> None:
    """Print one event's payload as JSON, without sending it.

    Example:

      atscale-mock show slow-query --seed 7 --set query_success=false
    """
    from ..events.make import payload as build

    in_catalogue(event, atscale_version)
    ev = resolve_event(event)
    payload = build(event, seed=seed, payload_options=payload_options)
    if compact:
        sys.stdout.write(encode(payload).decode() + "\n")
    else:
        print_json(payload)
    if payload_options.set:
        from ..events.schema import validation_errors

        for problem in validation_errors(ev, payload):
            err(f"warning: payload does not match the {ev.name} schema: {problem}")


@handle_errors
def schema(
    event: Annotated[str | None, typer.Argument(help="Event; all seven when omitted.")] = None,
    scenario: Annotated[
        bool, typer.Option("--scenario", help="The schema of scenario files instead, for editors.")
    ] = False,
    openapi: Annotated[
        bool,
        typer.Option("--openapi", help="An OpenAPI 3.1 document: every event under `webhooks:`."),
    ] = False,
    sign: Annotated[
        str | None,
        typer.Option(
            "--sign", metavar="MODE", help="With --openapi: document this scheme's headers."
        ),
    ] = None,
) -> None:
    """Print the JSON Schema (draft 2020-12) of an event's payload, of scenario files, or
    an OpenAPI 3.1 document of every event (for generating a receiver's models).

    Examples:

      atscale-mock schema batch-result > batch-result.schema.json

      atscale-mock schema --scenario > atscale-mock-scenario.schema.json

      atscale-mock schema --openapi --sign standard-webhooks > atscale-webhooks.json
    """
    from ..events.schema import all_schemas, event_schema

    if openapi:
        from ..events.openapi import openapi_document

        print_json(openapi_document(sign))
        return
    if sign:
        from ..errors import UsageError

        raise UsageError("--sign goes with --openapi")
    if scenario:
        from ..scenario.jsonschema import scenario_schema

        print_json(scenario_schema())
        return
    print_json(event_schema(resolve_event(event)) if event else all_schemas())
