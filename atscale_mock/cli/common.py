"""What every command shares: turning errors into exit codes, option parsing helpers,
and printing. The CLI is the only place that turns an error into output."""

from __future__ import annotations

import contextlib
import functools
import json
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn, ParamSpec, TypeVar

import typer

from ..errors import AtscaleMockError

P = ParamSpec("P")
R = TypeVar("R")

#: Exit codes, documented in the README and in `atscale-mock --help`.
EXIT_OK = 0
EXIT_FAILED = 1  # a delivery got no 2xx, or an expectation/threshold failed
EXIT_USAGE = 2  # bad command line, unknown event/field, invalid scenario
EXIT_INTERRUPTED = 130  # Ctrl-C / SIGTERM


def fail(message: str, hint: str = "", code: int = EXIT_USAGE) -> NoReturn:
    err(f"error: {message}" + (f"\n  hint: {hint}" if hint else ""))
    raise typer.Exit(code)


def err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def out(text: str) -> None:
    print(text, flush=True)


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Run a command; print AtscaleMockError as one clear message, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except AtscaleMockError as exc:
            err(exc.render())
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err("interrupted")
            raise typer.Exit(EXIT_INTERRUPTED) from None

    return wrapper


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
    from ..errors import UsageError

    for path in paths:
        if path is not None and not path.parent.is_dir():
            raise UsageError(f"cannot write {path}: no such directory {path.parent}")


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM means what Ctrl-C means while the block runs: the library call in it
    stops sending, keeps what it did, and the command exits 130 with its summary."""
    import signal

    def forward(signum: int, frame: Any) -> None:
        handler = signal.getsignal(signal.SIGINT)
        if callable(handler):
            handler(signal.SIGINT, frame)
        else:
            raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, forward)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
