"""Option declarations shared by several commands (Annotated aliases, one definition)."""

from __future__ import annotations

from typing import Annotated, Any

import typer


def _duration(value: Any, positive: bool) -> float:
    from ..scenario.units import parse_duration

    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        raise typer.BadParameter(f"expected {exc}, got {value!r}") from None
    if positive and seconds <= 0:
        raise typer.BadParameter(f"must be greater than zero, got {value!r}")
    return seconds


def DURATION(value: Any) -> float:  # noqa: N802 - read as a type in option declarations
    """One duration syntax on every option: ``500ms``, ``5s``, ``2m``, ``1h`` or a bare
    number of seconds (as scenarios and ``load -d`` write it)."""
    return _duration(value, False)


def POSITIVE_DURATION(value: Any) -> float:  # noqa: N802
    """A duration greater than zero."""
    return _duration(value, True)


def RATE(value: Any) -> float:  # noqa: N802
    """Events per second: ``10``, ``10/s``, ``600/m`` or ``2/h`` (the scenario syntax)."""
    from ..scenario.units import parse_rate_option

    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    try:
        return parse_rate_option(value)
    except ValueError as exc:
        text = str(exc)
        why = text.removeprefix("a rate ") if "must be" in text else f"expected {text}"
        raise typer.BadParameter(f"{why}, got {value!r}") from None


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
        metavar="DURATION",
        parser=DURATION,
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
#: --atscale-version on every command that builds or judges events
AtscaleVersion = Annotated[
    str | None,
    typer.Option(
        "--atscale-version",
        metavar="VERSION",
        envvar="ATSCALE_MOCK_ATSCALE_VERSION",
        help="The AtScale version whose event catalogue applies: I2022.4.1 (six events, "
        "no prune-result), I2023.4.1 and later (seven). Default: latest.",
    ),
]
#: -q on every command that prints a line per delivery, request, file or check
Quiet = Annotated[
    bool, typer.Option("--quiet", "-q", help="Print failures only, then the summary.")
]
MaxTime = Annotated[
    float | None,
    typer.Option(
        "--max-time",
        metavar="DURATION",
        parser=DURATION,
        help="Stop the whole command after this long: what is in flight is logged as "
        "interrupted, the summary is printed, exit 1.",
    ),
]


def complete_event(incomplete: str) -> list[str]:
    """Shell completion of event names (CLI names; event_type values too once typed)."""
    from ..events.catalogue import EVENTS

    names = [e.name for e in EVENTS] + [e.event_type for e in EVENTS]
    return [n for n in names if n.startswith(incomplete)]


def completer(values: tuple[str, ...]) -> Any:
    """Shell completion of an option's fixed values."""
    return lambda incomplete: [v for v in values if v.startswith(incomplete)]


EventArg = Annotated[
    str, typer.Argument(help="Event: CLI name or event_type.", autocompletion=complete_event)
]
