"""Option declarations shared by several commands (Annotated aliases, one definition)."""

from __future__ import annotations

from typing import Annotated

import typer

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
MaxTime = Annotated[
    float | None,
    typer.Option(
        "--max-time",
        metavar="SECONDS",
        help="Stop the whole command after this long: what is in flight is logged as "
        "interrupted, the summary is printed, exit 1.",
    ),
]
