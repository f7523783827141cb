"""One event's payload the way the library and every command make it: a seed given or a
fresh one, the clock given or a seeded one (so a seed alone gives byte-identical
output), ``--set`` paths checked against the catalogue. :func:`payload` is
``atscale_mock.payload``; ``batch_of`` ties a batch's events together."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ..config import SEEDED_CLOCK
from .catalogue import SLOW_QUERY_THRESHOLD_S, Event
from .ids import new_seed
from .payload import BuildOptions, build_payload, check_paths, parse_timestamp, resolve_event
from .versions import catalogue


def resolve_seed(seed: int | None) -> int:
    """The seed given, or a new random one (reported in every result)."""
    return new_seed() if seed is None else seed


def resolve_clock(clock: str | datetime | None, seeded: bool) -> datetime | None:
    """The fixed time of generated payloads: ``clock``, else the seeded default when a
    seed was given (so output is byte-identical), else None (now, at each build).
    ``clock="now"`` asks for the time of each build even with a seed."""
    if clock == "now":
        return None
    if isinstance(clock, datetime):
        return clock.astimezone(UTC)
    if clock:
        return parse_timestamp(clock)
    return parse_timestamp(SEEDED_CLOCK) if seeded else None


def payload(
    event: str,
    *,
    seed: int | None = None,
    set: Mapping[str, Any] | None = None,  # noqa: A002 - the CLI's --set
    full: bool = False,
    failed: bool = False,
    error: str | None = None,
    org: str | None = None,
    project: str | None = None,
    cube: str | None = None,
    slow_threshold: float = SLOW_QUERY_THRESHOLD_S,
    clock: str | datetime | None = None,
    atscale_version: str | None = None,
) -> dict[str, Any]:
    """One event's payload (CLI name or ``event_type``), as a dict in the wire shape, as
    ``atscale-mock show`` prints it: the same seed gives the same payload; ``set``
    overrides fields by dotted path. ``atscale_version`` (``"I2022.4.1"``) refuses an
    event that version's catalogue does not have."""
    ev, options, overrides, _ = payload_inputs(
        event,
        seed,
        set,
        full,
        failed,
        error,
        org,
        project,
        cube,
        slow_threshold,
        clock,
        atscale_version=atscale_version,
    )
    return build_payload(ev, resolve_seed(seed), options, overrides)


def payload_inputs(
    event: str,
    seed: int | None,
    sets: Mapping[str, Any] | None,
    full: bool,
    failed: bool,
    error: str | None,
    org: str | None,
    project: str | None,
    cube: str | None,
    slow_threshold: float,
    clock: str | datetime | None,
    *,
    atscale_version: str | None = None,
) -> tuple[Event, BuildOptions, dict[str, Any], bool]:
    ev = catalogue(atscale_version).require(resolve_event(event))
    overrides = dict(sets or {})
    check_paths(ev, list(overrides))
    fixed = resolve_clock(clock, seed is not None)
    options = BuildOptions(
        clock=fixed or datetime.now(UTC),
        full=full,
        failed=failed or error is not None,
        error=error,
        slow_threshold=slow_threshold,
        org=org,
        project=project,
        cube=cube,
    )
    return ev, options, overrides, fixed is not None


def batch_of(started: dict[str, Any]) -> dict[str, Any]:
    """The overrides that make a batch-result or prune-result name the batch this
    batch-start payload started: its ``id``, project and cube."""
    return {
        "id": started["id"],
        "context.project_id": started["context"]["project_id"],
        "cube_id": started.get("cube_id"),
    }
