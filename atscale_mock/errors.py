"""Every error atscale-mock raises on purpose.

    AtscaleMockError             -- base; the CLI prints ``error: <message>`` and exits 2
    ├── UsageError               -- a bad option value, URL, event or field name
    │   ├── UnknownEventError    -- carries a did-you-mean
    │   └── UnknownFieldError    -- lists the valid paths
    └── ScenarioError            -- one or more problems in a scenario file,
                                    each a :class:`Problem` with file:line:column

A receiver answering 4xx/5xx is *not* an error: it is a delivery result. Transport
failures (refused, reset, timeout, not HTTP, TLS) are classified into delivery
results too, by :mod:`atscale_mock.delivery.transport`.
"""

from __future__ import annotations

from dataclasses import dataclass


class AtscaleMockError(Exception):
    """Base class: a message fit to print, and the exit code it maps to."""

    exit_code = 2

    def __init__(self, message: str, hint: str = "", *, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.field = field  # the keyword the message begins with, where it names one

    def render(self) -> str:
        text = f"error: {self.message}"
        return f"{text}\n  hint: {self.hint}" if self.hint else text


class UsageError(AtscaleMockError):
    """The command line (or a value in it) is wrong."""


class UnknownEventError(UsageError):
    def __init__(self, name: str, suggestion: str | None, valid: list[str]) -> None:
        hint = f"did you mean '{suggestion}'?" if suggestion else "events: " + ", ".join(valid)
        super().__init__(f"unknown event '{name}'", hint)
        self.name = name
        self.suggestion = suggestion


class UnknownFieldError(UsageError):
    def __init__(
        self, event: str, path: str, valid: tuple[str, ...], suggestion: str | None
    ) -> None:
        hint = (
            (f"did you mean '{suggestion}'? " if suggestion else "")
            + "valid paths: "
            + ", ".join(valid)
        )
        super().__init__(f"event '{event}' has no field '{path}'", hint)
        self.path = path


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem found in a scenario file, positioned for a caret."""

    file: str
    line: int  # 1-based; 0 when unknown
    column: int  # 1-based; 0 when unknown
    message: str
    hint: str = ""
    source_line: str = ""
    width: int = 1

    def render(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        out = [f"error: {self.message}", f"  --> {where}"]
        if self.source_line:
            caret = " " * max(self.column - 1, 0) + "^" * max(self.width, 1)
            out.append(f"   |     {self.source_line}")
            out.append(f"   |     {caret}" + (f" {self.hint}" if self.hint else ""))
        elif self.hint:
            out.append(f"   = {self.hint}")
        return "\n".join(out)


class ScenarioError(AtscaleMockError):
    """A scenario file did not validate; ``problems`` holds every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(_summary(problems), _first_hint(problems))

    def render(self) -> str:
        return "\n\n".join(p.render() for p in self.problems)


def _summary(problems: list[Problem]) -> str:
    """The first problem, positioned, in the exception's own message (what pytest shows)."""
    if not problems:
        return "0 problems in scenario"
    first = problems[0]
    where = f"{first.file}:{first.line}:{first.column}" if first.line else first.file
    more = len(problems) - 1
    tail = f" (and {more} more problem{'s' if more > 1 else ''}; see .problems)" if more else ""
    return f"{where}: {first.message}{tail}"


def _first_hint(problems: list[Problem]) -> str:
    return problems[0].hint if problems else ""
