"""The seven engine webhook events, as AtScale's "Engine Webhooks" page documents them.

Every field records where its existence comes from:

* ``example``    -- the key appears in the spec's example payload (and so in the
  default payload, in the example's order and nesting);
* ``parameters`` -- the key is only named in the event's "POST parameters" list;
  it is added by ``--full`` (or by ``--set`` on that path).

and, in ``note``, anything about its value that the spec does *not* state and that
atscale-mock therefore chose (every such choice can be overridden with ``--set``).
"""

from __future__ import annotations

import difflib

# the records the catalogue is made of (re-exported: most code takes them from here)
from .model import Event as Event
from .model import Field as Field
from .model import Kind as Kind
from .model import Source as Source

UUID = ("string",)
UUID_OR_NULL = ("string", "null")

#: Defaults the spec states in prose ("four seconds or more by default").
SLOW_QUERY_THRESHOLD_S = 4.0
SLOW_AGG_BUILD_THRESHOLD_MS = 4000


def _event_type(value: str) -> Field:
    return Field(
        "event_type",
        "event_type",
        ("string",),
        "example",
        f"Unique value for each event type; for this event, {value!r}.",
        const=value,
    )


def _batch_fields(extra: tuple[Field, ...]) -> tuple[Field, ...]:
    """The shape shared by the three aggregate batch events: id, context, ..., cube_id."""
    return (
        Field("id", "uuid", UUID, "example", "UUID of the batch."),
        Field(
            "context.org_id",
            "org",
            ("string",),
            "example",
            "UUID of the organization.",
            note='The example (and this tool) uses "default".',
        ),
        Field("context.project_id", "uuid", UUID, "example", "UUID of the project."),
        *extra,
        Field(
            "cube_id", "uuid", UUID_OR_NULL, "example", "UUID of the cube; null if not available."
        ),
    )


_CALLBACK_EXAMPLE = "http://localhost:10502/webhooks/debug/test-callback"

