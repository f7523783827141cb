"""What every command shares: turning errors into exit codes, option parsing helpers,
and printing. The CLI is the only place that turns an error into output."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn, ParamSpec, TypeVar

import typer

from ..config import SEEDED_CLOCK
from ..errors import AtscaleMockError
from ..ids import new_seed

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
    return new_seed() if seed is None else seed


def resolve_clock(clock: str | None, seeded: bool) -> datetime | None:
    """The fixed time of generated payloads: --clock, else the seeded default when a seed
    was given (so output is byte-identical), else None (now, at each build)."""
    from ..payload import parse_timestamp

    if clock:
        return parse_timestamp(clock)
    return parse_timestamp(SEEDED_CLOCK) if seeded else None


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
