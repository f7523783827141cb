"""Loading the engine parts of a scenario: the ``engine:`` section, ``time_scale`` and
the engine step kinds ``batch``, ``queries``, ``publish`` and ``unpublish``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ...config import MAX_TIME_SCALE, MIN_TIME_SCALE
from ...events.catalogue import suggest
from ...simulation.model import CubeSpec, Distribution, EngineSpec, ProjectSpec
from ...simulation.steps import BatchStep, EngineStep, PublishStep, QueriesStep, UnpublishStep
from ..template import _STEP_ID
from ..units import parse_rate, positive_duration
from ..yamlpos import Path

if TYPE_CHECKING:
    from .base import LoaderBase as _Loader

ENGINE_KEYS = ("org", "slow_query_threshold", "slow_agg_build_threshold", "projects")
PROJECT_KEYS = ("name", "uuid", "published", "cubes")
CUBE_KEYS = ("name", "uuid", "aggregate_limit")
COMMON = ("id", "description", "after", "at")
BATCH_KEYS = (
    "cubes",
    "project",
    "full",
    "aggregates",
    "build_duration",
    "failure_probability",
    "error",
)
QUERIES_KEYS = ("cubes", "project", "count", "rate", "over", "latency", "success_ratio")
PUBLISH_KEYS = ("project", "uuid", "cubes", "status")
UNPUBLISH_KEYS = ("project",)
DIST_KEYS = ("median", "p99")


class EngineLoader:
    """Knows the projects and cubes declared so far, to check what steps refer to."""

    def __init__(self, loader: _Loader) -> None:
        self.L = loader
        self.cubes: dict[str, list[str]] = {}  # project -> cube names

    # -- the engine section -------------------------------------------------------
    def spec(self, raw: Any) -> EngineSpec:
        p: Path = ("engine",)
        e = self.L.mapping(raw, p, ENGINE_KEYS, "engine")
        base = EngineSpec()
        sq = self.positive((*p, "slow_query_threshold"), e, base.slow_query_threshold)
        sa = self.positive((*p, "slow_agg_build_threshold"), e, base.slow_agg_build_threshold)
        projects_raw = e.get("projects", [])
        if not isinstance(projects_raw, list):
            self.L.add((*p, "projects"), "`projects` must be a list")
            projects_raw = []
        projects = [self.project((*p, "projects", i), item) for i, item in enumerate(projects_raw)]
        return EngineSpec(
            str(e.get("org", base.org)), sq, sa, tuple(x for x in projects if x is not None)
        )

    def positive(self, path: Path, raw: dict[str, Any], default: float) -> float:
        if path[-1] not in raw:
            return default
        value = self.L.convert(path, raw[path[-1]], positive_duration, "duration")
        return default if value is None else float(value)

    def project(self, path: Path, raw: Any) -> ProjectSpec | None:
        d = self.L.mapping(raw, path, PROJECT_KEYS, "a project")
        name = self.name(path, d)
        if name is None:
            return None
        cubes = self.cube_specs((*path, "cubes"), d.get("cubes", []))
        if name in self.cubes:
            self.L.add((*path, "name"), f"duplicate project '{name}'")
        self.cubes[name] = [c.name for c in cubes]
        return ProjectSpec(name, cubes, self.uuid(path, d), bool(d.get("published", True)))

    def cube_specs(self, path: Path, raw: Any) -> tuple[CubeSpec, ...]:
        if not isinstance(raw, list):
            self.L.add(path, "`cubes` must be a list of cubes", "for example - {name: orders}")
            return ()
        out = []
        for i, item in enumerate(raw):
            d = self.L.mapping(item, (*path, i), CUBE_KEYS, "a cube")
            name = self.name((*path, i), d)
            limit = d.get("aggregate_limit")
            if limit is not None:
                limit = self.L.integer((*path, i, "aggregate_limit"), limit, "aggregate_limit", 1)
            if name is not None:
                out.append(CubeSpec(name, self.uuid((*path, i), d), limit))
        return tuple(out)

    def name(self, path: Path, d: dict[str, Any]) -> str | None:
        name = d.get("name")
        if not isinstance(name, str) or not _STEP_ID.match(name):
            self.L.add(
                path if "name" not in d else (*path, "name"),
                "a project or cube needs a `name` of letters, digits, '-' and '_'",
            )
            return None
        return name

    def uuid(self, path: Path, d: dict[str, Any]) -> str | None:
        import re

        from ...events.schema import UUID_PATTERN

        value = d.get("uuid")
        if value is not None and not re.match(UUID_PATTERN, str(value)):
            self.L.add((*path, "uuid"), f"not a lowercase 8-4-4-4-12 id: {value!r}")
            return None
        return None if value is None else str(value)

    # -- steps --------------------------------------------------------------------
    def step(
        self,
        kind: str,
        raw: dict[str, Any],
        path: Path,
        sid: str,
        timing: tuple[float, float | None],
    ) -> EngineStep | None:
        self.L.mapping(raw, path, (*COMMON, kind), f"a {kind} step")
        loaders: dict[str, Callable[..., EngineStep | None]] = {
            "batch": self.batch,
            "queries": self.queries,
            "publish": self.publish,
            "unpublish": self.unpublish,
        }
        return loaders[kind](raw[kind], (*path, kind), sid, path, timing)

    def batch(
        self, raw: Any, path: Path, sid: str, step_path: Path, timing: tuple[float, float | None]
    ) -> BatchStep | None:
        d = self.L.mapping(raw, path, BATCH_KEYS, "batch")
        cubes = self.cube_refs(path, d)
        aggregates = self.L.integer((*path, "aggregates"), d.get("aggregates", 5), "aggregates", 1)
        dist = self.distribution(
            (*path, "build_duration"), d.get("build_duration"), Distribution(2.0, 30.0)
        )
        failure = self.probability((*path, "failure_probability"), d.get("failure_probability", 0))
        error = d.get("error")
        if not cubes or aggregates is None or dist is None or failure is None:
            return None
        return BatchStep(
            sid,
            step_path,
            cubes,
            bool(d.get("full", False)),
            aggregates,
            dist,
            failure,
            None if error is None else str(error),
            after=timing[0],
            at=timing[1],
        )

    def queries(
        self, raw: Any, path: Path, sid: str, step_path: Path, timing: tuple[float, float | None]
    ) -> QueriesStep | None:
        d = self.L.mapping(raw, path, QUERIES_KEYS, "queries")
        cubes = self.cube_refs(path, d)
        over = (
            self.L.convert((*path, "over"), d.get("over"), positive_duration, "duration `over`")
            if "over" in d
            else None
        )
        if "over" not in d and isinstance(raw, dict):
            self.L.add(
                path,
                "`queries` needs `over`: the period the workload spans",
                "for example over: 8h",
            )
        count = None
        if ("count" in d) == ("rate" in d):
            self.L.add(path, "give `count` or `rate` for the workload, not both and not neither")
        elif "count" in d:
            count = self.L.integer((*path, "count"), d["count"], "count", 0)
        else:
            rate = self.L.convert((*path, "rate"), d["rate"], parse_rate, "rate")
            count = round(rate * over) if rate and over else None
        latency = self.distribution((*path, "latency"), d.get("latency"), Distribution(0.8, 12.0))
        ratio = self.probability((*path, "success_ratio"), d.get("success_ratio", 1))
        if not cubes or over is None or count is None or latency is None or ratio is None:
            return None
        return QueriesStep(
            sid, step_path, cubes, over, count, latency, ratio, after=timing[0], at=timing[1]
        )

    def publish(
        self, raw: Any, path: Path, sid: str, step_path: Path, timing: tuple[float, float | None]
    ) -> PublishStep | None:
        d = self.L.mapping(raw, path, PUBLISH_KEYS, "publish")
        name = d.get("project")
        if not isinstance(name, str) or not _STEP_ID.match(name):
            self.L.add(path, "`publish` needs a `project` name")
            return None
        if name in self.cubes:
            self.L.add(
                (*path, "project"),
                f"project '{name}' already exists",
                "publish creates a new project; choose another name",
            )
        cubes = self.cube_specs((*path, "cubes"), d.get("cubes", []))
        status = d.get("status", "success")
        if status not in ("success", "failure"):
            self.L.add((*path, "status"), f"bad status {status!r}", "success or failure")
        self.cubes[name] = [c.name for c in cubes]
        uuid = self.uuid(path, d)
        return PublishStep(
            sid, step_path, name, cubes, str(status), uuid, after=timing[0], at=timing[1]
        )

    def unpublish(
        self, raw: Any, path: Path, sid: str, step_path: Path, timing: tuple[float, float | None]
    ) -> UnpublishStep | None:
        d = self.L.mapping(raw, path, UNPUBLISH_KEYS, "unpublish")
        name = self.project_ref((*path, "project"), d.get("project"))
        if name is None:
            return None
        return UnpublishStep(sid, step_path, name, after=timing[0], at=timing[1])

    # -- shared pieces ------------------------------------------------------------
    def project_ref(self, path: Path, name: Any) -> str | None:
        if isinstance(name, str) and name in self.cubes:
            return name
        close = suggest(str(name), list(self.cubes))
        self.L.add(
            path,
            f"unknown project {name!r}",
            f"did you mean '{close}'?"
            if close
            else "declare it under engine.projects or create it with a publish step",
        )
        return None

    def cube_refs(self, path: Path, d: dict[str, Any]) -> tuple[str, ...]:
        """``cubes: [project/cube, ...]`` or ``project: NAME`` (all its cubes)."""
        if ("cubes" in d) == ("project" in d):
            self.L.add(path, "give `cubes` (a list of project/cube) or `project`, not both")
            return ()
        if "project" in d:
            name = self.project_ref((*path, "project"), d["project"])
            return tuple(f"{name}/{c}" for c in self.cubes.get(name or "", []))
        if not isinstance(d["cubes"], list) or not d["cubes"]:
            self.L.add((*path, "cubes"), "`cubes` must be a non-empty list of project/cube")
            return ()
        out = []
        known = [f"{p}/{c}" for p, cs in self.cubes.items() for c in cs]
        for i, ref in enumerate(d["cubes"]):
            if ref in known:
                out.append(str(ref))
                continue
            close = suggest(str(ref), known)
            self.L.add(
                (*path, "cubes", i),
                f"unknown cube {ref!r}",
                f"did you mean '{close}'?" if close else "cubes: " + ", ".join(known),
            )
        return tuple(out) if len(out) == len(d["cubes"]) else ()

    def distribution(self, path: Path, raw: Any, default: Distribution) -> Distribution | None:
        if raw is None:
            return default
        d = self.L.mapping(raw, path, DIST_KEYS, "a distribution")
        median = (
            self.L.convert((*path, "median"), d.get("median"), positive_duration, "median")
            if "median" in d
            else None
        )
        p99 = (
            self.L.convert((*path, "p99"), d.get("p99"), positive_duration, "p99")
            if "p99" in d
            else None
        )
        if median is None or p99 is None:
            if isinstance(raw, dict) and not ("median" in d and "p99" in d):
                self.L.add(
                    path,
                    "a distribution needs `median` and `p99`",
                    "for example {median: 800ms, p99: 12s}",
                )
            return None
        if p99 < median:
            self.L.add((*path, "p99"), "p99 must be at least the median")
            return None
        return Distribution(median, p99)

    def probability(self, path: Path, raw: Any) -> float | None:
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0 <= raw <= 1:
            self.L.add(path, f"bad probability {raw!r}", "expected a number from 0 to 1")
            return None
        return float(raw)


def parse_time_scale(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("a number greater than zero (simulated seconds per wall second)")
    if not MIN_TIME_SCALE <= value <= MAX_TIME_SCALE:
        raise ValueError(f"a number from {MIN_TIME_SCALE:g} to {MAX_TIME_SCALE:g}")
    return float(value)
