"""The records ``serve`` keeps (subscriptions, engine faults, runs), validated from
JSON bodies with errors that name the field (the API answers them with 422)."""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from ..api.options import Retry, Signing
from ..api.send_plan import shown
from ..config import DEFAULT_TIMEOUT
from ..errors import AtscaleMockError
from ..events.catalogue import EVENTS, Event
from ..events.payload import PAYLOAD_KEYWORDS, PayloadOptions

MAX_TIMEOUT = 300.0
FAULT_ACTIONS = ("fail", "drop", "delay")


class FieldError(Exception):
    """A request body problem: ``field`` is a dotted path into the body."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


@dataclass(frozen=True, slots=True)
class Subscription:
    """A webhook as AtScale configures one: a URL and the events it receives."""

    id: str
    url: str
    events: tuple[str, ...]  # CLI names
    project_id: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    signing: Signing | None = None
    retry: Retry = field(default_factory=Retry)
    timeout: float = DEFAULT_TIMEOUT
    org_id: str | None = None  # only this org's events (AtScale's API makes one per org)

    def wants(self, event: Event, payload: dict[str, Any]) -> bool:
        if event.name not in self.events:
            return False
        context = payload.get("context") or {}
        if self.org_id is not None and self.org_id not in (
            payload.get("org_id"),
            context.get("org_id"),
        ):
            return False
        if self.project_id is None:
            return True
        return bool(self.project_id in (context.get("project_id"), payload.get("project_id")))

    def public(self) -> dict[str, Any]:
        """As ``GET /_mock/webhooks`` shows it: secrets never, header values masked."""
        from ..redact import MASK, is_sensitive_header

        return {
            "id": self.id,
            "url": shown(self.url),
            "events": list(self.events),
            "project_id": self.project_id,
            "org_id": self.org_id,
            "headers": {k: MASK if is_sensitive_header(k) else v for k, v in self.headers},
            "signing": self._signing(),
            "retry": {
                "retries": self.retry.retries,
                "schedule": list(self.retry.schedule),
            },
            "timeout": self.timeout,
        }

    def _signing(self) -> dict[str, str] | None:
        if self.signing is None:
            return None
        shown = {"scheme": self.signing.scheme, "secret": "***"}
        if self.signing.scheme == "hmac-sha256":
            shown["header"] = self.signing.header
        return shown


def _obj(body: Any, name: str = "body") -> dict[str, Any]:
    if not isinstance(body, dict):
        raise FieldError(name, "expected a JSON object")
    return body


def _known(body: dict[str, Any], allowed: tuple[str, ...], prefix: str = "") -> None:
    from ..events.catalogue import suggest

    for key in body:
        if key not in allowed:
            hint = suggest(str(key), allowed)
            extra = f" (did you mean {hint!r}?)" if hint else f"; known: {', '.join(allowed)}"
            raise FieldError(prefix + str(key), f"unknown field{extra}")


def _number(value: Any, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise FieldError(name, f"expected a number, got {value!r}")
    if not low <= value <= high:
        raise FieldError(name, f"must be from {low:g} to {high:g}, got {value!r}")
    return float(value)


def event_names(value: Any, name: str = "events") -> tuple[str, ...]:
    """CLI names or ``event_type``s (default: all seven) as CLI names."""
    from ..events.catalogue import find_event

    if value is None:
        return tuple(e.name for e in EVENTS)
    if not isinstance(value, list) or not value:
        raise FieldError(name, "expected a non-empty list of event names")
    out = []
    for i, item in enumerate(value):
        event = find_event(item) if isinstance(item, str) else None
        if event is None:
            raise FieldError(
                f"{name}[{i}]",
                f"unknown event {item!r}; events: " + ", ".join(e.name for e in EVENTS),
            )
        out.append(event.name)
    return tuple(dict.fromkeys(out))


def _wait(value: Any) -> str:
    """One wait of a ``retry.schedule`` list: seconds (a number) or a duration."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise FieldError("retry.schedule", f"expected seconds or a duration, got {value!r}")
    return f"{value}s" if isinstance(value, int | float) else value