EVENTS: tuple[Event, ...] = (
    Event(
        "batch-start",
        "aggregate_batch_started",
        "Aggregate Batch Start",
        "A build of the aggregate tables of a published cube starts.",
        (
            _event_type("aggregate_batch_started"),
            *_batch_fields(
                (
                    Field(
                        "is_full_build",
                        "is_full_build",
                        ("boolean",),
                        "example",
                        "true: all aggregate instances are fully built; false: incrementally.",
                    ),
                )
            ),
        ),
    ),
    Event(
        "batch-result",
        "aggregate_batch_result",
        "Aggregate Batch Success/Failure",
        "The build of the aggregate tables of a published cube ends.",
        (
            _event_type("aggregate_batch_result"),
            *_batch_fields(
                (
                    Field(
                        "error",
                        "error",
                        ("string", "null"),
                        "example",
                        "Description of the error if the build failed; null if it succeeded.",
                        note="The spec gives no error text; generated texts are atscale-mock's.",
                    ),
                )
            ),
        ),
        failure="error becomes a description of the error",
    ),
    Event(
        "prune-result",
        "aggregate_prune_result",
        "Aggregate Prune Result",
        "Cubes of a published project exceed their limit on active aggregates.",
        (_event_type("aggregate_prune_result"), *_batch_fields(())),
    ),
    Event(
        "schema-publish",
        "publish_schema_response",
        "Schema Publish",
        "A project is created by pasting or uploading a project.xml or JSON file.",
        (
            _event_type("publish_schema_response"),
            Field(
                "callback_url",
                "callback_url",
                ("string",),
                "example",
                "Shown in the example only; the spec does not describe it.",
                const=_CALLBACK_EXAMPLE,
                note="Meaning undocumented; the example's value is used.",
            ),
            Field(
                "created_by_user",
                "username",
                ("string",),
                "example",
                "Shown in the example only; the user who created the project.",
                note="Meaning inferred from the name; values are generated user names.",
            ),
            Field(
                "org_id",
                "org",
                ("string",),
                "parameters",
                "UUID of the organization.",
                note="Placement not stated (the example omits it); placed flat like the example.",
            ),
            Field(
                "project_id",
                "uuid",
                UUID,
                "parameters",
                "UUID of the project.",
                note="Placement not stated (the example omits it); placed flat like the example.",
            ),
            Field(
                "schema_id",
                "same_as_project",
                UUID,
                "parameters",
                "UUID of the project.",
                note="The spec calls it the UUID of the project, so it equals project_id.",
            ),
            Field(
                "status",
                "schema_status",
                ("string",),
                "parameters",
                "Whether the creation of the project succeeded: success or failure.",
            ),
        ),
        failure="status becomes 'failure' (the field is added)",
    ),
    Event(
        "slow-query",
        "slow_query_event",
        "Slow Query",
        "A query's runtime meets or exceeds the slow-query threshold (4 s by default).",
        (
            _event_type("slow_query_event"),
            Field("query_id", "uuid", UUID, "example", "The UUID of the query."),
            Field(
                "finished_at",
                "timestamp",
                ("string",),
                "example",
                "The datetimestamp of when the query completed.",
            ),
            Field(
                "org_id",
                "org",
                ("string",),
                "example",
                "UUID of the organization.",
                note='The example (and this tool) uses "default".',
            ),
            Field(
                "query_success",
                "query_success",
                ("boolean",),
                "example",
                "T/F flag for whether or not the query was successful.",
            ),
            Field(
                "time_taken",
                "seconds",
                ("number",),
                "example",
                "The total time the query ran, in seconds.",
                note="Generated at or over the threshold (the example's 3.708 is under it).",
            ),
            Field("project_id", "uuid", UUID, "example", "UUID of the project."),
            Field(
                "cube_id",
                "uuid",
                UUID_OR_NULL,
                "example",
                "UUID of the cube; null if not available.",
            ),
        ),
        failure="query_success becomes false",
    ),
    Event(
        "slow-agg-build",
        "slow_agg_builds",
        "Slow Agg Builds",
        "An aggregate build is slow (4 s or more by default): successful, running or failed.",
        (
            Field(
                "type",
                "const",
                ("string",),
                "example",
                "The type of slow aggregate build event.",
                const="aggregate-build-completed-event",
                note="The spec names only this value; others are not documented.",
            ),
            Field(
                "status",
                "const",
                ("string",),
                "example",
                "The current status of the event.",
                const="done",
                note="The spec names only 'done'; others are not documented.",
            ),
            Field(
                "duration",
                "millis",
                ("integer",),
                "example",
                "The duration of the event, in milliseconds.",
            ),
            Field("instance_id", "uuid", UUID, "example", "The UUID of the aggregate instance."),
            Field(
                "definition_id", "uuid", UUID, "example", "The UUID of the aggregate definition."
            ),
            Field(
                "triggering_query_id",
                "uuid",
                UUID,
                "example",
                "The UUID of the query that triggered the aggregate build.",
            ),
            Field(
                "user_defined_id",
                "uuid",
                UUID,
                "parameters",
                "The UUID of the aggregate, if it is a user-defined aggregate.",
                note="Placement not stated; placed after triggering_query_id, as listed.",
            ),
            Field(
                "user_defined_name",
                "agg_name",
                ("string",),
                "parameters",
                "The name of the aggregate, if it is a user-defined aggregate.",
                note="Placement not stated; values are generated names.",
            ),
            Field(
                "message",
                "message",
                ("string",),
                "parameters",
                "An optional message associated with the aggregate.",
                note="Placement not stated; values are generated sentences.",
            ),
            Field(
                "org_id",
                "org",
                ("string",),
                "example",
                "UUID of the organization.",
                note='The example (and this tool) uses "default".',
            ),
            Field("project_id", "uuid", UUID, "example", "UUID of the project."),
            _event_type("slow_agg_builds"),
            Field(
                "cube_id",
                "uuid",
                UUID_OR_NULL,
                "example",
                "UUID of the cube; null if not available.",
            ),
        ),
    ),
    Event(
        "unpublish",
        "unpublish_schema_success",
        "Project Unpublish",
        "A project is unpublished from the engine.",
        (
            _event_type("unpublish_schema_success"),
            Field(
                "context.org_id",
                "org",
                ("string",),
                "example",
                "The organization.",
                note="The spec lists no POST parameters; the example shows this key.",
            ),
            Field(
                "context.project_id",
                "uuid",
                UUID,
                "example",
                "The unpublished project.",
                note="The spec lists no POST parameters; the example shows this key.",
            ),
        ),
    ),
)

_BY_NAME = {e.name: e for e in EVENTS} | {e.event_type: e for e in EVENTS}


def event_names() -> list[str]:
    return [e.name for e in EVENTS]


def find_event(name: str) -> Event | None:
    """The event with this CLI name or ``event_type``, or None."""
    return _BY_NAME.get(name.strip())


def suggest(word: str, candidates: list[str] | tuple[str, ...]) -> str | None:
    """The closest candidate to a mistyped word, for a did-you-mean."""
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


def event_suggestion(name: str) -> str | None:
    hit = suggest(name, list(_BY_NAME))
    event = find_event(hit) if hit else None
    return event.name if event else None
