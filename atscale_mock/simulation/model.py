"""A small engine model: the configuration a scenario declares (``engine:``) and the state
a simulation evolves (projects, cubes, aggregate definitions and instances, queries).

Pure and seeded: every id comes from a ``random.Random`` the caller seeds.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from ..config import DEFAULT_ORG
from ..events.catalogue import SLOW_AGG_BUILD_THRESHOLD_MS as DEFAULT_SLOW_AGG_BUILD_THRESHOLD_MS
from ..events.catalogue import SLOW_QUERY_THRESHOLD_S as DEFAULT_SLOW_QUERY_THRESHOLD
from ..events.ids import derive_seed, uuid4_from

Z99 = 2.3263478740408408  # the standard normal's 99th percentile


@dataclass(frozen=True, slots=True)
class Distribution:
    """A lognormal distribution given by its median and 99th percentile (seconds)."""

    median: float
    p99: float

    def sample(self, rng: random.Random) -> float:
        sigma = math.log(self.p99 / self.median) / Z99 if self.p99 > self.median else 0.0
        return rng.lognormvariate(math.log(self.median), sigma)


@dataclass(frozen=True, slots=True)
class CubeSpec:
    name: str
    uuid: str | None = None
    aggregate_limit: int | None = None  # None: never pruned


@dataclass(frozen=True, slots=True)
class ProjectSpec:
    name: str
    cubes: tuple[CubeSpec, ...] = ()
    uuid: str | None = None
    published: bool = True


@dataclass(frozen=True, slots=True)
class EngineSpec:
    org: str = DEFAULT_ORG
    slow_query_threshold: float = DEFAULT_SLOW_QUERY_THRESHOLD  # seconds
    slow_agg_build_threshold: float = DEFAULT_SLOW_AGG_BUILD_THRESHOLD_MS / 1000  # seconds
    projects: tuple[ProjectSpec, ...] = ()


@dataclass
class Query:
    id: str
    cube: Cube
    started: float  # simulated seconds from the start
    latency: float  # seconds
    success: bool


@dataclass
class Definition:
    id: str
    triggering_query: Query


@dataclass
class Instance:
    id: str
    definition: Definition
    built_at: float


@dataclass
class Cube:
    name: str
    id: str
    project: Project
    aggregate_limit: int | None
    definitions: list[Definition] = field(default_factory=list)
    active: dict[str, Instance] = field(default_factory=dict)  # definition id -> instance

    @property
    def key(self) -> str:
        return f"{self.project.name}/{self.name}"


@dataclass
class Project:
    name: str
    id: str
    published: bool
    cubes: dict[str, Cube] = field(default_factory=dict)
    unpublished_at: float | None = None


@dataclass
class Engine:
    """The state of one simulated engine; ``queries`` and ``instances`` keep everything
    the simulation created, so tests can check that every referenced id exists."""

    spec: EngineSpec
    seed: int
    projects: dict[str, Project] = field(default_factory=dict)
    queries: dict[str, Query] = field(default_factory=dict)
    instances: dict[str, Instance] = field(default_factory=dict)

    @classmethod
    def from_spec(cls, spec: EngineSpec, seed: int) -> Engine:
        engine = cls(spec, seed)
        for p in spec.projects:
            engine.add_project(p, p.published)
        return engine

    def new_id(self, *parts: object) -> str:
        return uuid4_from(random.Random(derive_seed(self.seed, "engine", *parts)))

    def add_project(self, spec: ProjectSpec, published: bool) -> Project:
        project = Project(spec.name, spec.uuid or self.new_id("project", spec.name), published)
        for c in spec.cubes:
            cube_id = c.uuid or self.new_id("cube", spec.name, c.name)
            project.cubes[c.name] = Cube(c.name, cube_id, project, c.aggregate_limit)
        self.projects[spec.name] = project
        return project

    def cube(self, key: str) -> Cube:
        project, _, cube = key.partition("/")
        return self.projects[project].cubes[cube]

    def record_query(self, query: Query) -> Query:
        self.queries[query.id] = query
        return query

    def definitions_for(
        self, cube: Cube, count: int, now: float, rng: random.Random
    ) -> list[Definition]:
        """``count`` definitions of ``cube``, creating new ones (each defined because of a
        query the model records) when the cube has fewer."""
        while len(cube.definitions) < count:
            query = self.record_query(
                Query(uuid4_from(rng), cube, now, rng.uniform(0.1, 2.0), True)
            )
            cube.definitions.append(Definition(uuid4_from(rng), query))
        return cube.definitions[:count]

    def new_definitions(
        self, cube: Cube, count: int, now: float, rng: random.Random
    ) -> list[Definition]:
        return self.definitions_for(cube, len(cube.definitions) + count, now, rng)[-count:]
