"""Report files: which format a file name asks for, and writing one with a clear error
(shared by ``run``, ``load`` and ``check``)."""

from __future__ import annotations

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
