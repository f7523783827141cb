"""``send``: build N payloads of one event and deliver them at a rate. Library side of
the command; the CLI only parses options and prints."""

from __future__ import annotations

import json
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
from .ids import derive_seed
from .payload import BuildOptions, build_payload, lookup_key
from .sender import Request, Sender
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


def encode(payload: Any) -> bytes:
    """The wire body: compact JSON in the payload's key order."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


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
    """Deliver ``plan.count`` payloads, the i-th no earlier than i/rate seconds in;
    results accumulate in ``summary`` (so a caller still has them when interrupted)."""
    import asyncio

    rng = random.Random(plan.seed)
    start = monotonic()
    for index in range(plan.count):
        if plan.rate:
            delay = start + index / plan.rate - monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        payload = plan.payload(index)
        request = Request(
            plan.event.name, fill_url(plan.url, payload), encode(payload), plan.headers
        )
        attempts = await deliver(
            sender,
            request,
            policy,
            payload=payload,
            rng=rng,
            on_attempt=on_attempt,
            label=str(index + 1) if plan.count > 1 else "",
        )
        summary.add(attempts)
    return summary
