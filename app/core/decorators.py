"""Service-layer decorators: `require_dto`.

Services are called by routers with already-validated DTOs. `require_dto` makes that a
checked contract: a service handed a raw dict (or the wrong DTO) fails loudly at the call
instead of deep inside with an AttributeError.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ParamSpec, TypeVar, cast

from pydantic import BaseModel

P = ParamSpec("P")
R = TypeVar("R")

_DTO_KEYWORDS = ("data", "dto")


def _check_dto(
    function_name: str,
    models: tuple[type[BaseModel], ...],
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
) -> None:
    for keyword in _DTO_KEYWORDS:
        if keyword in kwargs:
            value, where = kwargs[keyword], f"argument {keyword!r}"
            break
    else:
        if not args:
            raise TypeError(f"{function_name}() expected {_names(models)} as its DTO, got nothing")
        value, where = args[-1], "last positional argument"
    if not isinstance(value, models):
        raise TypeError(
            f"{function_name}() expected {_names(models)} as its {where}, "
            f"got {type(value).__qualname__}"
        )


def _names(models: tuple[type[BaseModel], ...]) -> str:
    return " or ".join(model.__qualname__ for model in models)


def require_dto(*models: type[BaseModel]) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Check that the `data`/`dto` keyword, or else the last positional argument, is one of
    `models`; raise TypeError naming the expected and the received type otherwise.

    Works on sync and async functions and methods; signatures are preserved for type checkers.
    """
    if not models or not all(isinstance(m, type) and issubclass(m, BaseModel) for m in models):
        raise TypeError("require_dto() needs at least one pydantic model class")

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        name = function.__qualname__
        if inspect.iscoroutinefunction(function):
            coroutine_function = cast(Callable[P, Awaitable[Any]], function)

            @functools.wraps(function)
            async def async_wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
                _check_dto(name, models, args, kwargs)
                return await coroutine_function(*args, **kwargs)

            return cast(Callable[P, R], async_wrapper)

        @functools.wraps(function)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            _check_dto(name, models, args, kwargs)
            return function(*args, **kwargs)

        return wrapper

    return decorate
