"""What every command shares: turning errors into exit codes, option parsing helpers,
and printing. The CLI is the only place that turns an error into output."""

from __future__ import annotations

import contextlib
import functools
import gc
import json
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import typer

from ..errors import AtscaleMockError, UsageError
from ..report.printable import for_terminal

P = ParamSpec("P")
R = TypeVar("R")

#: Exit codes, documented in the README and in `atscale-mock --help`.
EXIT_OK = 0
EXIT_FAILED = 1  # a delivery got no 2xx, or an expectation/threshold failed
EXIT_USAGE = 2  # bad command line, unknown event/field, invalid scenario
EXIT_INTERRUPTED = 130  # Ctrl-C / SIGTERM


#: the arguments this invocation was given (set as the command line is parsed)
INVOCATION: list[str] = []


def command_line() -> str:
    """This invocation as one shell line (for a report; redact it before it is shown)."""
    import shlex

    return shlex.join(["atscale-mock", *INVOCATION])


def as_flag(exc: UsageError, flags: dict[str, str] | None = None) -> UsageError:
    """A library error that begins with a keyword (``exc.field``), beginning with its
    command-line option instead (``--`` and the keyword, unless ``flags`` says)."""
    if not exc.field or not exc.message.startswith(exc.field):
        return exc
    flag = (flags or {}).get(exc.field) or "--" + exc.field.replace("_", "-")
    return UsageError(flag + exc.message[len(exc.field) :], exc.hint)


def in_catalogue(event: str | None, atscale_version: str | None) -> None:
    """``--atscale-version`` checked, and ``event`` (when given) in its catalogue, before
    anything is printed or sent: a UsageError naming the versions that have it."""
    from ..events.payload import resolve_event
    from ..events.versions import catalogue

    try:
        found = catalogue(atscale_version)
    except UsageError as exc:
        raise as_flag(exc) from None
    if event is not None:
        found.require(resolve_event(event))


def err(text: str) -> None:
    print(for_terminal(text), file=sys.stderr, flush=True)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off for a block that only allocates (parsing a big
    scenario: 100,000 steps load in about half the time); the command's choice, never
    the library's."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def out(text: str) -> None:
    """A line on stdout, control characters escaped (a receiver's body is not trusted)."""
    print(for_terminal(text), flush=True)


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Run a command; print AtscaleMockError as one clear message, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from ..interrupts import release

        try:
            if not getattr(func, "holds_signals", False):
                release()  # a signal held since start-up is this command's Ctrl-C
            return func(*args, **kwargs)
        except AtscaleMockError as exc:
            err(exc.render())
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err("interrupted")
            raise typer.Exit(EXIT_INTERRUPTED) from None

    return wrapper


def holds_signals(func: Callable[P, R]) -> Callable[P, R]:
    """Mark a command whose library call takes SIGINT over itself and acts on a signal
    held since start-up (:mod:`atscale_mock.interrupts`); put it under handle_errors.
    The command must call ``release()`` on every path that does not."""
    func.holds_signals = True  # type: ignore[attr-defined]
    return func


def resolve_seed(seed: int | None) -> int:
    from ..api.options import resolve_seed as library_seed

    return library_seed(seed)


def resolve_clock(clock: str | None, seeded: bool) -> datetime | None:
    from ..api.options import resolve_clock as library_clock

    return library_clock(clock, seeded)


def now() -> datetime:
    return datetime.now(UTC)


def print_json(data: Any) -> None:
    out(json.dumps(data, indent=2, ensure_ascii=False))


def check_writable(*paths: Path | None) -> None:
    """Fail before any work when a report could not be written afterwards."""
    from ..report.files import check_output

    for path in paths:
        if path is not None:
            check_output(path)


_max_time_hit: list[float] = []  # this command's, cleared as each command starts


def max_time_hit() -> float | None:
    """The --max-time that stopped this command, or None."""
    return _max_time_hit[-1] if _max_time_hit else None


@contextlib.contextmanager
def sigterm_as_interrupt(max_time: float | None = None) -> Iterator[None]:
    """SIGTERM means what Ctrl-C means while the block runs: the library call in it
    stops sending, keeps what it did, and the command exits 130 with its summary.
    ``max_time`` (seconds) stops it the same way when the time is up; the command then
    says so and exits 1 (see :func:`max_time_hit`)."""
    import signal

    def forward(signum: int, frame: Any) -> None:
        if signum == signal.SIGALRM:
            if _max_time_hit:
                return  # stopping already
            _max_time_hit.append(max_time or 0.0)
        handler = signal.getsignal(signal.SIGINT)
        if callable(handler):
            handler(signal.SIGINT, frame)
        else:
            raise KeyboardInterrupt

    _max_time_hit.clear()  # a command run before this one in the process hit its own
    try:
        previous = signal.signal(signal.SIGTERM, forward)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    # A shell starts `cmd &` with SIGINT ignored; then neither Ctrl-C's path (asyncio
    # cancelling the run) nor SIGTERM's (which takes that path) would settle the run.
    # While the command runs, SIGINT means what it means in the foreground.
    ignored_int = signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    if ignored_int:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    alarm = None
    if max_time is not None:
        alarm = signal.signal(signal.SIGALRM, forward)
        signal.setitimer(signal.ITIMER_REAL, max_time)
    try:
        yield
    finally:
        if alarm is not None:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, alarm)
        if ignored_int:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, previous)


def exit_if_max_time() -> None:
    """After the summary: a command --max-time stopped says so and exits 1."""
    limit = max_time_hit()
    _max_time_hit.clear()  # reported: the next command in this process starts afresh
    if limit is not None:
        err(f"error: --max-time {limit:g}s reached; stopped (in-flight attempts are logged)")
        raise typer.Exit(EXIT_FAILED)


def check_max_time(value: float | None) -> None:
    from ..errors import UsageError

    if value is not None and not 0 < value < 1e7:
        raise UsageError(f"--max-time must be a finite number of seconds > 0, got {value}")
