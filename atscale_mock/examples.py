"""The example scenarios that ship with atscale-mock (the repository's ``scenarios/``).

An installed wheel carries them in ``atscale_mock/examples/`` (copied there when the
wheel is built, with the scenario JSON Schema beside the package); a checkout reads the
repository's own ``scenarios/``. :func:`resolve` lets the README's examples work from
any directory: ``scenarios/engine-day.yaml`` that does not exist where you stand is the
bundled ``engine-day.yaml``.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).parent
FOLDER_NAME = "scenarios"


def folder() -> Path | None:
    """Where the examples are: the wheel's copy, else the checkout's ``scenarios/``."""
    for candidate in (_PACKAGE / "examples", _PACKAGE.parent / FOLDER_NAME):
        if candidate.is_dir() and any(candidate.glob("*.yaml")):
            return candidate
    return None


def names() -> list[str]:
    """The examples' file names (``engine-day.yaml``, ...)."""
    where = folder()
    return sorted(p.name for p in where.glob("*.yaml")) if where else []


def resolve(path: str | Path) -> Path:
    """``path`` itself when it exists; else, when it is ``scenarios/NAME.yaml`` (as the
    README writes it) and NAME is a bundled example, the bundled file; else ``path``
    unchanged (the caller says it does not exist)."""
    given = Path(path)
    if given.exists() or given.is_absolute() or given.parent.name != FOLDER_NAME:
        return given
    if len(given.parts) != 2:
        return given
    where = folder()
    bundled = where / given.name if where else None
    return bundled if bundled is not None and bundled.is_file() else given
