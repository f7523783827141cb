"""One payload you already have, delivered to one URL through the one dispatch loop:
what ``serve`` uses to fan an event out to its subscriptions (each gets the same
payload, its own headers, signing, retries and timeout)."""

from __future__ import annotations

from ..aliases import JSON, Transport
from ..delivery.dispatch import Job, Prepared
from ..delivery.request import build_request, fill_url
from ..delivery.retry import OnAttempt
from .options import Delivery, Headers, Retry, Signing, delivery_of, refuse_unused
from .results import DeliveryRecord
from .send_plan import Collector, dispatch_all


async def adeliver(
    event: str,
    payload: JSON,
    *,
    to: str,
    delivery: Delivery | None = None,
    headers: Headers = None,
    sign: Signing | None = None,
    retries: int | Retry | None = None,
    timeout: float | None = None,
    verify: bool | str | None = None,
    transport: Transport | None = None,
    on_attempt: OnAttempt | None = None,
    delivery_id: str | None = None,
    msg_id: str | None = None,
    label: str = "",
) -> DeliveryRecord:
    """Deliver ``payload`` (a dict in the wire shape, e.g. from :func:`payload`) of
    ``event`` to the URL ``to`` (``{org_id}``-style placeholders filled from it), with
    retries as given; ``delivery_id`` names the delivery in logs (its attempts share
    it), ``msg_id`` is the signature's ``webhook-id`` (the same across retries).
    ``transport`` may be a Sender of the caller's (kept open) or an httpx transport.
    Cancelling it records the attempt in flight as interrupted. ``delivery`` is the
    :class:`Delivery` record; the keywords of its fields are shortcuts (a given one wins);
    its ``faults`` are not for one delivery (refused)."""
    how = delivery_of(
        delivery,
        headers=headers,
        sign=sign,
        retries=retries,
        timeout=timeout,
        verify=verify,
        transport=transport,
    )
    refuse_unused(how, "adeliver", ("faults",))
    collect = Collector()
    url = fill_url(to, payload) if isinstance(payload, dict) else to
    request = build_request(event, url, payload, dict(how.headers))
    if delivery_id:
        from dataclasses import replace

        request = replace(request, id=delivery_id)
    prepared = Prepared(request, payload, label, msg_id=msg_id)

    def jobs(start: float) -> list[Job]:
        return [Job(None, lambda: prepared, collect.done)]

    await dispatch_all([(jobs, False, None)], collect, how, to, on_attempt)
    return collect.records[-1]
