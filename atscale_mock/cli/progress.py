"""The progress bar of ``send -n N`` and ``run``: on a terminal only (stderr), with the
total known before it starts, done/total, an ETA and a status; nothing otherwise (the
per-delivery lines and the summary say the same to a pipe or a log)."""

from __future__ import annotations

import sys
from typing import Any


class Bar:
    """A transient rich bar on stderr. Lines printed while it runs (stdout when that is
    the terminal too, and stderr) appear above it; stdout sent to a file or a pipe goes
    there untouched. ``total`` None: the count is not known (a bar without an ETA)."""

    def __init__(self, total: int | None, description: str = "sending") -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self.progress: Any = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[status]}"),
            console=Console(file=sys.stderr),
            transient=True,
            redirect_stdout=sys.stdout.isatty(),
            redirect_stderr=True,
        )
        self.task = self.progress.add_task(description, total=total, status="")
        self.progress.start()

    @classmethod
    def wanted(cls, quiet: bool) -> bool:
        """A bar is drawn on a terminal, unless the command was told to be quiet."""
        return not quiet and sys.stderr.isatty()

    def advance(self, status: str) -> None:
        self.progress.update(self.task, advance=1, status=status)

    def above(self, line: str) -> None:
        """A line above the bar (on stderr)."""
        self.progress.console.print(line, markup=False, highlight=False)

    @property
    def total(self) -> float | None:
        return self.progress.tasks[0].total  # type: ignore[no-any-return]

    @property
    def columns(self) -> list[str]:
        return [type(c).__name__ for c in self.progress.columns]

    def close(self) -> None:
        self.progress.stop()
