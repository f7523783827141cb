"""``${...}`` references in scenario strings. They name values; they never run code.

    ${env:NAME}  ${env:NAME:-default}     the environment
    ${secret:NAME}  ${secret:NAME:-dflt}  the environment, redacted wherever printed
    ${vars.NAME}                          the scenario's `vars`
    ${steps.ID.payload.PATH}              a payload an earlier step generated
    ${steps.ID.status}                    the HTTP status an earlier step got
    $${                                   a literal "${"

A string that is exactly one reference takes the referenced value's type
(``${steps.a.payload.is_full_build}`` stays a boolean); otherwise it is text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

_REF = re.compile(r"\$\$\{|\$\{([^}]*)\}")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_STEP_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*$")


@dataclass(frozen=True, slots=True)
class Ref:
    kind: str  # env | secret | vars | steps
    name: str  # variable name, or step id
    default: str | None = None
    path: str = ""  # steps: "status" or "payload.a.b"
    raw: str = ""


def parse_ref(expr: str) -> Ref:
    """One expression (the text inside ``${}``); ValueError saying what is wrong."""
    raw = "${" + expr + "}"
    for kind in ("env", "secret"):
        if expr.startswith(kind + ":"):
            name, sep, default = expr[len(kind) + 1 :].partition(":-")
            if not _NAME.match(name):
                raise ValueError(f"{raw}: '{name}' is not an environment variable name")
            return Ref(kind, name, default if sep else None, raw=raw)
    head, _, rest = expr.partition(".")
    if head == "vars":
        if not _NAME.match(rest):
            raise ValueError(f"{raw}: expected ${{vars.NAME}}")
        return Ref("vars", rest, raw=raw)
    if head == "steps":
        step, _, path = rest.partition(".")
        if not _STEP_ID.match(step) or not (path == "status" or path.startswith("payload.")):
            raise ValueError(f"{raw}: expected ${{steps.ID.payload.PATH}} or ${{steps.ID.status}}")
        return Ref("steps", step, path=path, raw=raw)
    raise ValueError(f"{raw}: unknown reference; use env:, secret:, vars. or steps.")


def parse(text: str, keep_escapes: bool = False) -> list[str | Ref]:
    """A string as literal parts and references (``$${`` a literal ``${``, or kept as
    ``$${`` with ``keep_escapes``, for a result that is rendered again)."""
    parts: list[str | Ref] = []
    pos = 0
    literal = "$${" if keep_escapes else "${"
    for match in _REF.finditer(text):
        parts.append(text[pos : match.start()])
        parts.append(literal if match.group(0) == "$${" else parse_ref(match.group(1)))
        pos = match.end()
    parts.append(text[pos:])
    return [p for p in parts if p != ""]


def refs(value: Any) -> Iterator[Ref]:
    """Every reference in a nested value (strings inside dicts and lists)."""
    if isinstance(value, str):
        yield from (p for p in parse(value) if isinstance(p, Ref))
    elif isinstance(value, dict):
        for v in value.values():
            yield from refs(v)
    elif isinstance(value, list):
        for v in value:
            yield from refs(v)


Resolver = Callable[[Ref], Any]

#: characters one string may expand to: ``${vars.a}${vars.a}`` forty times over (or the
#: same through ``${steps...}``) is refused at 1 MiB, not at a MemoryError
MAX_EXPANDED = 1024 * 1024


class ExpansionError(ValueError):
    """A string's references expand past :data:`MAX_EXPANDED` characters."""


def escape(text: str) -> str:
    """``text`` as a template that renders to itself (``${`` becomes ``$${``): a value
    from the environment is data, never parsed for references again."""
    return text.replace("${", "$${")


def render(
    value: Any, resolve: Resolver, limit: int = MAX_EXPANDED, keep_escapes: bool = False
) -> Any:
    """``value`` with every reference replaced by ``resolve(ref)``; ExpansionError when
    one string would grow past ``limit`` characters. ``keep_escapes``: the result is a
    template rendered again later (``$${`` stays ``$${``, so a literal stays literal)."""
    if isinstance(value, dict):
        return {k: render(v, resolve, limit, keep_escapes) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, resolve, limit, keep_escapes) for v in value]
    if not isinstance(value, str) or "$" not in value:
        return value
    parts = parse(value, keep_escapes)
    if len(parts) == 1 and isinstance(parts[0], Ref):
        return resolve(parts[0])
    out: list[str] = []
    size = 0
    for p in parts:
        text = p if isinstance(p, str) else _text(resolve(p))
        size += len(text)
        if size > limit:
            raise ExpansionError(
                f"{value[:60]!r} expands to more than {limit} characters",
            )
        out.append(text)
    return "".join(out)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)
