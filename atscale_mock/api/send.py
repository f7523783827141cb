"""One event, N times: ``payload()`` builds one, ``send()``/``asend()`` deliver N at a
rate through the one dispatch loop, ``demo()`` sends each of the seven once."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..aliases import JSON, Target, Transport
from ..delivery.faults import Faults
from ..delivery.retry import OnAttempt
from ..errors import UsageError
from ..events.make import batch_of, payload_of, prepared, resolve_clock, resolve_seed
from ..events.payload import PAYLOAD_KEYWORDS, PayloadOptions
from .options import Delivery, Headers, Retry, Signing, as_expect, as_rate, delivery_of
from .results import SendResult
from .send_plan import (
    Collector,
    SendPlan,
    deliver_plans,
    in_process,
    run_interruptible,
    shown,
)
from .target import resolve_target
from .twins import same_keywords

if TYPE_CHECKING:
    from ..receiver.local import Received


def send(
    event: str,
    *,
    to: Target,
    count: int = 1,
    rate: float | str | None = None,
    seed: int | None = None,
    payload_options: PayloadOptions | None = None,
    set: Mapping[str, JSON] | None = None,  # noqa: A002 - the CLI's --set
    full: bool | None = None,
    failed: bool | None = None,
    error: str | None = None,
    org: str | None = None,
    project: str | None = None,
    cube: str | None = None,
    slow_threshold: float | None = None,
    clock: str | datetime | None = None,
    atscale_version: str | None = None,
    delivery: Delivery | None = None,
    headers: Headers = None,
    timeout: float | None = None,
    retries: int | Retry | None = None,
    sign: Signing | None = None,
    faults: Faults | None = None,
    verify: bool | str | None = None,
    max_in_flight: int | None = None,
    transport: Transport | None = None,
    on_attempt: OnAttempt | None = None,
    on_received: Callable[[Received], None] | None = None,
    on_local: Callable[[str], None] | None = None,
    keep_records: bool = True,
    expect_status: str | list[str] | tuple[str, ...] | None = None,
    path: str = "/",
) -> SendResult:
    """Deliver ``count`` payloads of ``event`` (CLI name or ``event_type``) to ``to``: a
    URL (``{org_id}``-style placeholders are filled from each payload) or ``"local"``
    (the built-in receiver, for the call's duration). ``rate`` (events a second, or
    the CLI's spellings ``"20/s"``, ``"600/m"``) holds a
    schedule with up to ``max_in_flight`` deliveries in flight (None: one after
    another). ``on_attempt`` hears every attempt as it is made. Runs its own event loop
    (use :func:`asend` in async code); Ctrl-C ends it early with the result so far,
    marked ``interrupted``. ``to`` may also be an ASGI or WSGI app object (FastAPI,
    Starlette, Flask, Django's handlers): delivered in process, no server, to route
    ``path``. ``expect_status`` (``"401"``, ``"4xx"``, ``"401,403"``)
    makes a negative test: a delivery passes when its status is one of those, and
    ``ok`` means every delivery passed (by default: got a 2xx). How deliveries go out
    is a :class:`Delivery` record (``delivery``); ``headers``, ``timeout``, ``retries``,
    ``sign``, ``faults``, ``verify``, ``max_in_flight`` and ``transport`` are shortcuts
    for its fields (a shortcut given wins). How the payloads are made is a
    :class:`PayloadOptions` record (``payload_options``); ``set``, ``full``, ``failed``,
    ``error``, ``org``, ``project``, ``cube``, ``slow_threshold`` and ``clock`` are
    shortcuts for its fields, as in :func:`payload`. ``atscale_version``
    (``"I2022.4.1"``) refuses an event that version's catalogue does not have."""
    collect = Collector(keep_records, expect=as_expect(expect_status))
    options = dict(locals())
    for name in ("event", "to", "collect", "expect_status", "keep_records"):
        options.pop(name)
    interrupted = run_interruptible(lambda: _send(collect, event, to, **records(options)))
    return collect.result(interrupted)


@same_keywords(send)
async def asend(event: str, **options: Any) -> SendResult:
    """:func:`send` for async code, with the same keywords: deliver ``count`` payloads
    of ``event`` to ``to``. Cancelling it cancels the deliveries in flight (their
    attempts are recorded as interrupted) and raises CancelledError."""
    collect = Collector(
        options.pop("keep_records", True), expect=as_expect(options.pop("expect_status", None))
    )
    await _send(collect, event, options.pop("to"), **records(options))
    return collect.result()


DELIVERY_SHORTCUTS = (
    "headers",
    "timeout",
    "retries",
    "sign",
    "faults",
    "verify",
    "max_in_flight",
    "transport",
)


def records(options: dict[str, Any]) -> dict[str, Any]:
    """``send``'s keywords (those given: ``asend`` has only those) with the shortcuts
    folded into the two records they stand for: ``how`` (:class:`Delivery`) and
    ``made`` (:class:`PayloadOptions`)."""
    delivery = {k: options.pop(k, None) for k in DELIVERY_SHORTCUTS}
    how = delivery_of(options.pop("delivery", None), **delivery)
    payload = {k: options.pop(k, None) for k in PAYLOAD_KEYWORDS}
    made = payload_of(options.pop("payload_options", None), **payload)
    return {**options, "how": how, "made": made}


async def _send(
    collect: Collector,
    event: str,
    to: Target,
    *,
    how: Delivery,
    made: PayloadOptions,
    count: int = 1,
    rate: float | str | None = None,
    seed: int | None = None,
    atscale_version: str | None = None,
    on_attempt: OnAttempt | None = None,
    on_received: Callable[[Received], None] | None = None,
    on_local: Callable[[str], None] | None = None,
    path: str = "/",
) -> None:
    if count < 1:
        raise UsageError(f"count must be at least 1, got {count}")
    rate = as_rate(rate)
    ev, options, fixed = prepared(event, seed, made, atscale_version)
    collect.seed = run_seed = resolve_seed(seed)
    to, how = in_process(to, path, how)
    collect.extra = {"event": ev.name, "url": shown(to)}
    with resolve_target(to, on_received, on_local) as url:
        plan = SendPlan(ev, url, run_seed, count, rate, options, how.headers, fixed, how.faults)
        await deliver_plans([plan], collect, how, on_attempt)


def demo(
    *,
    to: str = "local",
    seed: int | None = None,
    clock: str | datetime | None = None,
    full: bool = False,
    atscale_version: str | None = None,
    on_attempt: OnAttempt | None = None,
    on_received: Callable[[Received], None] | None = None,
    on_local: Callable[[str], None] | None = None,
) -> SendResult:
    """Each event of the catalogue once (the seven; six for ``atscale_version``
    ``"I2022.4.1"``), to ``to`` (default: the built-in receiver). The
    batch result and the prune result belong to the batch that started (same ``id``,
    project and cube), so a receiver that checks ordering sees one coherent batch."""
    from ..events.versions import catalogue

    EVENTS = catalogue(atscale_version).events  # noqa: N806 - the catalogue's events
    run_seed = resolve_seed(seed)
    fixed = resolve_clock(clock, seed is not None)
    options = PayloadOptions(clock=fixed or datetime.now(UTC), full=full)
    collect = Collector(seed=run_seed, extra={"events": [e.name for e in EVENTS]})

    async def main() -> None:
        with resolve_target(to, on_received, on_local) as url:
            plans = [
                SendPlan(e, url, run_seed + i, options=options, fixed_clock=fixed is not None)
                for i, e in enumerate(EVENTS)
            ]
            plans = _one_lifecycle(plans)
            await deliver_plans(plans, collect, Delivery(), on_attempt)

    return collect.result(run_interruptible(main))


def _one_lifecycle(plans: list[SendPlan]) -> list[SendPlan]:
    """The batch-result and prune-result plans made to name the batch-start's batch."""
    start = next((p for p in plans if p.event.name == "batch-start"), None)
    if start is None:
        return plans
    shared = batch_of(start.payload(0))
    return [
        replace(p, options=replace(p.options, set={**shared, **p.options.set}))
        if p.event.name in ("batch-result", "prune-result")
        else p
        for p in plans
    ]
