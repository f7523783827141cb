"""Load and validate a scenario file: every problem at once, each with file:line:column,
the offending line, a caret and a fix. No network; the environment is read for
``${env:}`` and ``${secret:}``."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path as FsPath
from typing import Any

from ..catalogue import event_names, event_suggestion, find_event, suggest
from ..engine.model import EngineSpec
from ..engine.steps import ENGINE_STEP_KINDS, EngineStep
from ..errors import Problem, ScenarioError, UsageError
from ..faults import MALFORMED_KINDS, Faults
from ..payload import parse_timestamp
from ..sending import check_url
from . import template
from .engine_loader import EngineLoader, parse_time_scale
from .load_loader import load_spec
from .model import (
    SCENARIO_VERSION,
    Defaults,
    EventStep,
    Expect,
    Parallel,
    Repeat,
    Scenario,
    Step,
)
from .template import Ref
from .units import parse_duration, parse_rate
from .yamlpos import Document, Path, load

TOP_KEYS = (
    "version",
    "name",
    "description",
    "clock",
    "time_scale",
    "engine",
    "load",
    "faults",
    "defaults",
    "vars",
    "steps",
)
DEFAULT_KEYS = ("to", "headers", "timeout", "retries", "seed", "expect")
EVENT_STEP_KEYS = (
    "id",
    "event",
    "description",
    "set",
    "after",
    "at",
    "repeat",
    "expect",
    "full",
    "failed",
    "to",
    "headers",
)
PARALLEL_KEYS = ("id", "parallel", "description", "after", "at")
STEP_KINDS = ("event", "parallel", *ENGINE_STEP_KINDS)
REPEAT_KEYS = ("count", "rate", "every", "jitter")
FAULT_KEYS = ("duplicates", "reorder", "drop", "delay", "jitter", "malformed", "malformed_rate")
EXPECT_KEYS = ("status", "max_latency", "json")


def load_scenario(
    file: str | FsPath,
    environ: Mapping[str, str] | None = None,
    var_overrides: Mapping[str, Any] | None = None,
) -> Scenario:
    """The scenario in ``file``; ScenarioError listing every problem otherwise."""
    name = str(file)
    try:
        raw = FsPath(file).read_bytes()
    except OSError as exc:
        raise ScenarioError(
            [Problem(name, 0, 0, f"cannot read the file: {exc.strerror}")]
        ) from None
    return parse_scenario(raw, name, environ, var_overrides)


def parse_scenario(
    raw: bytes,
    file: str,
    environ: Mapping[str, str] | None = None,
    var_overrides: Mapping[str, Any] | None = None,
) -> Scenario:
    doc, problems = load(raw, file)
    if problems:
        raise ScenarioError(problems)
    loader = _Loader(doc, os.environ if environ is None else environ, var_overrides or {})
    scenario = loader.scenario()
    if loader.problems or scenario is None:
        raise ScenarioError(sorted(loader.problems, key=lambda p: (p.line, p.column)))
    return scenario


class _Loader:
    def __init__(
        self, doc: Document, environ: Mapping[str, str], var_overrides: Mapping[str, Any]
    ) -> None:
        self.doc = doc
        self.environ = environ
        self.var_overrides = var_overrides
        self.problems: list[Problem] = []
        self.vars: dict[str, Any] = {}
        self.secrets: list[str] = []
        self.all_ids: dict[str, EventStep] = {}
        self.id_paths: dict[str, Path] = {}
        self.engine_ids: set[str] = set()
        self.engine = EngineLoader(self)

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
                if found is None:
                    self.add(
                        path,
                        f"environment variable {ref.name} is not set and {ref.raw} has no default",
                        f"export {ref.name}=... or write ${{{ref.kind}:{ref.name}:-VALUE}}",
                    )
                    return ""
                if ref.kind == "secret":
                    self.secrets.append(found)
                return found
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

        try:
            return template.render(value, resolve)
        except ValueError as exc:
            self.add(path, f"bad reference: {exc}")
            return value

    # -- sections ------------------------------------------------------------------
    def scenario(self) -> Scenario | None:
        data = self.doc.data
        if not isinstance(data, dict):
            self.add(
                (),
                "a scenario must be a mapping at the top level",
                "start with `version: 1` and a list of `steps`",
            )
            return None
        top = self.mapping(data, (), TOP_KEYS, "the scenario")
        if "version" not in top:
            self.add((), "missing `version`", f"add `version: {SCENARIO_VERSION}`")
        elif top["version"] != SCENARIO_VERSION:
            self.add(
                ("version",),
                f"unsupported version {top['version']!r}",
                f"this atscale-mock reads version {SCENARIO_VERSION}",
            )
        name = top.get("name", FsPath(self.doc.file).stem)
        if not isinstance(name, str):
            self.add(("name",), "`name` must be text")
        clock = top.get("clock")
        if clock is not None:
            clock = self.convert(("clock",), str(clock), _iso_time, "clock")
        time_scale = (
            self.convert(("time_scale",), top["time_scale"], parse_time_scale, "time_scale")
            if "time_scale" in top
            else 1.0
        )
        spec = self.engine.spec(top["engine"]) if "engine" in top else None
        load_section = load_spec(self, top["load"]) if "load" in top else None
        faults = self.load_faults(top["faults"]) if "faults" in top else Faults()
        self.vars = self.load_vars(top.get("vars", {}))
        defaults = self.load_defaults(top.get("defaults", {}))
        steps = self.load_steps(top.get("steps"), defaults)
        if spec is None and self.engine_ids:
            spec = EngineSpec()
        return Scenario(
            self.doc.file,
            str(name),
            tuple(steps),
            defaults,
            self.vars,
            clock,
            tuple(self.secrets),
            spec,
            time_scale or 1.0,
            load_section,
            faults,
        )

    def load_faults(self, raw: Any) -> Faults:
        p: Path = ("faults",)
        d = self.mapping(raw, p, FAULT_KEYS, "faults")
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
        return Faults(**{k: v for k, v in values.items() if v is not None})

    def load_vars(self, raw: Any) -> dict[str, Any]:
        if not isinstance(raw, dict):
            self.add(("vars",), "`vars` must be a mapping of names to values")
            return {}
        for name in self.var_overrides:
            if name not in raw:
                close = suggest(name, list(raw))
                self.add(
                    ("vars",),
                    f"--var {name}: the scenario has no variable '{name}'",
                    f"did you mean '{close}'?" if close else f"vars: {', '.join(raw)}",
                )
        result: dict[str, Any] = {}
        for name, value in raw.items():
            path = ("vars", name)
            if name in self.var_overrides:
                result[name] = self.var_overrides[name]
                continue
            self.vars = result  # a var may use the vars defined before it
            result[name] = self.static(path, value)
        return result

    def load_defaults(self, raw: Any) -> Defaults:
        d = self.mapping(raw, ("defaults",), DEFAULT_KEYS, "defaults")
        p = ("defaults",)
        to = self.load_to((*p, "to"), d["to"]) if "to" in d else None
        headers = self.load_headers((*p, "headers"), d.get("headers", {}), allow_steps=False)
        timeout = (
            self.convert((*p, "timeout"), d["timeout"], _positive_duration, "timeout")
            if "timeout" in d
            else None
        )
        retries = (
            self.integer((*p, "retries"), d["retries"], "retries", 0) if "retries" in d else None
        )
        seed = self.integer((*p, "seed"), d["seed"], "seed", 0) if "seed" in d else None
        expect = Expect().merged(self.load_expect((*p, "expect"), d.get("expect", {})))
        base = Defaults()
        return Defaults(
            to,
            headers,
            timeout or base.timeout,
            base.retries if retries is None else retries,
            seed,
            expect,
        )

    def load_to(self, path: Path, raw: Any, allow_steps: bool = False) -> str | None:
        if not isinstance(raw, str):
            self.add(path, "`to` must be a URL")
            return None
        before = len(self.problems)
        value = self.static(path, raw, allow_steps)
        if len(self.problems) > before:  # its reference is already reported
            return str(value)
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
        return {str(k): str(self.static((*path, k), v, allow_steps)) for k, v in raw.items()}

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
                (*path, "max_latency"), e["max_latency"], _positive_duration, "max_latency"
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

    # -- steps ---------------------------------------------------------------------
    def load_steps(self, raw: Any, defaults: Defaults) -> list[Step]:
        if raw is None:
            self.add((), "missing `steps`", "add a list of steps, e.g. - event: slow-query")
            return []
        if not isinstance(raw, list) or not raw:
            self.add(("steps",), "`steps` must be a non-empty list")
            return []
        self.collect_ids(raw)
        known: set[str] = set()
        steps: list[Step] = []
        for i, item in enumerate(raw):
            step = self.load_step(item, ("steps", i), f"step{i + 1}", defaults, known)
            if step is not None:
                steps.append(step)
                known.update(step.ids)
        return steps

    def collect_ids(self, raw: list[Any]) -> None:
        """Every explicit step id, for 'later step' and duplicate messages."""
        for i, item in enumerate(raw):
            items: list[tuple[Path, Any]] = [(("steps", i), item)]
            if isinstance(item, dict) and isinstance(item.get("parallel"), list):
                items += [(("steps", i, "parallel", j), b) for j, b in enumerate(item["parallel"])]
            for path, step in items:
                if not isinstance(step, dict) or "id" not in step:
                    continue
                sid = str(step["id"])
                if not template._STEP_ID.match(sid):
                    self.add(
                        (*path, "id"), f"bad step id {sid!r}", "use letters, digits, '-' and '_'"
                    )
                elif sid in self.id_paths:
                    first = self.doc.values.get((*self.id_paths[sid], "id"))
                    where = f"line {first.line}" if first else "earlier"
                    self.add(
                        (*path, "id"),
                        f"duplicate step id '{sid}'",
                        f"first used at {where}; ids must be unique",
                    )
                else:
                    self.id_paths[sid] = path

    def load_step(
        self,
        raw: Any,
        path: Path,
        auto_id: str,
        defaults: Defaults,
        known: set[str],
        siblings: tuple[str, ...] = (),
    ) -> Step | None:
        if not isinstance(raw, dict):
            self.add(path, "a step must be a mapping", "for example - event: slow-query")
            return None
        kinds = [k for k in STEP_KINDS if k in raw]
        if len(kinds) != 1:
            close = next((suggest(k, STEP_KINDS) for k in raw if suggest(k, STEP_KINDS)), None)
            hint = (
                f"did you mean '{close}'?"
                if close
                else f"a step has exactly one of: {', '.join(STEP_KINDS)}"
            )
            what = "needs exactly one of" if not kinds else "cannot have more than one of"
            self.add(path, f"a step {what} " + ", ".join(f"`{k}`" for k in STEP_KINDS), hint)
            return None
        sid = str(raw.get("id", auto_id))
        timing = self.load_timing(path, raw)
        if kinds[0] == "parallel":
            if siblings:
                self.add((*path, "parallel"), "parallel groups cannot be nested")
                return None
            self.mapping(raw, path, PARALLEL_KEYS, "a parallel step")
            return self.load_parallel(raw["parallel"], path, sid, defaults, known, timing)
        if kinds[0] in ENGINE_STEP_KINDS:
            self.engine_ids.add(sid)
            return self.engine.step(kinds[0], raw, path, sid, timing)
        return self.load_event_step(raw, path, sid, defaults, known, siblings, timing)

    def load_timing(self, path: Path, raw: dict[str, Any]) -> tuple[float, float | None]:
        after = (
            self.convert((*path, "after"), raw["after"], parse_duration, "duration")
            if "after" in raw
            else 0.0
        )
        at = (
            self.convert((*path, "at"), raw["at"], parse_duration, "duration")
            if "at" in raw
            else None
        )
        return after or 0.0, at

    def load_parallel(
        self,
        raw: Any,
        path: Path,
        sid: str,
        defaults: Defaults,
        known: set[str],
        timing: tuple[float, float | None],
    ) -> Parallel | None:
        if not isinstance(raw, list) or not raw:
            self.add((*path, "parallel"), "`parallel` must be a non-empty list of steps")
            return None
        sibling_ids = tuple(
            str(b.get("id", f"{sid}-{j + 1}")) if isinstance(b, dict) else ""
            for j, b in enumerate(raw)
        )
        branches: list[EventStep | EngineStep] = []
        for j, item in enumerate(raw):
            branch = self.load_step(
                item, (*path, "parallel", j), f"{sid}-{j + 1}", defaults, known, sibling_ids
            )
            if branch is not None and not isinstance(branch, Parallel):
                branches.append(branch)
        return Parallel(sid, tuple(branches), path, *timing)

    def load_event_step(
        self,
        raw: dict[str, Any],
        path: Path,
        sid: str,
        defaults: Defaults,
        known: set[str],
        siblings: tuple[str, ...],
        timing: tuple[float, float | None],
    ) -> EventStep | None:
        s = self.mapping(raw, path, EVENT_STEP_KEYS, "an event step")
        event = find_event(str(s["event"])) if isinstance(s.get("event"), str) else None
        if event is None:
            close = event_suggestion(str(s.get("event")))
            self.add(
                (*path, "event"),
                f"unknown event '{s.get('event')}'",
                f"did you mean '{close}'?" if close else "events: " + ", ".join(event_names()),
            )
        overrides = self.load_set(path, s.get("set", {}), event)
        repeat = self.load_repeat((*path, "repeat"), s["repeat"]) if "repeat" in s else Repeat()
        expect = defaults.expect.merged(self.load_expect((*path, "expect"), s.get("expect", {})))
        flags = {k: s.get(k, False) for k in ("full", "failed")}
        for k, v in flags.items():
            if not isinstance(v, bool):
                self.add((*path, k), f"`{k}` must be true or false")
        if event is not None and flags["failed"] is True and not event.failure:
            self.add(
                (*path, "failed"),
                f"event '{event.name}' has no failure variant in the spec",
                "set the field you want under `set`",
            )
        to = self.load_to((*path, "to"), s["to"], allow_steps=True) if "to" in s else None
        headers = self.load_headers((*path, "headers"), s.get("headers", {}), allow_steps=True)
        step_refs = [
            (p, r)
            for p, v in [((*path, "to"), to), ((*path, "headers"), headers)]
            for r in _safe_refs(v)
            if r.kind == "steps"
        ]
        step_refs += [
            ((*path, "set", k), r)
            for k, v in overrides.items()
            for r in _safe_refs(v)
            if r.kind == "steps"
        ]
        for ref_path, ref in step_refs:
            self.check_step_ref(ref_path, ref, known, siblings)
        if event is None:
            return None
        step = EventStep(
            sid,
            event,
            path,
            overrides,
            *timing,
            repeat,
            expect,
            bool(flags["full"]),
            bool(flags["failed"]),
            to,
            headers,
        )
        self.all_ids[sid] = step
        return step

    def load_set(self, path: Path, raw: Any, event: Any) -> dict[str, Any]:
        if not isinstance(raw, dict):
            self.add(
                (*path, "set"),
                "`set` must map field paths to values",
                "for example set: {context.project_id: ..., is_full_build: true}",
            )
            return {}
        out: dict[str, Any] = {}
        for key, value in raw.items():
            key_path = (*path, "set", key)
            if event is not None and event.field(key) is None:
                close = suggest(key, event.paths)
                self.add(
                    key_path,
                    f"event '{event.name}' has no field '{key}'",
                    (f"did you mean '{close}'? " if close else "")
                    + "fields: "
                    + ", ".join(event.paths),
                    key=True,
                )
                continue
            out[key] = self.static(key_path, value, allow_steps=True)
        return out

    def load_repeat(self, path: Path, raw: Any) -> Repeat:
        r = self.mapping(raw, path, REPEAT_KEYS, "repeat")
        count = self.integer((*path, "count"), r.get("count"), "count", 1) if "count" in r else None
        if "count" not in r and isinstance(raw, dict):
            self.add(
                path, "`repeat` needs a `count`", "for example repeat: {count: 20, rate: 10/s}"
            )
        if "rate" in r and "every" in r:
            self.add(
                (*path, "every"),
                "give `rate` or `every`, not both",
                "rate: 10/s is the same as every: 100ms",
            )
        interval = 0.0
        if "rate" in r:
            rate = self.convert((*path, "rate"), r["rate"], parse_rate, "rate")
            interval = 1.0 / rate if rate else 0.0
        elif "every" in r:
            interval = self.convert((*path, "every"), r["every"], parse_duration, "duration") or 0.0
        jitter = (
            self.convert((*path, "jitter"), r["jitter"], parse_duration, "duration")
            if "jitter" in r
            else 0.0
        )
        return Repeat(count or 1, interval, jitter or 0.0)

    def check_step_ref(
        self, path: Path, ref: Ref, known: set[str], siblings: tuple[str, ...]
    ) -> None:
        if ref.name in siblings:
            self.add(
                path,
                f"{ref.raw} refers to a step in the same parallel group",
                "branches run at the same time; refer to a step before the group",
            )
        elif ref.name in self.engine_ids:
            self.add(
                path,
                f"{ref.raw} refers to an engine step",
                "the events an engine step implies cannot be referenced; use an event step",
            )
        elif ref.name in self.id_paths and ref.name not in known:
            self.add(
                path,
                f"{ref.raw} refers to a later step",
                "a step can only use steps that come before it",
            )
        elif ref.name not in known:
            close = suggest(ref.name, sorted(known))
            self.add(
                path,
                f"{ref.raw} refers to an unknown step '{ref.name}'",
                f"did you mean '{close}'?" if close else "give the step an `id`",
            )
        elif ref.path.startswith("payload.") and ref.name in self.all_ids:
            field = ref.path.removeprefix("payload.")
            event = self.all_ids[ref.name].event
            if event.field(field) is None:
                close = suggest(field, event.paths)
                self.add(
                    path,
                    f"{ref.raw}: event '{event.name}' has no field '{field}'",
                    f"did you mean '{close}'?" if close else "fields: " + ", ".join(event.paths),
                )


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


def _positive_duration(value: Any) -> float:
    seconds = parse_duration(value)
    if seconds <= 0:
        raise ValueError("a duration greater than zero")
    return seconds


def _status_pattern(value: Any) -> bool:
    text = str(value).lower()
    if isinstance(value, bool):
        return False
    if len(text) == 3 and text[0] in "12345" and text[1:] == "xx":
        return True
    return text.isdigit() and 100 <= int(text) <= 599
