"""Twins that take the same keywords: ``asend`` those of ``send``, ``run`` those of
``arun``. A twin is declared with ``**options`` and given its model's signature, both
for type checkers (through ``ParamSpec``) and at run time (``inspect.signature``,
``help()``), so the list of keywords is written once and cannot drift."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def same_keywords(model: Callable[P, Any]) -> Callable[[Callable[..., R]], Callable[P, R]]:
    """Give the decorated function ``model``'s parameters (its own return type stays)."""
    params = inspect.signature(model).parameters.values()

    def twin(function: Callable[..., R]) -> Callable[P, R]:
        own = inspect.signature(function)
        function.__signature__ = own.replace(parameters=list(params))  # type: ignore[attr-defined]
        return function

    return twin
