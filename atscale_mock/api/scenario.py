"""Scenario files from Python: ``run()``/``arun()`` send one through the one dispatch
loop, ``plan()`` shows what it would send. Precedence: argument > scenario file >
named default."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..aliases import JSON, Target, Transport
from ..delivery.faults import Faults
from ..delivery.retry import OnAttempt
from ..errors import UsageError
from .options import (
    Delivery,
    Headers,
    Retry,
    Signing,
    delivery_of,
    normalise_headers,
    resolve_clock,
    resolve_seed,
)
from .target import resolve_target
from .twins import same_keywords

if TYPE_CHECKING:
    from ..receiver.local import Received
    from ..scenario.model import Scenario
    from ..scenario.result import DeliveryResult, RunResult


def read(
    scenario: str | Path | Scenario,
    vars: Mapping[str, JSON] | None = None,  # noqa: A002 - the CLI's --var
    time_scale: float | None = None,
    environ: Mapping[str, str] | None = None,
    atscale_version: str | None = None,
) -> Scenario:
    """A scenario from a path, YAML text (anything with a newline) or a Scenario.
    ``${env:...}`` and ``${secret:...}`` read ``environ`` (default: ``os.environ``).
    ``atscale_version`` replaces the file's ``defaults: atscale_version``; a step whose
    event that version does not have is a UsageError naming the step."""
    from ..scenario.model import Scenario as Model
    from ..scenario.reading import parse_scenario, read_scenario

    if isinstance(scenario, Model):
        loaded = scenario
    elif isinstance(scenario, str) and "\n" in scenario:
        loaded = parse_scenario(scenario.encode(), "<text>", environ, var_overrides=vars)
    else:
        loaded = read_scenario(scenario, environ, var_overrides=vars)
    if atscale_version is not None:
        loaded = in_version(loaded, atscale_version)
    return replace(loaded, time_scale=time_scale) if time_scale is not None else loaded


def in_version(scenario: Scenario, atscale_version: str) -> Scenario:
    """``scenario`` judged by AtScale ``atscale_version``'s catalogue: every event step's
    event checked (a UsageError names the first step that version cannot send)."""
    from ..events.versions import catalogue

    judged_by = catalogue(atscale_version)
    for step in scenario.event_steps():
        if not judged_by.has(step.event):
            raise judged_by.refuse(step.event, f"{scenario.file}: step '{step.id}': ")
    defaults = replace(scenario.defaults, atscale_version=atscale_version)
    return replace(scenario, defaults=defaults)


def seed_and_clock(scenario: Scenario, seed: int | None) -> tuple[int, datetime]:
    given = seed if seed is not None else scenario.defaults.seed
    fixed = resolve_clock(scenario.clock, given is not None)
    return resolve_seed(given), fixed or datetime.now(UTC)


def plan(
    scenario: str | Path | Scenario,
    *,
    seed: int | None = None,
    vars: Mapping[str, JSON] | None = None,  # noqa: A002
    to: str | None = None,
    time_scale: float | None = None,
    atscale_version: str | None = None,
) -> dict[str, Any]:
    """The timeline and every payload, without sending (the ``plan --json`` document)."""
    from ..scenario.plan import plan_document

    loaded = read(scenario, vars, time_scale, atscale_version=atscale_version)
    run_seed, clock = seed_and_clock(loaded, seed)
    return plan_document(loaded, run_seed, clock, to or loaded.defaults.to)


async def arun(
    scenario: str | Path | Scenario,
    *,
    to: Target | None = None,
    seed: int | None = None,
    vars: Mapping[str, JSON] | None = None,  # noqa: A002
    time_scale: float | None = None,
    atscale_version: str | None = None,
    delivery: Delivery | None = None,
    retries: int | Retry | None = None,
    timeout: float | None = None,
    headers: Headers = None,
    sign: Signing | None = None,
    faults: Faults | None = None,
    verify: bool | str | None = None,
    max_in_flight: int | None = None,
    transport: Transport | None = None,
    on_attempt: OnAttempt | None = None,
    on_result: Callable[[DeliveryResult], None] | None = None,
    on_received: Callable[[Received], None] | None = None,
    on_local: Callable[[str], None] | None = None,
    path: str = "/",
    keep_results: bool = True,
) -> RunResult:
    """Run a scenario (a path, YAML text or a Scenario) against ``to`` (else the file's
    ``defaults.to``; ``"local"`` for the built-in receiver; an ASGI or WSGI app object,
    in process, at route ``path``). ``retries`` and ``timeout``
    override the file's defaults, ``headers`` are added to its ``defaults.headers``
    (replacing one of the same name), ``faults`` (when any is active) its ``faults:``
    section. A cancelled run returns what it did, marked ``interrupted``.
    ``keep_results=False`` keeps the counts but not the per-delivery ``results`` (memory
    that does not grow with the run: for millions of deliveries and no report).
    ``atscale_version`` replaces the file's ``defaults: atscale_version`` (a step whose
    event that version does not have is a UsageError; an engine simulation sends only
    that version's events). ``delivery`` is the :class:`Delivery` record; the keywords
    of its fields are shortcuts (a given one wins); what neither sets (a field left at
    ``Delivery()``'s default) comes from the file."""
    import random

    from ..delivery.pipeline import Pipeline
    from ..scenario.runner import Runner
    from .send_plan import in_process

    loaded = read(scenario, vars, time_scale, atscale_version=atscale_version)
    run_seed, clock = seed_and_clock(loaded, seed)
    how = delivery_of(
        delivery,
        retries=retries,
        timeout=timeout,
        headers=headers,
        sign=sign,
        faults=faults,
        verify=verify,
        max_in_flight=max_in_flight,
        transport=transport,
    )
    # precedence: argument (a shortcut, or a field the record sets) > file > default
    if timeout is None and not how.given("timeout"):
        how = replace(how, timeout=loaded.defaults.timeout)
    if retries is None and not how.given("retry"):
        how = replace(how, retry=Retry(loaded.defaults.retries))
    if not how.faults.active:
        how = replace(how, faults=loaded.faults)
    given: str | None = None
    if to is not None:  # an app object: its in-process URL and transport
        given, how = in_process(to, path, how)
    url = given or loaded.defaults.to
    if not url:
        raise UsageError("no receiver URL", "give to= (or 'local'), or set defaults.to")
    _check_step_signing(loaded, how.sign)
    with resolve_target(url, on_received, on_local) as resolved:
        async with Pipeline(how.timeout, how.verify, how.transport, resolved) as pipeline:
            loop = pipeline.loop(
                how.retry,
                how.sign if how.sign else None,
                on_attempt,
                max_in_flight=how.max_in_flight,
                rng=random.Random(run_seed),
            )
            runner = Runner(
                loaded,
                run_seed,
                clock,
                resolved,
                loop,
                _merged_headers(loaded.defaults.headers, how.headers),
                on_result=on_result,
                faults=how.faults,
                keep_results=keep_results,
            )
            return await runner.run()


def _merged_headers(file: Mapping[str, str], given: Headers) -> dict[str, str]:
    """The file's default headers with the given ones on top (names case-insensitive)."""
    extra = normalise_headers(given)
    if not extra:
        return dict(file)
    names = {k.lower() for k, _ in extra}
    return {**{k: v for k, v in file.items() if k.lower() not in names}, **dict(extra)}


@same_keywords(arun)
def run(scenario: str | Path | Scenario, **options: Any) -> RunResult:
    """:func:`arun` for synchronous code, with the same keywords (it runs its own event
    loop; Ctrl-C ends the run early, and the result says ``interrupted``)."""
    import asyncio

    return asyncio.run(arun(scenario, **options))


def _check_step_signing(scenario: Scenario, sign: Signing | None) -> None:
    """A step's bad or stale signature needs the run to sign (and stale needs
    standard-webhooks): said before anything is sent."""
    for step in scenario.event_steps():
        if (step.bad_signature or step.stale_timestamp) and step.sign:
            if sign is None:
                raise UsageError(
                    f"step {step.id!r}: bad_signature and stale_timestamp need signing",
                    "run it signed: --sign MODE --secret KEY on the command line "
                    "(sign=Signing(...) from Python)",
                )
            if step.stale_timestamp and sign.scheme != "standard-webhooks":
                raise UsageError(
                    f"step {step.id!r}: stale_timestamp needs standard-webhooks signing",
                    "hmac-sha256 signs the body alone: it has no timestamp to back-date",
                )