def subscription(body: Any) -> Subscription:
    """A Subscription from a ``POST /_mock/webhooks`` body."""
    from ..delivery.headers import check_header, check_name
    from ..delivery.request import check_url

    body = _obj(body)
    _known(
        body, ("url", "events", "project_id", "org_id", "headers", "signing", "retry", "timeout")
    )
    url = body.get("url")
    if not isinstance(url, str) or not url:
        raise FieldError("url", "required: the receiver's http(s) URL")
    try:
        check_url(url, "url")
    except AtscaleMockError as exc:
        raise FieldError("url", exc.message.removeprefix("url: ")) from None
    project = body.get("project_id")
    if project is not None and not isinstance(project, str):
        raise FieldError("project_id", "expected a string or null")
    org = body.get("org_id")
    if org is not None and not isinstance(org, str):
        raise FieldError("org_id", "expected a string or null")
    headers = _obj(body.get("headers") or {}, "headers")
    pairs = []
    for k, v in headers.items():
        if not isinstance(v, str):
            raise FieldError(f"headers.{k}", "expected a string value")
        try:
            pairs.append(check_header(k, v, f"headers.{k}"))
        except AtscaleMockError as exc:
            raise FieldError(f"headers.{k}", exc.message.removeprefix(f"headers.{k}: ")) from None
    signing = None
    if body.get("signing") is not None:
        s = _obj(body["signing"], "signing")
        _known(s, ("scheme", "secret", "header"), "signing.")
        if s.get("scheme") not in ("standard-webhooks", "hmac-sha256"):
            raise FieldError("signing.scheme", "expected standard-webhooks or hmac-sha256")
        if not isinstance(s.get("secret"), str) or not s["secret"]:
            raise FieldError("signing.secret", "required: the signing secret")
        if "header" in s:
            try:
                check_name(s["header"], "signing.header")
            except AtscaleMockError as exc:
                raise FieldError(
                    "signing.header", exc.message.removeprefix("signing.header: ")
                ) from None
        try:
            signing = Signing(
                s["scheme"], s["secret"], **({"header": s["header"]} if "header" in s else {})
            )
        except AtscaleMockError as exc:
            raise FieldError("signing.secret", exc.message) from None
    retry = Retry()
    if body.get("retry") is not None:
        r = _obj(body["retry"], "retry")
        _known(r, ("retries", "schedule"), "retry.")
        try:
            schedule = r.get("schedule")
            if isinstance(schedule, list):  # as GET /_mock/webhooks shows it: seconds
                schedule = ",".join(_wait(w) for w in schedule)
            if schedule:
                if not isinstance(schedule, str):
                    raise FieldError(
                        "retry.schedule", "expected text such as '1s,5s,30s' or [1, 5, 30]"
                    )
                retry = Retry.parse_schedule(schedule)
            else:
                retry = Retry(int(_number(r.get("retries", 0), "retry.retries", 0, 100)))
        except AtscaleMockError as exc:
            raise FieldError("retry", exc.message) from None
    timeout = DEFAULT_TIMEOUT
    if body.get("timeout") is not None:
        timeout = _number(body["timeout"], "timeout", 0.001, MAX_TIMEOUT)
    return Subscription(
        uuid.uuid4().hex[:12],
        url,
        event_names(body.get("events")),
        project,
        tuple(pairs),
        signing,
        retry,
        timeout,
        org,
    )


@dataclass
class FaultRule:
    """The engine misbehaving towards one subscription (or all): ``fail`` sends the
    attempt but treats it as failed (as if ``status`` came back, or a timeout), so the
    engine retries and the receiver sees the same webhook again; ``drop`` does not send
    it (and retries); ``delay`` waits ``delay`` seconds first. For the next ``count``
    attempts, or for ``seconds`` from now, or both (whichever ends first)."""

    id: str
    action: str
    webhook_id: str | None = None
    count: int | None = None
    until: float | None = None  # epoch seconds
    status: int | None = None
    delay: float = 0.0
    used: int = 0

    def live(self, now: float) -> bool:
        if self.count is not None and self.used >= self.count:
            return False
        return self.until is None or now < self.until

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "action": self.action,
            "webhook_id": self.webhook_id,
            "remaining": None if self.count is None else max(self.count - self.used, 0),
            "until": self.until,
            "status": self.status,
            "delay": self.delay,
        }

    def describe(self) -> str:
        what = {
            "fail": f"treated as {self.status or 'a timeout'}",
            "drop": "not sent",
            "delay": f"delayed {self.delay:g}s",
        }[self.action]
        return f"engine fault {self.id}: {what}"


def fault_rule(body: Any, webhooks: set[str]) -> FaultRule:
    """A FaultRule from a ``POST /_mock/faults`` body."""
    body = _obj(body)
    _known(body, ("action", "webhook_id", "count", "seconds", "status", "delay"))
    action = body.get("action")
    if action not in FAULT_ACTIONS:
        raise FieldError("action", f"expected one of {', '.join(FAULT_ACTIONS)}, got {action!r}")
    webhook = body.get("webhook_id")
    if webhook is not None and not isinstance(webhook, str):
        raise FieldError("webhook_id", "expected a webhook id (a string) or null")
    if webhook is not None and webhook not in webhooks:
        raise FieldError("webhook_id", f"no webhook {webhook!r}")
    count = body.get("count")
    if count is not None:
        count = int(_number(count, "count", 1, 1_000_000))
    seconds = body.get("seconds")
    until = None
    if seconds is not None:
        until = time.time() + _number(seconds, "seconds", 0.001, 86_400)
    if count is None and until is None:
        raise FieldError("count", "give count (the next N attempts), seconds, or both")
    status = body.get("status")
    if status is not None:
        if action != "fail":
            raise FieldError("status", "only a fail fault takes a status")
        status = int(_number(status, "status", 100, 599))
    delay = 0.0
    if action == "delay":
        delay = _number(body.get("delay"), "delay", 0.0, MAX_TIMEOUT)
    elif body.get("delay") is not None:
        raise FieldError("delay", "only a delay fault takes a delay")
    return FaultRule(uuid.uuid4().hex[:8], action, webhook, count, until, status, delay)


