"""Turning a payload into the request that goes out: faults applied, signature added
before every attempt. Shared by ``send`` and ``run``."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from .faults import Slot, malform
from .payload import encode
from .sender import Request
from .signing import Signer, new_message_id


def build_request(
    event: str,
    url: str,
    payload: Any,
    headers: dict[str, str],
    slot: Slot | None = None,
    rng: random.Random | None = None,
) -> Request:
    body = encode(payload)
    labels = list(slot.labels) if slot else []
    if slot is not None and slot.malformed:
        body, headers, label = malform(slot.malformed, body, headers, rng or random.Random())
        labels.append(label)
    return Request(event, url, body, tuple(headers.items()), tuple(labels), uuid.uuid4().hex[:16])


def signing_hook(signer: Signer | None) -> Callable[[Request], Request] | None:
    """A ``prepare`` hook for :func:`~atscale_mock.delivery.deliver` that signs each attempt
    (fresh timestamp, the same message id across one delivery's retries)."""
    if signer is None:
        return None
    msg_id = new_message_id()

    def prepare(request: Request) -> Request:
        signed = signer.headers(request.body, msg_id)
        kept = tuple((k, v) for k, v in request.headers if k not in signed)
        return replace(request, headers=kept + tuple(signed.items()))

    return prepare
