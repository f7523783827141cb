"""Payload -> request: the URL (placeholders filled from the payload), the headers, the
exact body (malformed on purpose when a fault says so). Pure; shared by every command."""

from __future__ import annotations

import random
import re
import uuid
from typing import Any
from urllib.parse import quote, urlsplit

from ..errors import UsageError
from ..events.payload import encode, lookup_key
from .faults import Slot, malform
from .headers import parse_header
from .transport import Request

__all__ = ["build_request", "check_url", "fill_url", "parse_header"]

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.]*)\}")


def has_placeholders(url: str) -> bool:
    return bool(_PLACEHOLDER.search(url))


def check_url(url: str, what: str = "to") -> str:
    """A usable http(s) URL (placeholders allowed), or a UsageError saying why not."""
    try:
        parts = urlsplit(_PLACEHOLDER.sub("x", url))
    except ValueError as exc:  # "Invalid IPv6 URL" and the like
        raise UsageError(
            f"{what}: not a URL: {url!r} ({exc})", "for example http://[::1]:10502/hooks"
        ) from None
    if "://" not in url:
        local = ", or 'local' for the built-in receiver" if what.lstrip("-") == "to" else ""
        raise UsageError(f"{what}: {url!r} has no scheme", f"write http://{url.lstrip('/')}{local}")
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
    """Replace ``{org_id}``-style placeholders with the payload's values, percent-encoded."""
    if "{" not in template:
        return template

    def one(match: re.Match[str]) -> str:
        key = match.group(1)
        try:
            value = lookup_key(payload, key)
        except KeyError:
            raise UsageError(
                f"URL placeholder {{{key}}} is not a field of this payload",
                "placeholders name payload keys, e.g. {org_id} or {context.project_id}",
            ) from None
        # every character but RFC 3986's unreserved ones encoded: a value holding '#',
        # '/', '?', '@' or ':' stays inside its placeholder and cannot change the path,
        # the host or add credentials
        return quote(str(value), safe="-._~")

    return _PLACEHOLDER.sub(one, template)


def build_request(
    event: str,
    url: str,
    payload: Any,
    headers: dict[str, str],
    slot: Slot | None = None,
    rng: random.Random | None = None,
    body: bytes | None = None,
) -> Request:
    """The request for one delivery (``body`` given: those exact bytes, as for replay)."""
    body = encode(payload) if body is None else body
    labels = list(slot.labels) if slot else []
    if slot is not None and slot.malformed:
        body, headers, label = malform(slot.malformed, body, headers, rng or random.Random())
        labels.append(label)
    return Request(event, url, body, tuple(headers.items()), tuple(labels), uuid.uuid4().hex[:16])
