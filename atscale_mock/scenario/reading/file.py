"""Load and validate a scenario file: every problem at once, each with file:line:column,
the offending line, a caret and a fix. No network; the environment is read for
``${env:}`` and ``${secret:}``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path as FsPath
from typing import Any

from ...delivery.faults import Faults
from ...errors import Problem, ScenarioError, UsageError
from ...events.catalogue import suggest
from ...simulation.model import EngineSpec
from ..model import SCENARIO_VERSION, Defaults, Expect, Scenario
from ..units import positive_duration
from ..yamlpos import Document, load
from .base import _iso_time
from .engine import EngineLoader, parse_time_scale
from .load_section import load_spec
from .steps import StepLoader

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
DEFAULT_KEYS = ("to", "headers", "timeout", "retries", "seed", "expect", "atscale_version")
FAULT_KEYS = ("duplicates", "reorder", "drop", "delay", "jitter", "malformed", "malformed_rate")


class NoEnvironment(dict[str, str]):
    """An environment that is never read (``validate --no-env``): a reference with a
    default takes its default, one without stays a reference whose value is not checked,
    so a scenario that needs secrets can be linted where they are not set."""

    unread = True


def read_scenario(
    file: str | FsPath,
    environ: Mapping[str, str] | None = None,
    var_overrides: Mapping[str, Any] | None = None,
) -> Scenario:
    """The scenario in ``file``; ScenarioError listing every problem otherwise.
    ``scenarios/NAME.yaml`` that is not there is the bundled example of that name
    (:func:`atscale_mock.examples.resolve`)."""
    from ...examples import resolve

    name = str(file)  # as the user wrote it, also when the bundled example is read
    try:
        raw = FsPath(resolve(file)).read_bytes()
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
        problems = sorted(loader.problems, key=lambda p: (p.line, p.column))
        raise ScenarioError(_redacted(problems, loader.secrets))
    return scenario


def _redacted(problems: list[Problem], secrets: list[str]) -> list[Problem]:
    """A problem must not print a resolved ``${secret:}`` (a bad URL quoted back, ...);
    the source line shows the reference, not the value, and stays."""
    if not secrets:
        return problems
    from dataclasses import replace

    from ...redact import Redactor

    redactor = Redactor(secrets)
    return [
        replace(p, message=redactor.text(p.message), hint=redactor.text(p.hint)) for p in problems
    ]


class _Loader(StepLoader):
    def __init__(
        self, doc: Document, environ: Mapping[str, str], var_overrides: Mapping[str, Any]
    ) -> None:
        super().__init__(doc, environ, var_overrides)
        self.engine = EngineLoader(self)

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
        d = self.mapping(raw, ("faults",), FAULT_KEYS, "faults")
        return Faults(**self.fault_values(("faults",), d))

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
            self.convert((*p, "timeout"), d["timeout"], positive_duration, "timeout")
            if "timeout" in d
            else None
        )
        retries = (
            self.integer((*p, "retries"), d["retries"], "retries", 0) if "retries" in d else None
        )
        seed = self.integer((*p, "seed"), d["seed"], "seed", 0) if "seed" in d else None
        expect = Expect().merged(self.load_expect((*p, "expect"), d.get("expect", {})))
        version = (
            self.load_version((*p, "atscale_version"), d["atscale_version"])
            if ("atscale_version" in d)
            else None
        )
        base = Defaults()
        return Defaults(
            to,
            headers,
            timeout or base.timeout,
            base.retries if retries is None else retries,
            seed,
            expect,
            version,
        )

    def load_version(self, path: Any, raw: Any) -> str | None:
        """An AtScale version whose catalogue is documented (its events are checked
        against it as the steps load)."""
        from ...events.versions import catalogue

        try:
            self.catalogue = catalogue(str(raw))
        except UsageError as exc:
            self.add(path, exc.message.removeprefix("atscale_version: "), exc.hint)
            return None
        return str(raw)
