"""Option declarations shared by several commands (Annotated aliases, one definition)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ..catalogue import Event
from ..payload import BuildOptions, check_paths, parse_assignment
from .common import now, resolve_clock

Seed = Annotated[
    int | None,
    typer.Option(
        "--seed", min=0, help="Seed for generated values; the same seed gives the same output."
    ),
]
Sets = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="PATH=VALUE",
        help="Override a field by dotted path (context.project_id=...). VALUE is JSON when it "
        "parses (true, null, 3.5), else a string. Repeatable.",
    ),
]
Full = Annotated[
    bool, typer.Option("--full", help="Add the documented parameters the spec's example omits.")
]
Failed = Annotated[
    bool,
    typer.Option(
        "--failed",
        help="The failure variant: batch-result error text, schema-publish "
        "status=failure, slow-query query_success=false.",
    ),
]
ErrorText = Annotated[
    str | None,
    typer.Option("--error", metavar="TEXT", help="batch-result: fail with this error text."),
]
Org = Annotated[str | None, typer.Option("--org", help='Pin org_id (default: "default").')]
Project = Annotated[str | None, typer.Option("--project", help="Pin project_id.")]
Cube = Annotated[str | None, typer.Option("--cube", help="Pin cube_id.")]
SlowThreshold = Annotated[
    float,
    typer.Option(
        "--slow-threshold",
        min=0.0,
        metavar="SECONDS",
        help="slow-query: generated time_taken is at least this.",
    ),
]
Clock = Annotated[
    str | None,
    typer.Option(
        "--clock",
        metavar="ISO8601",
        help="Time of the events (finished_at). Default: now; with --seed, "
        "2021-12-07T15:44:07.077397Z so output is byte-identical.",
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]


def payload_inputs(
    event: Event,
    *,
    seeded: bool,
    sets: list[str] | None,
    full: bool,
    failed: bool,
    error: str | None,
    org: str | None,
    project: str | None,
    cube: str | None,
    slow_threshold: float,
    clock: str | None,
) -> tuple[BuildOptions, dict[str, Any], bool]:
    """BuildOptions and overrides from the shared options; the bool says whether the
    clock is fixed (else each payload takes the time it is built)."""
    overrides = dict(parse_assignment(s) for s in sets or [])
    check_paths(event, list(overrides))
    fixed = resolve_clock(clock, seeded)
    options = BuildOptions(
        clock=fixed or now(),
        full=full,
        failed=failed or error is not None,
        error=error,
        slow_threshold=slow_threshold,
        org=org,
        project=project,
        cube=cube,
    )
    return options, overrides, fixed is not None