TRIGGER_KEYS = ("seed", *PAYLOAD_KEYWORDS)
MAX_SLOW_THRESHOLD = 86_400.0  # seconds: a slow query's generated time_taken floor


@dataclass(frozen=True, slots=True)
class Trigger:
    """A trigger body, read: the payload's seed (None: a fresh one) and how it is made."""

    seed: int | None
    made: PayloadOptions

    def body(self) -> dict[str, Any]:
        """The trigger body that reads back as this (what :func:`trigger_options` reads):
        the seed when given, and each field of the record not at its default."""
        out: dict[str, Any] = {} if self.seed is None else {"seed": self.seed}
        defaults = PayloadOptions()
        for key in PAYLOAD_KEYWORDS:
            value = getattr(self.made, key)
            if value != getattr(defaults, key):
                out[key] = dict(value) if key == "set" else value
        return out


def trigger_options(body: Any) -> Trigger:
    """The seed and the :class:`PayloadOptions` record of a trigger body (its keys are
    the record's fields, and ``seed``)."""
    body = _obj(body if body is not None else {})
    _known(body, TRIGGER_KEYS)
    out: dict[str, Any] = {}
    if body.get("set") is not None:
        out["set"] = _obj(body["set"], "set")
    if body.get("seed") is not None:
        seed = body["seed"]
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise FieldError("seed", f"expected an integer, got {seed!r}")
        out["seed"] = seed
    for flag in ("failed", "full"):
        if body.get(flag) is not None:
            if not isinstance(body[flag], bool):
                raise FieldError(flag, "expected true or false")
            out[flag] = body[flag]
    for text in ("error", "org", "project", "cube", "clock"):
        if body.get(text) is not None:
            if not isinstance(body[text], str):
                raise FieldError(text, "expected a string")
            out[text] = body[text]
    if body.get("slow_threshold") is not None:  # seconds, as send --slow-threshold
        out["slow_threshold"] = _number(
            body["slow_threshold"], "slow_threshold", 0.0, MAX_SLOW_THRESHOLD
        )
    seed = out.pop("seed", None)
    return Trigger(seed, PayloadOptions(**out))


MAX_CHECK_FUZZ = 10_000  # payloads one POST /_mock/checks may ask to fuzz


def check_options(body: Any) -> dict[str, Any]:
    """The keywords of :func:`atscale_mock.check` from a ``POST /_mock/checks`` body:
    ``url``, ``headers`` and ``signing`` as for a webhook, then ``expect`` (check ->
    codes), ``only``/``skip`` (lists of names), ``fuzz``, ``seed``, ``max_latency``,
    ``burst`` and ``timeout``."""
    from ..check.battery import NAMES

    body = _obj(body)
    keys = ("url", "headers", "signing", "expect", "only", "skip", "fuzz", "seed")
    _known(body, (*keys, "max_latency", "burst", "timeout"))
    sub = subscription({k: body[k] for k in ("url", "headers", "signing") if k in body})
    options: dict[str, Any] = {"to": sub.url, "headers": sub.headers, "sign": sub.signing}
    expect = _obj(body.get("expect") or {}, "expect")
    for name, codes in expect.items():
        if name not in NAMES or not isinstance(codes, str):
            raise FieldError(f"expect.{name}", 'expected a check\'s name and codes like "401"')
    options["expect"] = expect
    for key in ("only", "skip"):
        names = body.get(key) or []
        if not isinstance(names, list) or any(n not in NAMES for n in names):
            raise FieldError(key, "expected a list of check names: " + ", ".join(NAMES))
        options[key] = names
    if body.get("fuzz") is not None:
        options["fuzz"] = int(_number(body["fuzz"], "fuzz", 1, MAX_CHECK_FUZZ))
    if body.get("seed") is not None:
        options["seed"] = int(_number(body["seed"], "seed", 0, 2**63 - 1))
    if body.get("burst") is not None:
        options["burst"] = int(_number(body["burst"], "burst", 1, 1000))
    for key, high in (("max_latency", 3600.0), ("timeout", 300.0)):
        if body.get(key) is not None:
            options[key] = _number(body[key], key, 0.001, high)
    return options
