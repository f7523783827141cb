"""Engine-level scenario steps: they describe engine activity, and the simulation decides
which webhooks that activity implies."""

from __future__ import annotations

from dataclasses import dataclass

from .model import CubeSpec, Distribution


class SingleStep:
    """A step that is one step: its own id is the only one it defines."""

    __slots__ = ()
    id: str

    @property
    def ids(self) -> tuple[str, ...]:
        return (self.id,)


@dataclass(frozen=True, slots=True)
class BatchStep(SingleStep):
    """An aggregate batch on each of ``cubes`` ("project/cube"), started together."""

    id: str
    path: tuple[str | int, ...]
    cubes: tuple[str, ...]
    full: bool = False
    aggregates: int = 5
    build_duration: Distribution = Distribution(2.0, 30.0)
    failure_probability: float = 0.0
    error: str | None = None
    after: float = 0.0
    at: float | None = None


@dataclass(frozen=True, slots=True)
class QueriesStep(SingleStep):
    """A query workload over ``over`` simulated seconds on ``cubes``."""

    id: str
    path: tuple[str | int, ...]
    cubes: tuple[str, ...]
    over: float
    count: int
    latency: Distribution = Distribution(0.8, 12.0)
    success_ratio: float = 1.0
    after: float = 0.0
    at: float | None = None


@dataclass(frozen=True, slots=True)
class PublishStep(SingleStep):
    """A project created from an uploaded project file (success or failure)."""

    id: str
    path: tuple[str | int, ...]
    project: str
    cubes: tuple[CubeSpec, ...] = ()
    status: str = "success"
    uuid: str | None = None
    after: float = 0.0
    at: float | None = None


@dataclass(frozen=True, slots=True)
class UnpublishStep(SingleStep):
    id: str
    path: tuple[str | int, ...]
    project: str
    after: float = 0.0
    at: float | None = None


EngineStep = BatchStep | QueriesStep | PublishStep | UnpublishStep
ENGINE_STEP_KINDS = ("batch", "queries", "publish", "unpublish")
