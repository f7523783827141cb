"""Engine-level scenario steps: they describe engine activity, and the simulation decides
which webhooks that activity implies."""

from __future__ import annotations

from dataclasses import dataclass, field

from .model import CubeSpec, Distribution


@dataclass(frozen=True, slots=True)
class SingleStep:
    """A step that is one step: its own id is the only one it defines. Where it stands
    in the file (``path``, for messages) and when it starts (``after`` the previous
    step ends, or ``at`` an offset from the start), declared once for every kind."""

    id: str
    path: tuple[str | int, ...]
    after: float = field(default=0.0, kw_only=True)
    at: float | None = field(default=None, kw_only=True)

    @property
    def ids(self) -> tuple[str, ...]:
        return (self.id,)


@dataclass(frozen=True, slots=True)
class BatchStep(SingleStep):
    """An aggregate batch on each of ``cubes`` ("project/cube"), started together."""

    cubes: tuple[str, ...]
    full: bool = False
    aggregates: int = 5
    build_duration: Distribution = Distribution(2.0, 30.0)
    failure_probability: float = 0.0
    error: str | None = None


@dataclass(frozen=True, slots=True)
class QueriesStep(SingleStep):
    """A query workload over ``over`` simulated seconds on ``cubes``."""

    cubes: tuple[str, ...]
    over: float
    count: int
    latency: Distribution = Distribution(0.8, 12.0)
    success_ratio: float = 1.0


@dataclass(frozen=True, slots=True)
class PublishStep(SingleStep):
    """A project created from an uploaded project file (success or failure)."""

    project: str
    cubes: tuple[CubeSpec, ...] = ()
    status: str = "success"
    uuid: str | None = None


@dataclass(frozen=True, slots=True)
class UnpublishStep(SingleStep):
    """A project unpublished from the engine."""

    project: str


EngineStep = BatchStep | QueriesStep | PublishStep | UnpublishStep
ENGINE_STEP_KINDS = ("batch", "queries", "publish", "unpublish")
