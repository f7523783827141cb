"""Twins that take the same keywords: ``asend`` those of ``send``, ``run`` those of
``arun``. A twin is declared with ``**options`` and given its model's signature, for
type checkers (through ``ParamSpec``), at run time (``inspect.signature``, ``help()``)
and on every call (a missing or unknown keyword is the TypeError any function raises),
so the list of keywords is written once and cannot drift."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import ParamSpec, TypeVar, cast

P = ParamSpec("P")
R = TypeVar("R")


def same_keywords(model: Callable[P, object]) -> Callable[[Callable[..., R]], Callable[P, R]]:
    """Give the decorated function ``model``'s parameters (its own return type stays)."""
    params = list(inspect.signature(model).parameters.values())

    def twin(function: Callable[..., R]) -> Callable[P, R]:
        signature = inspect.signature(function).replace(parameters=params)
        wrapper: Callable[..., object]
        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def wrapper(*args: object, **kwargs: object) -> object:
                signature.bind(*args, **kwargs)  # TypeError: a missing or unknown keyword
                return await function(*args, **kwargs)

        else:

            @functools.wraps(function)
            def wrapper(*args: object, **kwargs: object) -> object:
                signature.bind(*args, **kwargs)
                return function(*args, **kwargs)

        wrapper.__signature__ = signature  # type: ignore[attr-defined]
        return cast("Callable[P, R]", wrapper)

    return twin
