"""One event's payload the way the library and every command make it: a seed given or a
fresh one, the clock given or a seeded one (so a seed alone gives byte-identical
output), ``--set`` paths checked against the catalogue. :func:`payload` is
``atscale_mock.payload``; ``batch_of`` ties a batch's events together."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from ..config import SEEDED_CLOCK
from .catalogue import Event
from .ids import new_seed
from .payload import PayloadOptions, build_payload, check_paths, parse_timestamp, resolve_event
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
    payload_options: PayloadOptions | None = None,
    set: Mapping[str, Any] | None = None,  # noqa: A002 - the CLI's --set
    full: bool | None = None,
    failed: bool | None = None,
    error: str | None = None,
    org: str | None = None,
    project: str | None = None,
    cube: str | None = None,
    slow_threshold: float | None = None,
    clock: str | datetime | None = None,
    atscale_version: str | None = None,
) -> dict[str, Any]:
    """One event's payload (CLI name or ``event_type``), as a dict in the wire shape, as
    ``atscale-mock show`` prints it: the same seed gives the same payload. How it is
    made is a :class:`PayloadOptions` record (``payload_options``); ``set`` (fields by
    dotted path), ``full``, ``failed``, ``error``, ``org``, ``project``, ``cube``,
    ``slow_threshold`` and ``clock`` are shortcuts for its fields (a shortcut given
    wins; ``set`` adds to the record's). ``atscale_version`` (``"I2022.4.1"``) refuses an
    event that version's catalogue does not have."""
    made = payload_of(
        payload_options,
        set=set,
        full=full,
        failed=failed,
        error=error,
        org=org,
        project=project,
        cube=cube,
        slow_threshold=slow_threshold,
        clock=clock,
    )
    ev, options, _ = prepared(event, seed, made, atscale_version)
    return build_payload(ev, resolve_seed(seed), options)


def payload_of(record: PayloadOptions | None, **shortcuts: Any) -> PayloadOptions:
    """The one place a :class:`PayloadOptions` record and the keywords that stand for its
    fields become one record: a keyword given (not None) wins; ``set`` adds its paths
    to the record's."""
    made = record or PayloadOptions()
    given = {k: v for k, v in shortcuts.items() if v is not None}
    if "set" in given:
        given["set"] = {**made.set, **given["set"]}
    return replace(made, **given) if given else made


def prepared(
    event: str, seed: int | None, options: PayloadOptions, atscale_version: str | None = None
) -> tuple[Event, PayloadOptions, bool]:
    """The event (refused when ``atscale_version``'s catalogue lacks it), the record
    ready to build with (``set`` paths checked, ``clock`` a time: the one given, else a
    fixed time when a ``seed`` is, else now; ``error`` implies ``failed``), and whether
    the clock is fixed (then a series of payloads steps it on, rather than reading now)."""
    ev = catalogue(atscale_version).require(resolve_event(event))
    check_paths(ev, list(options.set))
    fixed = resolve_clock(options.clock, seed is not None)
    ready = replace(
        options,
        set=dict(options.set),
        clock=fixed or datetime.now(UTC),
        failed=options.failed or options.error is not None,
    )
    return ev, ready, fixed is not None


def batch_of(started: dict[str, Any]) -> dict[str, Any]:
    """The overrides that make a batch-result or prune-result name the batch this
    batch-start payload started: its ``id``, project and cube."""
    return {
        "id": started["id"],
        "context.project_id": started["context"]["project_id"],
        "cube_id": started.get("cube_id"),
    }
