"""``send``: build N payloads of one event and deliver them at a rate. Library side of
the command; the CLI only parses options and prints."""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from .catalogue import Event
from .delivery import Attempt, RetryPolicy, deliver
from .errors import UsageError
from .faults import Faults, arrange
from .ids import derive_seed
from .outgoing import build_request, signing_hook
from .payload import BuildOptions, build_payload, lookup_key
from .sender import Outcome, Request, Sender
from .signing import Signer
from .stats import Summary

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.]*)\}")


def check_url(url: str, what: str = "--to") -> str:
    """A usable http(s) URL (placeholders allowed), or a UsageError saying why not."""
    parts = urlsplit(_PLACEHOLDER.sub("x", url))
    if parts.scheme not in ("http", "https"):
        shown = f"'{parts.scheme}'" if parts.scheme else "none"
        raise UsageError(
            f"{what}: unsupported URL scheme {shown} in {url!r}",
            "use http:// or https://, or 'local' for the built-in receiver",
        )
    try:
        port = parts.port
    except ValueError as exc:
        raise UsageError(f"{what}: bad port in {url!r}") from exc
    if not parts.hostname:
        raise UsageError(f"{what}: no host in {url!r}", "for example http://127.0.0.1:10502/hooks")
    del port
    return url


def fill_url(template: str, payload: dict[str, Any]) -> str:
    """Replace ``{org_id}``-style placeholders with the payload's values."""

    def one(match: re.Match[str]) -> str:
        key = match.group(1)
        try:
            return str(lookup_key(payload, key))
        except KeyError:
            raise UsageError(
                f"URL placeholder {{{key}}} is not a field of this payload",
                "placeholders name payload keys, e.g. {org_id} or {context.project_id}",
            ) from None

    return _PLACEHOLDER.sub(one, template)


def parse_header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip() or " " in name.strip():
        raise UsageError(
            f"--header expects 'Name: value', got {text!r}",
            "for example --header 'Authorization: Bearer TOKEN'",
        )
    return name.strip(), value.strip()


@dataclass(frozen=True, slots=True)
class SendPlan:
    event: Event
    url: str
    seed: int
    count: int = 1
    rate: float | None = None  # events per second; None: one after another
    options: BuildOptions = field(default_factory=BuildOptions)
    overrides: dict[str, Any] = field(default_factory=dict)
    headers: tuple[tuple[str, str], ...] = ()
    fixed_clock: bool = False  # True: options.clock (+ index/rate); False: now at build
    faults: Faults = field(default_factory=Faults)
    signer: Signer | None = None

    def payload(self, index: int) -> dict[str, Any]:
        if self.fixed_clock:
            step = index / self.rate if self.rate else 0.0
            options = replace(self.options, clock=self.options.clock + timedelta(seconds=step))
        else:
            options = replace(self.options, clock=datetime.now(UTC))
        return build_payload(
            self.event, derive_seed(self.seed, "send", index), options, self.overrides
        )


async def run_send(
    plan: SendPlan,
    sender: Sender,
    policy: RetryPolicy,
    summary: Summary,
    on_attempt: Callable[[Attempt], None] | None = None,
    monotonic: Callable[[], float] = time.monotonic,
) -> Summary:
    """Deliver ``plan.count`` payloads, the i-th no earlier than i/rate seconds in, with
    the plan's faults and signature; results accumulate in ``summary`` (so a caller
    still has them when interrupted). A dropped delivery is reported to ``on_attempt``
    as an attempt numbered 0 with the error class ``dropped``."""
    import asyncio

    rng = random.Random(plan.seed)
    fault_rng = random.Random(derive_seed(plan.seed, "faults"))
    slots = arrange(plan.count, plan.faults, fault_rng)
    cache: dict[int, dict[str, Any]] = {}
    start = monotonic()
    for position, slot in enumerate(slots):
        base = start + position / plan.rate if plan.rate else monotonic()
        wait = base + slot.delay - monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        payload = cache.get(slot.index) or plan.payload(slot.index)
        if plan.faults.duplicates:
            cache[slot.index] = payload
        label = str(slot.index + 1) if plan.count > 1 else ""
        request = build_request(
            plan.event.name,
            fill_url(plan.url, payload),
            payload,
            dict(plan.headers),
            slot,
            fault_rng,
        )
        if slot.dropped:
            summary.dropped += 1
            if on_attempt:
                on_attempt(dropped_attempt(request, payload, label))
            continue
        attempts = await deliver(
            sender,
            request,
            policy,
            payload=payload,
            rng=rng,
            on_attempt=on_attempt,
            label=label,
            prepare=signing_hook(plan.signer),
        )
        summary.add(attempts)
    return summary


def dropped_attempt(request: Request, payload: Any, label: str) -> Attempt:
    return Attempt(
        request,
        0,
        time.time(),
        Outcome(None, 0.0, "dropped", "dropped by fault injection"),
        payload,
        label,
    )
