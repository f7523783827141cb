"""Re-send recorded deliveries (a ``--log`` file or a ``receive --record`` file) through
the one dispatch loop: the same bodies byte for byte, the recorded headers that were
not redacted, and, when asked, new headers and a fresh signature."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..aliases import Transport
from ..delivery.dispatch import Copies, Job, Prepared
from ..delivery.faults import Faults, Slot, arrange_items
from ..delivery.request import build_request
from ..delivery.retry import OnAttempt
from ..delivery.signing import SIGNATURE_HEADERS
from ..events.ids import derive_seed
from .options import Delivery, Headers, Retry, Signing, delivery_of, resolve_seed
from .results import SendResult
from .send_plan import (
    Collector,
    dispatch_all,
    run_interruptible,
)
from .target import resolve_target

if TYPE_CHECKING:
    from ..receiver.local import Received
    from ..recording import Recorded


def _jobs(
    start: float,
    recorded: Iterable[Recorded],
    url: str,
    headers: tuple[tuple[str, str], ...],
    sign: Signing | None,
    new_ids: bool,
    keep_timing: bool,
    collect: Collector,
    faults: Faults,
    seed: int,
) -> Iterator[Job]:
    """The recorded deliveries as jobs, through the same fault arrangement as send's
    (duplicates, drops, reordering within a window, delays, malformed bodies), made as
    the file is read."""
    first: float | None = None  # the first record's time: the others' gaps count from it
    # recorded headers give way to the ones given, and when signing again, the old
    # signature (which cannot verify) to the new one
    skip = {name.lower() for name, _ in headers}
    if sign is not None:
        skip |= SIGNATURE_HEADERS | {sign.header.lower()}
    rng = random.Random(derive_seed(seed, "faults"))
    copies = Copies()
    sent = 0

    def prepared(r: Recorded, slot: Slot) -> Prepared:
        kept = [(k, v) for k, v in r.headers if k.lower() not in skip]
        msg_id = None if new_ids else dict((k.lower(), v) for k, v in r.headers).get("webhook-id")
        merged = dict(kept + list(headers))
        request = build_request(r.event, url, None, merged, slot, rng, body=r.body)
        request = replace(request, faults=("replayed", *request.faults))
        return Prepared(request, None, r.label or str(slot.index + 1), slot.dropped, msg_id=msg_id)

    for slot, r, timed in arrange_items(recorded, faults, rng):

        def build(slot: Slot = slot, r: Recorded = r) -> Prepared:
            return copies.take(slot.index, slot, lambda: prepared(r, slot))

        first = timed.time if first is None else first
        due = start + (timed.time - first) + slot.delay if keep_timing else None
        if not slot.duplicate:
            sent += 1
            collect.extra["replayed"] = sent
        yield Job(due, build, collect.done, delay=0.0 if keep_timing else slot.delay)


def _constant(prepared: Prepared) -> Callable[[], Prepared]:
    return lambda: prepared


def replay(
    file: str | Path,
    *,
    to: str,
    only_failed: bool = False,
    keep_timing: bool = False,
    delivery: Delivery | None = None,
    headers: Headers = None,
    sign: Signing | None = None,
    new_ids: bool = False,
    retries: int | Retry | None = None,
    faults: Faults | None = None,
    seed: int | None = None,
    timeout: float | None = None,
    verify: bool | str | None = None,
    transport: Transport | None = None,
    on_attempt: OnAttempt | None = None,
    on_received: Callable[[Received], None] | None = None,
    on_local: Callable[[str], None] | None = None,
    on_warning: Callable[[str], None] | None = None,
    keep_records: bool = True,
) -> SendResult:
    """Re-send the deliveries recorded in ``file`` to ``to``, in order (``keep_timing``:
    with the original gaps). ``headers`` are added (replacing recorded ones of the same
    name); ``sign`` signs each again with a fresh timestamp, keeping the recorded
    ``webhook-id`` unless ``new_ids``. Redacted headers cannot be replayed:
    ``on_warning`` hears of them. ``faults`` apply as in :func:`send` (seeded by
    ``seed``): a duplicate is the same bytes and ``webhook-id`` again. The file is
    read as it is sent (a 1 GB log starts at once, in bounded memory); a bad line
    stops the replay there with a UsageError naming it (what was sent before it went
    through ``on_attempt``). Ctrl-C ends it early, marked ``interrupted``. ``delivery``
    is the :class:`Delivery` record; the keywords of its fields are shortcuts (a given
    one wins); one delivery is in flight at a time, whatever its ``max_in_flight``."""
    from ..recording import check_timing, stream_recording

    path = Path(file)
    if keep_timing:  # every time checked before the first send (one pass, no records kept)
        for _ in check_timing(path, stream_recording(path)):
            pass

    def recorded() -> Iterator[Recorded]:
        records = stream_recording(path, on_warning, finals=only_failed)
        return (r for r in records if not r.ok) if only_failed else records

    run_seed = resolve_seed(seed)
    collect = Collector(keep_records, run_seed, {"file": str(file), "replayed": 0})
    how = delivery_of(
        delivery,
        headers=headers,
        sign=sign,
        retries=retries,
        faults=faults,
        timeout=timeout,
        verify=verify,
        transport=transport,
        max_in_flight=1,  # in order, as recorded
    )

    async def main() -> None:
        with resolve_target(to, on_received, on_local) as url:

            def jobs(start: float) -> Iterator[Job]:
                return _jobs(
                    start, recorded(), url, how.headers, how.sign, new_ids, keep_timing,
                    collect, how.faults, run_seed,
                )  # fmt: skip

            await dispatch_all([(jobs, False, None)], collect, how, url, on_attempt)

    return collect.result(run_interruptible(main))
