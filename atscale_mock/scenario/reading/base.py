"""What every part of scenario loading shares: positioned problems, key checks, value
conversion, ``${...}`` resolution for env/secret/vars, and the small sections used in
several places (``to``, ``headers``, ``expect``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ...delivery.headers import check_name, check_value
from ...delivery.request import check_url
from ...errors import Problem, UsageError
from ...events.catalogue import suggest
from ...events.payload import parse_timestamp
from .. import template
from ..template import Ref
from ..units import parse_duration, positive_duration
from ..yamlpos import Document, Path

EXPECT_KEYS = ("status", "max_latency", "json")


if TYPE_CHECKING:
    from ...events.versions import Catalogue


class LoaderBase:
    def __init__(
        self, doc: Document, environ: Mapping[str, str], var_overrides: Mapping[str, Any]
    ) -> None:
        self.doc = doc
        self.environ = environ
        self.var_overrides = var_overrides
        self.problems: list[Problem] = []
        self.vars: dict[str, Any] = {}
        self.secrets: list[str] = []
        #: defaults.atscale_version's catalogue: event steps are checked against it
        self.catalogue: Catalogue | None = None

    # -- helpers -------------------------------------------------------------------
    def add(self, path: Path, message: str, hint: str = "", *, key: bool = False) -> None:
        self.problems.append(self.doc.problem(path, message, hint, key=key))

    def mapping(
        self, value: Any, path: Path, allowed: tuple[str, ...], what: str
    ) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.add(path, f"{what} must be a mapping", f"keys: {', '.join(allowed)}")
            return {}
        for key in value:
            if key not in allowed:
                close = suggest(key, allowed)
                hint = f"did you mean '{close}'?" if close else "allowed: " + ", ".join(allowed)
                self.add((*path, key), f"unknown key '{key}' in {what}", hint, key=True)
        return {k: v for k, v in value.items() if k in allowed}

    def fault_values(self, p: Path, d: dict[str, Any]) -> dict[str, Any]:
        """Fault keys (under `faults:` or on a step) as Faults' field values."""
        from ...delivery.faults import MALFORMED_KINDS

        values: dict[str, Any] = {}
        for key in ("duplicates", "drop", "malformed_rate"):
            if key in d:
                values[key] = self.convert((*p, key), d[key], _fraction, key)
        for key in ("delay", "jitter"):
            if key in d:
                values[key] = self.convert((*p, key), d[key], parse_duration, "duration")
        if "reorder" in d:
            values["reorder"] = self.integer((*p, "reorder"), d["reorder"], "reorder", 0)
        if "malformed" in d:
            if d["malformed"] in MALFORMED_KINDS:
                values["malformed"] = d["malformed"]
            else:
                close = suggest(str(d["malformed"]), MALFORMED_KINDS)
                self.add(
                    (*p, "malformed"),
                    f"unknown malformed kind {d['malformed']!r}",
                    f"did you mean '{close}'?" if close else ", ".join(MALFORMED_KINDS),
                )
        return {k: v for k, v in values.items() if v is not None}

    def convert(self, path: Path, value: Any, parse: Callable[[Any], Any], what: str) -> Any:
        try:
            return parse(value)
        except (ValueError, TypeError) as exc:
            self.add(path, f"bad {what}: {value!r}", f"expected {exc}")
            return None

    def integer(self, path: Path, value: Any, what: str, minimum: int) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.add(path, f"bad {what}: {value!r}", f"expected a whole number >= {minimum}")
            return None
        return value

    def static(self, path: Path, value: Any, allow_steps: bool = False) -> Any:
        """``value`` with env/secret/vars references resolved; step references kept."""

        def resolve(ref: Ref) -> Any:
            if ref.kind in ("env", "secret"):
                found = self.environ.get(ref.name, ref.default)
                if found is None and getattr(self.environ, "unread", False):
                    return template.escape(ref.raw)  # validate --no-env: stays a reference
                if found is None:
                    self.add(
                        path,
                        f"environment variable {ref.name} is not set and {ref.raw} has no default",
                        getattr(self.environ, "missing_hint", "").format(name=ref.name)
                        or f"export {ref.name}=... or write ${{{ref.kind}:{ref.name}:-VALUE}}",
                    )
                    return ""
                if ref.kind == "secret":
                    self.secrets.append(found)
                return template.escape(found)  # the value is data, not a template
            if ref.kind == "vars":
                if ref.name not in self.vars:
                    close = suggest(ref.name, list(self.vars))
                    self.add(
                        path,
                        f"unknown variable '{ref.name}' in {ref.raw}",
                        f"did you mean '{close}'?" if close else "define it under `vars`",
                    )
                    return ""
                return self.vars[ref.name]
            if not allow_steps:
                self.add(path, f"{ref.raw}: step references are only allowed inside steps")
            return ref.raw

        try:  # inside steps the value is rendered again as it is sent: escapes stay
            return template.render(value, resolve, keep_escapes=allow_steps)
        except ValueError as exc:
            self.add(path, f"bad reference: {exc}")
            return value

    def load_to(self, path: Path, raw: Any, allow_steps: bool = False) -> str | None:
        if not isinstance(raw, str):
            self.add(path, "`to` must be a URL")
            return None
        before = len(self.problems)
        value = self.static(path, raw, allow_steps)
        if len(self.problems) > before:  # its reference is already reported
            return str(value)
        if not isinstance(value, str):  # `to: ${vars.v}` with v a number or null
            self.add(path, f"`to` must be a URL; its reference gave {value!r}")
            return None
        if value.strip().lower() != "local" and "${" not in value:
            try:
                check_url(value, "to")
            except UsageError as exc:
                self.add(path, exc.message, "use http(s)://host[:port]/path, or 'local'")
        return str(value)

    def load_headers(self, path: Path, raw: Any, allow_steps: bool) -> dict[str, str]:
        if not isinstance(raw, dict):
            self.add(path, "`headers` must be a mapping of header names to values")
            return {}
        out = {}
        for k, v in raw.items():
            value = str(self.static((*path, k), v, allow_steps))
            try:
                check_name(str(k), "header")
                if "${" not in value:
                    check_value(value, f"header {k}")
            except UsageError as exc:
                self.add((*path, k), exc.message, exc.hint)
            out[str(k)] = value
        return out

    def load_expect(self, path: Path, raw: Any) -> dict[str, Any]:
        e = self.mapping(raw, path, EXPECT_KEYS, "expect")
        out: dict[str, Any] = {}
        if "status" in e:
            values = e["status"] if isinstance(e["status"], list) else [e["status"]]
            good = [str(v).lower() for v in values if _status_pattern(v)]
            if len(good) != len(values):
                self.add(
                    (*path, "status"),
                    f"bad status {e['status']!r}",
                    "expected a code (200), a class (2xx) or a list of them",
                )
            out["status"] = tuple(good)
        if "max_latency" in e:
            out["max_latency"] = self.convert(
                (*path, "max_latency"), e["max_latency"], positive_duration, "max_latency"
            )
        if "json" in e:
            if isinstance(e["json"], dict):
                out["json"] = {str(k): v for k, v in e["json"].items()}
            else:
                self.add(
                    (*path, "json"),
                    "`json` must map response-body paths to values",
                    "for example json: {accepted: true}",
                )
        return out


def _fraction(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError("a number from 0 to 1")
    return float(value)


def _safe_refs(value: Any) -> list[Ref]:
    """The references in a value; a malformed one was reported already."""
    try:
        return list(template.refs(value))
    except ValueError:
        return []


def _iso_time(value: str) -> str:
    try:
        parse_timestamp(value)
    except UsageError:
        raise ValueError("an ISO 8601 time such as 2024-03-01T00:00:00Z") from None
    return value


def _status_pattern(value: Any) -> bool:
    text = str(value).lower()
    if isinstance(value, bool):
        return False
    if len(text) == 3 and text[0] in "12345" and text[1:] == "xx":
        return True
    return text.isdigit() and 100 <= int(text) <= 599
