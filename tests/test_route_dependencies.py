"""Every route's dependency tree is async: FastAPI runs a plain `def` in the thread pool.

A sync provider costs a thread hop per request (FastAPI docs, "Dependencies - async def
or def"); a sync endpoint likewise. This walks each route of the real app (HTTP and
WebSocket), through sub-dependencies and security schemes, and names any sync callable.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Security
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts
from fastapi.security import HTTPBearer

from app.core.config import Settings


def _runs_on_the_event_loop(call: Callable[..., Any]) -> bool:
    """True for a coroutine or async-generator function, or an object whose `__call__` is."""
    while isinstance(call, functools.partial):
        call = call.func
    if inspect.isclass(call):  # `Depends(SomeClass)`: the constructor is sync
        return False
    if inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call):
        return True
    if inspect.isfunction(call) or inspect.ismethod(call):
        return False
    dunder = getattr(call, "__call__", None)  # noqa: B004  (instances like HTTPBearer)
    return dunder is not None and (
        inspect.iscoroutinefunction(dunder) or inspect.isasyncgenfunction(dunder)
    )


def _calls(
    dependant: Dependant, trail: tuple[str, ...]
) -> Iterator[tuple[str, Callable[..., Any]]]:
    for sub in dependant.dependencies:
        if sub.call is None:
            continue
        name = getattr(sub.call, "__qualname__", None) or type(sub.call).__qualname__
        path = (*trail, name)
        yield " -> ".join(path), sub.call
        yield from _calls(sub, path)


def _sync_callables(app: FastAPI) -> list[str]:
    found: list[str] = []
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute | APIWebSocketRoute):
            continue
        label = f"{route.methods or 'WS'} {route.path}"
        endpoint = route.dependant.call
        assert endpoint is not None
        if not _runs_on_the_event_loop(endpoint):
            found.append(f"{label}: endpoint {endpoint.__qualname__}")
        for trail, call in _calls(route.dependant, ()):
            if not _runs_on_the_event_loop(call):
                found.append(f"{label}: {trail}")
    return found


def test_every_route_dependency_and_endpoint_is_async(settings: Settings) -> None:
    from app.main import create_app

    app = create_app(settings)
    paths = {route.path for route in iter_route_contexts(app.routes)}
    assert {"/health", "/api/auth/me", "/api/auth/ws"} <= paths
    assert _sync_callables(app) == []


def _sync_leaf() -> int:
    return 1


async def _async_middle(leaf: Annotated[int, Depends(_sync_leaf)]) -> int:
    return leaf


def test_the_walk_finds_a_sync_provider_nested_in_a_security_dependency() -> None:
    """The check itself can fail: a sync callable deep in a tree is reported by name."""
    app = FastAPI()

    @app.get("/probe")
    async def probe(
        value: Annotated[int, Security(_async_middle)],
        bearer: Annotated[object, Depends(HTTPBearer(auto_error=False))],
    ) -> int:
        return value

    assert _sync_callables(app) == ["{'GET'} /probe: _async_middle -> _sync_leaf"]
