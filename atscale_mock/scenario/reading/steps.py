"""Loading the `steps` list: event steps, parallel groups and (through the engine
loader) engine steps; ids, references between steps, `set`, `repeat` and timing."""

from __future__ import annotations

from typing import Any

from ...events.catalogue import event_names, event_suggestion, find_event, suggest
from ...simulation.steps import ENGINE_STEP_KINDS, EngineStep
from .. import template
from ..model import Defaults, EventStep, Parallel, Repeat, Step
from ..template import Ref
from ..units import parse_duration, parse_rate
from ..yamlpos import Path
from .base import LoaderBase, _safe_refs
from .engine import EngineLoader

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
    # per step: signing and faults (over the run's --sign and the file's faults:)
    "sign",
    "bad_signature",
    "stale_timestamp",
    "duplicates",
    "drop",
    "malformed",
    "malformed_rate",
)
STEP_FAULT_KEYS = ("duplicates", "drop", "malformed", "malformed_rate")
PARALLEL_KEYS = ("id", "parallel", "description", "after", "at")
STEP_KINDS = ("event", "parallel", *ENGINE_STEP_KINDS)
REPEAT_KEYS = ("count", "rate", "every", "jitter")


class StepLoader(LoaderBase):
    """Knows every step id (for 'later step' and duplicate messages) and the event steps
    loaded so far (to check ``${steps.ID.payload.PATH}``)."""

    engine: EngineLoader

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.all_ids: dict[str, EventStep] = {}
        self.id_paths: dict[str, Path] = {}
        self.engine_ids: set[str] = set()
        self.sizes: dict[tuple[str, str], int] = {}  # (step id, set key) -> est. chars
        self.ids_by_path: dict[Path, str] = {}

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
                    first = self.doc.mark_of((*self.id_paths[sid], "id"))
                    where = f"line {first.line}" if first else "earlier"
                    self.add(
                        (*path, "id"),
                        f"duplicate step id '{sid}'",
                        f"first used at {where}; ids must be unique",
                    )
                else:
                    self.id_paths[sid] = path
                    self.ids_by_path[path] = sid

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
        elif self.catalogue is not None and not self.catalogue.has(event):
            refused = self.catalogue.refuse(event)
            self.add((*path, "event"), refused.message, refused.hint)
        # absent keys cost nothing: a file of 100,000 plain steps loads in seconds
        overrides = self.load_set(path, s["set"], event) if "set" in s else {}
        repeat = self.load_repeat((*path, "repeat"), s["repeat"]) if "repeat" in s else Repeat()
        expect = (
            defaults.expect.merged(self.load_expect((*path, "expect"), s["expect"]))
            if "expect" in s
            else defaults.expect
        )
        flags = {k: s.get(k, False) for k in ("full", "failed", "bad_signature")}
        flags["sign"] = s.get("sign", True)
        stale = 0.0
        if "stale_timestamp" in s:
            stale = (
                self.convert(
                    (*path, "stale_timestamp"), s["stale_timestamp"], parse_duration, "duration"
                )
                or 0.0
            )
        own_faults = {k: s[k] for k in STEP_FAULT_KEYS if k in s}
        faults = self.fault_values(path, own_faults) if own_faults else {}
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
        headers = (
            self.load_headers((*path, "headers"), s["headers"], allow_steps=True)
            if "headers" in s
            else {}
        )
        step_refs = [
            (p, r)
            for p, v in [((*path, "to"), to), ((*path, "headers"), headers)]
            if v
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
            path,
            event,
            overrides,
            repeat,
            expect,
            bool(flags["full"]),
            bool(flags["failed"]),
            to,
            headers,
            after=timing[0],
            at=timing[1],
            faults=faults,
            sign=bool(flags["sign"]),
            bad_signature=bool(flags["bad_signature"]),
            stale_timestamp=float(stale),
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
            self._bound_expansion(key_path, out[key])
        return out

    #: characters a generated field is taken to hold when a reference names it (the
    #: longest generated value, an error message, is well under this)
    GENERATED_SIZE = 1024

    def _bound_expansion(self, path: Path, value: Any) -> None:
        """``${steps.a.payload.x}${steps.a.payload.x}`` in each of forty steps doubles
        forty times: refused here, at validation, with the estimate of what each
        ``set`` value expands to (a referenced step's own estimate, or
        GENERATED_SIZE), not first by plan or run."""
        from .. import template

        if not isinstance(value, str) or "${" not in value:
            size = len(value) if isinstance(value, str) else 0
        else:
            size = 0
            try:
                parts = template.parse(value)
            except ValueError:
                return  # reported by static()
            for part in parts:
                if isinstance(part, str):
                    size += len(part)
                elif part.kind == "steps":
                    field = part.path.removeprefix("payload.")
                    size += self.sizes.get((part.name, field), self.GENERATED_SIZE)
                else:
                    size += self.GENERATED_SIZE
        step_id = self._step_id_at(path)
        if step_id is not None:
            self.sizes[(step_id, str(path[-1]))] = size
        if size > template.MAX_EXPANDED:
            self.add(
                path,
                f"{value[:60]!r} expands to more than {template.MAX_EXPANDED} characters",
                "reference fewer (or smaller) values",
            )

    def _step_id_at(self, path: Path) -> str | None:
        """The id of the step whose ``set`` is at ``path`` (…, "set", key)."""
        return self.ids_by_path.get(tuple(path[:-2]))

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
