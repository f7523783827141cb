"""Engine steps in, the webhooks their activity implies out.

Each engine step becomes a list of :class:`Emission` (an event, the values the model
fixes, and its simulated offset from the step's start). Rules, from the spec's
descriptions of when each event is sent:

* batch: ``batch-start`` at the start; the cube's aggregate instances are built one
  after another; each build at or over the slow-build threshold emits ``slow-agg-build``
  when it completes; ``batch-result`` comes after the last build (with an error if the
  batch failed, in which case later builds never ran); a successful batch that leaves
  the cube over its ``aggregate_limit`` of active aggregates is followed by
  ``prune-result`` and the oldest instances are dropped down to the limit.
* queries: each query at or over the slow-query threshold emits ``slow-query`` when it
  finishes (``time_taken`` = its latency, ``finished_at`` = its end).
* publish: ``schema-publish`` (the project exists only if the status is success).
* unpublish: ``unpublish``; nothing is emitted for that project after it.
Nothing is emitted for a project that is not published.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from ..events.ids import derive_seed, uuid4_from
from ..events.payload import BATCH_ERRORS
from .model import Cube, Engine, Instance, ProjectSpec, Query
from .steps import BatchStep, EngineStep, PublishStep, QueriesStep, UnpublishStep

RESULT_DELAY = (0.5, 3.0)  # seconds between the last build and the batch result
PRUNE_DELAY = (1.0, 10.0)  # seconds between a batch result and its prune


@dataclass(frozen=True, slots=True)
class Emission:
    offset: float  # simulated seconds from the step's start
    event: str
    values: dict[str, Any]
    project: str  # the project's name, for the "nothing after unpublish" rule
    note: str = ""
    full: bool = False


@dataclass
class _Out:
    items: list[Emission] = field(default_factory=list)

    def add(
        self,
        offset: float,
        event: str,
        values: dict[str, Any],
        project: str,
        note: str,
        full: bool = False,
    ) -> None:
        self.items.append(Emission(offset, event, values, project, note, full))


def simulate(engine: Engine, step: EngineStep, start: float) -> list[Emission]:
    """The emissions of one step starting at simulated time ``start``; updates ``engine``."""
    rng = random.Random(derive_seed(engine.seed, step.id, "engine"))
    out = _Out()
    if isinstance(step, BatchStep):
        for key in step.cubes:
            _batch(engine, step, engine.cube(key), start, rng, out)
    elif isinstance(step, QueriesStep):
        _queries(engine, step, start, rng, out)
    elif isinstance(step, PublishStep):
        _publish(engine, step, out)
    else:
        _unpublish(engine, step, start, out)
    return sorted(out.items, key=lambda e: e.offset)


def _ids(cube: Cube, org: str, nested: bool) -> dict[str, Any]:
    if nested:
        return {"context.org_id": org, "context.project_id": cube.project.id, "cube_id": cube.id}
    return {"org_id": org, "project_id": cube.project.id, "cube_id": cube.id}


def _batch(
    engine: Engine, step: BatchStep, cube: Cube, start: float, rng: random.Random, out: _Out
) -> None:
    if not cube.project.published:
        return
    org, threshold = engine.spec.org, engine.spec.slow_agg_build_threshold
    batch_id = uuid4_from(rng)
    note = f"{cube.key} batch {batch_id[:8]}"
    out.add(
        0.0,
        "batch-start",
        {**_ids(cube, org, True), "id": batch_id, "is_full_build": step.full},
        cube.project.name,
        note,
    )
    if step.full:
        definitions = engine.definitions_for(cube, step.aggregates, start, rng)
    else:
        definitions = engine.new_definitions(cube, step.aggregates, start, rng)
    fails = rng.random() < step.failure_probability
    fail_at = rng.randrange(len(definitions)) if fails and definitions else -1
    t, built = 0.0, []
    for i, definition in enumerate(definitions):
        if i == fail_at:
            t += rng.uniform(0.1, 1.0)
            break
        duration = step.build_duration.sample(rng)
        t += duration
        instance = Instance(uuid4_from(rng), definition, start + t)
        engine.instances[instance.id] = instance
        built.append(instance)
        if duration >= threshold:
            out.add(
                t,
                "slow-agg-build",
                {
                    **_ids(cube, org, False),
                    "instance_id": instance.id,
                    "definition_id": definition.id,
                    "triggering_query_id": definition.triggering_query.id,
                    "duration": int(duration * 1000),
                },
                cube.project.name,
                f"{cube.key} build {instance.id[:8]} {duration:.1f}s",
            )
    t += rng.uniform(*RESULT_DELAY)
    error = (step.error or rng.choice(BATCH_ERRORS)) if fails else None
    out.add(
        t,
        "batch-result",
        {**_ids(cube, org, True), "id": batch_id, "error": error},
        cube.project.name,
        note + (" FAILED" if fails else " ok"),
    )
    if fails:
        return
    for instance in built:
        cube.active[instance.definition.id] = instance
    limit = cube.aggregate_limit
    if limit is not None and len(cube.active) > limit:
        t += rng.uniform(*PRUNE_DELAY)
        oldest = sorted(cube.active.values(), key=lambda inst: inst.built_at)
        for instance in oldest[: len(cube.active) - limit]:
            del cube.active[instance.definition.id]
        out.add(
            t,
            "prune-result",
            {**_ids(cube, org, True), "id": batch_id},
            cube.project.name,
            f"{cube.key} pruned to {limit} active aggregates",
        )


def _queries(
    engine: Engine, step: QueriesStep, start: float, rng: random.Random, out: _Out
) -> None:
    cubes = [engine.cube(key) for key in step.cubes]
    threshold = engine.spec.slow_query_threshold
    for _ in range(step.count):
        cube = rng.choice(cubes)
        began = rng.uniform(0.0, step.over)
        latency = step.latency.sample(rng)
        success = rng.random() < step.success_ratio
        query = Query(uuid4_from(rng), cube, start + began, latency, success)
        if not cube.project.published:
            continue
        engine.record_query(query)
        if latency >= threshold:
            out.add(
                began + latency,
                "slow-query",
                {
                    **_ids(cube, engine.spec.org, False),
                    "query_id": query.id,
                    "time_taken": latency,
                    "query_success": success,
                },
                cube.project.name,
                f"{cube.key} query {query.id[:8]} {latency:.1f}s" + ("" if success else " failed"),
            )


def _publish(engine: Engine, step: PublishStep, out: _Out) -> None:
    ok = step.status == "success"
    project = engine.add_project(ProjectSpec(step.project, step.cubes, step.uuid), ok)
    out.add(
        0.0,
        "schema-publish",
        {
            "org_id": engine.spec.org,
            "project_id": project.id,
            "schema_id": project.id,
            "status": step.status,
        },
        step.project,
        f"{step.project} created from an uploaded file: {step.status}",
        full=True,
    )


def _unpublish(engine: Engine, step: UnpublishStep, start: float, out: _Out) -> None:
    project = engine.projects[step.project]
    if not project.published:
        return
    project.published = False
    project.unpublished_at = start
    out.add(
        0.0,
        "unpublish",
        {"context.org_id": engine.spec.org, "context.project_id": project.id},
        project.name,
        f"{project.name} unpublished",
    )
