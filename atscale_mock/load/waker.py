"""Sub-millisecond wake-ups on the event loop without busy-waiting.

Event loops keep time in milliseconds (libuv's timers, ``epoll_wait``'s timeout), so a
plain ``asyncio.sleep(0.0003)`` wakes up to a millisecond or two late, and the usual cure,
yielding to the loop until the moment comes, keeps a core busy for nothing (a core the
receiver under test may need). On Linux a ``timerfd`` armed for the wanted moment becomes
readable on time, to the kernel's timer slack (tens of microseconds), and the loop wakes
for it as for any socket; the callback then runs straight from the loop, with no task
to resume. Elsewhere (or if it cannot be made) ``Waker.create`` gives None and the
caller falls back to yielding.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import sys
from collections.abc import Callable
from typing import Any

_CLOCK_MONOTONIC = 1
_TFD_NONBLOCK = os.O_NONBLOCK
_TFD_CLOEXEC = os.O_CLOEXEC
_NS = 1_000_000_000


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class _Itimerspec(ctypes.Structure):
    _fields_ = [("it_interval", _Timespec), ("it_value", _Timespec)]


class Waker:
    """One timerfd registered with the running loop, calling ``callback`` on the loop
    once each time it fires (once for several firings, if the loop was late)."""

    def __init__(
        self, fd: int, settime: Any, loop: asyncio.AbstractEventLoop, callback: Callable[[], None]
    ) -> None:
        self.fd = fd
        self._settime = settime
        self._loop = loop
        self._callback = callback
        self._spec = _Itimerspec()
        self._spec_ref = ctypes.byref(self._spec)
        self._rearmed = False
        self._closed = False
        loop.add_reader(fd, self._ready)

    @classmethod
    def create(cls, callback: Callable[[], None]) -> Waker | None:
        if not sys.platform.startswith("linux"):
            return None
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = libc.timerfd_create(_CLOCK_MONOTONIC, _TFD_NONBLOCK | _TFD_CLOEXEC)
            if fd < 0:
                return None
            settime = libc.timerfd_settime
            settime.argtypes = [
                ctypes.c_int,
                ctypes.c_int,
                ctypes.POINTER(_Itimerspec),
                ctypes.c_void_p,
            ]
            return cls(fd, settime, asyncio.get_running_loop(), callback)
        except (OSError, AttributeError, RuntimeError, NotImplementedError):
            return None

    def _ready(self) -> None:
        """The timer fired: call back. Re-arming resets the timerfd's count of firings
        (timerfd_settime), so when the callback arms it again (each round of an open
        loop does) there is nothing to read: one system call a round saved."""
        self._rearmed = False
        self._callback()
        if not self._rearmed and not self._closed:
            with contextlib.suppress(BlockingIOError, InterruptedError):
                os.read(self.fd, 8)  # not armed again: clear the firing, or it stays ready

    def arm(self, seconds: float, every: float = 0.0) -> None:
        """Fire ``seconds`` from now (at least a microsecond: zero disarms), then every
        ``every`` seconds until armed again (0: once)."""
        spec = self._spec
        spec.it_value.tv_sec, spec.it_value.tv_nsec = divmod(max(1000, int(seconds * 1e9)), _NS)
        spec.it_interval.tv_sec, spec.it_interval.tv_nsec = divmod(int(every * 1e9), _NS)
        self._rearmed = True
        if self._settime(self.fd, 0, self._spec_ref, None) != 0:
            self._loop.call_later(seconds, self._callback)  # pragma: no cover - refused

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(Exception):
            self._loop.remove_reader(self.fd)
        with contextlib.suppress(OSError):
            os.close(self.fd)
