"""Signals that arrive before a command is ready for them.

The CLI calls :func:`hold` first thing: until a command takes SIGINT over, SIGINT and
SIGTERM are *held* (counted, not acted on), so a Ctrl-C during start-up neither
prints a traceback from an import nor ends the process with no summary. Then:

* a command whose library call installs its own handler (``load``: its workers settle
  and report) finds what was held with :func:`held` and acts on it at once;
* every other command calls :func:`release` as it starts: the default handlers come
  back, and a held signal is raised there as KeyboardInterrupt (exit 130).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _Holder:
    """The handler while signals are held: counts them."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, signum: int, frame: Any) -> None:
        self.count += 1


def hold() -> None:
    """Hold SIGINT and SIGTERM (main thread only; elsewhere nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        return
    holder = _Holder()
    for sig in _SIGNALS:
        signal.signal(sig, holder)


def held(handler: Any) -> int:
    """How many signals ``handler`` held, when it is the holder (else 0)."""
    return handler.count if isinstance(handler, _Holder) else 0


def is_holding(handler: Any) -> bool:
    return isinstance(handler, _Holder)


def release() -> None:
    """Default handlers back (KeyboardInterrupt on SIGINT, SIGTERM's default); a signal
    that was held is raised now as KeyboardInterrupt."""
    if threading.current_thread() is not threading.main_thread():
        return
    if is_holding(signal.getsignal(signal.SIGTERM)):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    handler = signal.getsignal(signal.SIGINT)
    if not is_holding(handler):
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if held(handler):
        raise KeyboardInterrupt


@contextlib.contextmanager
def sigint_sets(stop: threading.Event) -> Iterator[threading.Event]:
    """While the block runs, SIGINT sets ``stop`` instead of raising where it lands (a
    second one raises KeyboardInterrupt: the user insists). For work that polls a flag
    between steps: a KeyboardInterrupt raised inside a library's callback (hypothesis's
    gc callback) is swallowed, and the work went on to its end. Only on the main
    thread, and only over Python's default handler (or a held one, whose signals count);
    elsewhere the block runs with signals as they are."""
    current = signal.getsignal(signal.SIGINT)
    own = threading.current_thread() is threading.main_thread() and (
        current is signal.default_int_handler or is_holding(current)
    )
    if not own:
        yield stop
        return

    def handler(signum: int, frame: Any) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    signal.signal(signal.SIGINT, handler)
    if held(current):
        stop.set()
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
