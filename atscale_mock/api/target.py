"""Where deliveries go: a URL (checked), or ``"local"``, the built-in receiver on a free
loopback port for as long as the call runs."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from ..delivery.request import check_url

if TYPE_CHECKING:
    from ..receiver.local import Behaviour, Received

LOCAL = "local"
LOCAL_PATH = "/hooks"


def is_local(to: str) -> bool:
    return to.strip().lower() == LOCAL


@contextlib.contextmanager
def resolve_target(
    to: str,
    on_received: Callable[[Received], None] | None = None,
    on_local: Callable[[str], None] | None = None,
    what: str = "to",
    behaviour: Behaviour | None = None,
) -> Iterator[str]:
    """The URL to send to; for ``"local"`` the built-in receiver runs meanwhile
    (``on_local`` hears its URL, ``on_received`` each request it gets, ``behaviour``
    how it answers: a secret to verify signatures with, ...)."""
    if not is_local(to):
        yield check_url(to, what)
        return
    from ..receiver.local import Receiver

    with Receiver(on_request=on_received, behaviour=behaviour) as receiver:
        if on_local:
            on_local(receiver.url)
        yield receiver.url + LOCAL_PATH
