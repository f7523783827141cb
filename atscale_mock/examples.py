"""The example scenarios that ship with atscale-mock (the repository's ``scenarios/``).

An installed wheel carries them in ``atscale_mock/examples/`` (copied there when the
wheel is built, with the scenario JSON Schema beside the package); a checkout reads the
repository's own ``scenarios/``. :func:`resolve` lets the README's examples work from
any directory: ``scenarios/engine-day.yaml`` that does not exist where you stand is the
bundled ``engine-day.yaml``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

_PACKAGE = Path(__file__).parent
FOLDER_NAME = "scenarios"
SCHEMA_NAME = "atscale-mock-scenario.schema.json"
_SCHEMA_LINE = re.compile(r"^# yaml-language-server: \$schema=.*$", re.M)


@dataclass(frozen=True, slots=True)
class Example:
    """One bundled example: its file name and the comment that opens it."""

    name: str
    path: Path
    about: str


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


def expand(path: str | Path) -> list[Path]:
    """``path`` itself, and ``scenarios/*.yaml`` (a pattern the shell
    left as it was because no ``scenarios/`` folder is here) as the bundled examples it
    matches, so ``atscale-mock validate scenarios/*.yaml`` works from any directory."""
    given = Path(path)
    pattern = given.name
    if (
        not any(c in pattern for c in "*?[")
        or given.exists()
        or len(given.parts) != 2
        or given.parent.name != FOLDER_NAME
        or given.parent.exists()
    ):
        return [given]
    where = folder()
    matches = sorted(where.glob(pattern)) if where else []
    # named as the user wrote them (scenarios/NAME.yaml); resolve() reads the bundled file
    return [given.parent / m.name for m in matches if m.suffix in (".yaml", ".yml")] or [given]


def examples() -> list[Example]:
    """Every bundled example, with the first comment paragraph of its file."""
    where = folder()
    found = []
    for name in names():
        path = where / name  # type: ignore[operator]  # names() is empty without a folder
        about = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("# yaml-language-server"):
                continue
            if not line.startswith("#"):
                break
            about.append(line.lstrip("# ").strip())
        found.append(Example(name, path, " ".join(a for a in about if a)))
    return found


def copy_to(dest: str | Path, schema: dict[str, object], overwrite: bool = False) -> list[Path]:
    """Write every example into ``dest`` (made if missing), with the scenario JSON
    Schema ``schema`` beside them and each file's ``$schema`` line pointing at it, so
    an editor checks the copies. FileExistsError names the first file that would be
    overwritten unless ``overwrite``; nothing is written then."""
    target = Path(dest)
    plan = [(target / e.name, e.path) for e in examples()]
    if not plan:
        raise FileNotFoundError("no bundled examples in this installation")
    schema_file = target / SCHEMA_NAME
    if not overwrite:
        for path in (*(p for p, _ in plan), schema_file):
            if path.exists():
                raise FileExistsError(str(path))
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for path, source in plan:
        text = _SCHEMA_LINE.sub(
            f"# yaml-language-server: $schema={SCHEMA_NAME}", source.read_text(encoding="utf-8")
        )
        path.write_text(text, encoding="utf-8")
        written.append(path)
    schema_file.write_text(json.dumps(schema, indent=2) + "\n", encoding="utf-8")
    return [*written, schema_file]
