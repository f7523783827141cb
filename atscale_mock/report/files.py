"""Report files: which format a file name asks for, and writing one with a clear error
(shared by ``run``, ``load`` and ``check``)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ..errors import UsageError


def report_format(path: Path) -> str:
    """``json`` or ``html`` from a report's file name (``run`` and ``load`` alike); a
    UsageError for anything else (a ``.pdf`` would get JSON in it)."""
    suffix = path.suffix.lower()
    if suffix == ".json":
        return "json"
    if suffix in (".html", ".htm"):
        return "html"
    raise UsageError(f"--report {path}: use a .json or .html file name")


def write_text(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from exc


#: not regular files, but writing to them is what their user meant
STREAMS = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr"})


def check_output(path: Path, what: str = "") -> None:
    """A UsageError now, before any work, for an output file that could not be written
    afterwards: a missing or read-only directory, a directory, a FIFO (opening it would
    block until something reads), a socket or a disk device. Character devices
    (``/dev/null``, ``/dev/stdout``) are allowed. A full disk (or ``/dev/full``) can
    only show when the file is written: the command says so after its summary."""
    name = f"{what} {path}" if what else str(path)
    if str(path) in STREAMS:
        return
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        parent = path.parent
        if not parent.is_dir():
            raise UsageError(f"cannot write {name}: no such directory {parent}") from None
        if not os.access(parent, os.W_OK | os.X_OK):
            raise UsageError(f"cannot write {name}: directory {parent} is not writable") from None
        return
    except OSError as exc:
        raise UsageError(f"cannot write {name}: {exc.strerror}") from None
    if stat.S_ISDIR(mode):
        raise UsageError(f"cannot write {name}: it is a directory", "name a file in it")
    if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISBLK(mode):
        raise UsageError(
            f"cannot write {name}: not a regular file (a FIFO, socket or disk device)",
            "name a regular file",
        )
    if not os.access(path, os.W_OK):
        raise UsageError(f"cannot write {name}: permission denied")


def check_output_dir(path: Path, what: str = "") -> None:
    """A directory that will be made (with its parents) if missing: refused now when it
    is a file, or lies below one."""
    name = f"{what} {path}" if what else str(path)
    for part in (path, *path.parents):
        if part.exists():
            if not part.is_dir():
                raise UsageError(f"cannot use {name}: {part} is not a directory")
            if not os.access(part, os.W_OK | os.X_OK):
                raise UsageError(f"cannot use {name}: {part} is not writable")
            return
