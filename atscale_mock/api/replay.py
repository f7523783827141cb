"""Re-send recorded deliveries (a ``--log`` file or a ``receive --record`` file) through
the one dispatch loop: the same bodies byte for byte, the recorded headers that were
not redacted, and, when asked, new headers and a fresh signature."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import DEFAULT_TIMEOUT
from ..delivery.dispatch import Job, Prepared
from ..delivery.request import build_request
from ..delivery.retry import OnAttempt
from ..delivery.signing import SIGNATURE_HEADERS
from .options import Retry, Signing
from .results import SendResult
from .send_plan import (
    Collector,
    Delivery,
    Headers,
    dispatch_all,
    normalise_headers,
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
) -> Iterator[Job]:
    first: float | None = None  # the first record's time: the others' gaps count from it
    # recorded headers give way to the ones given, and when signing again, the old
    # signature (which cannot verify) to the new one
    skip = {name.lower() for name, _ in headers}
    if sign is not None:
        skip |= SIGNATURE_HEADERS | {sign.header.lower()}
    for i, r in enumerate(recorded):
        kept = [(k, v) for k, v in r.headers if k.lower() not in skip]
        msg_id = None if new_ids else dict((k.lower(), v) for k, v in r.headers).get("webhook-id")
        request = build_request(r.event, url, None, dict(kept + list(headers)), body=r.body)
        request = replace(request, faults=("replayed",))
        prepared = Prepared(request, None, r.label or str(i + 1), msg_id=msg_id)
        first = r.time if first is None else first
        due = start + (r.time - first) if keep_timing else None
        collect.extra["replayed"] = i + 1
        yield Job(due, _constant(prepared), collect.done)


def _constant(prepared: Prepared) -> Callable[[], Prepared]:
    return lambda: prepared


def replay(
    file: str | Path,
    *,
    to: str,
    only_failed: bool = False,
    keep_timing: bool = False,
    headers: Headers = None,
    sign: Signing | None = None,
    new_ids: bool = False,
    retries: int | Retry = 0,
    timeout: float = DEFAULT_TIMEOUT,
    verify: bool | str = True,
    transport: Any = None,
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
    ``on_warning`` hears of them. The file is read as it is sent (a 1 GB log starts
    at once, in bounded memory); a bad line stops the replay there with a UsageError
    naming it (what was sent before it went through ``on_attempt``). Ctrl-C ends it
    early, marked ``interrupted``."""
    from ..recording import check_timing, stream_recording

    path = Path(file)
    if keep_timing:  # every time checked before the first send (one pass, no records kept)
        for _ in check_timing(path, stream_recording(path)):
            pass

    def recorded() -> Iterator[Recorded]:
        records = stream_recording(path, on_warning, finals=only_failed)
        return (r for r in records if not r.ok) if only_failed else records

    collect = Collector(keep_records, None, {"file": str(file), "replayed": 0})
    how = Delivery(retries, sign, timeout, verify, 1, transport, on_attempt)
    pairs = normalise_headers(headers)

    async def main() -> None:
        with resolve_target(to, on_received, on_local) as url:

            def jobs(start: float) -> Iterator[Job]:
                return _jobs(start, recorded(), url, pairs, sign, new_ids, keep_timing, collect)

            await dispatch_all([(jobs, False, None)], collect, how, url)

    return collect.result(run_interruptible(main))
