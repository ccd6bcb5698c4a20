"""A flat route table: routers' routes copied into the app instead of nested under it.

`include_router` keeps an included router as one node of the app's table; a request for
a route inside it is matched level by level (the app tries the node, the node tries its
own table, an `/api` router inside it tries the next), about +40 µs per request for a
route in `app/api.py` (README, "Performance"). `include_flat` registers each route of a
router tree on the target directly, with what the inclusions add (prefix, tags,
dependencies, responses, response class...) already merged, as FastAPI used to do
before it nested. The URLs and the OpenAPI document are the same
(tests/core/test_route_table.py); only the matching is shorter.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts
from starlette.datastructures import URLPath
from starlette.routing import BaseRoute, Match, NoMatchFound, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send


def include_flat(target: APIRouter, router: APIRouter, *, prefix: str = "") -> None:
    """Register every route of `router` (and of the routers it includes) on `target`.

    Takes what `include_router` takes that we use: a prefix. A route FastAPI does not
    let us rebuild exactly (a Mount, a plain Starlette route) is refused rather than
    approximated.
    """
    for route in iter_route_contexts(router.routes):
        original = route.original_route
        path = prefix + str(route.path)
        if isinstance(original, APIRoute):
            target.add_api_route(
                path,
                original.endpoint,
                response_model=route.response_model,
                status_code=route.status_code,
                tags=route.tags,
                dependencies=route.dependencies,
                summary=route.summary,
                description=route.description,
                response_description=route.response_description,
                responses=route.responses,
                deprecated=route.deprecated,
                methods=route.methods,
                operation_id=route.operation_id,
                response_model_include=route.response_model_include,
                response_model_exclude=route.response_model_exclude,
                response_model_by_alias=route.response_model_by_alias,
                response_model_exclude_unset=route.response_model_exclude_unset,
                response_model_exclude_defaults=route.response_model_exclude_defaults,
                response_model_exclude_none=route.response_model_exclude_none,
                include_in_schema=route.include_in_schema,
                response_class=route.response_class,
                name=route.name,
                route_class_override=type(original),
                callbacks=route.callbacks,
                openapi_extra=route.openapi_extra,
                generate_unique_id_function=route.generate_unique_id_function,
                strict_content_type=route.strict_content_type,
                max_body_size=route.max_body_size,
            )
        elif isinstance(original, APIWebSocketRoute):
            target.add_api_websocket_route(
                path, original.endpoint, name=route.name, dependencies=route.dependencies
            )
        else:
            raise TypeError(f"include_flat cannot copy {type(original).__name__} at {path}")


_INDEXED_ROUTE = "app.indexed_route"


def _static_path(route: BaseRoute) -> str | None:
    """The one path an HTTP route without parameters answers; None for any other route."""
    if not isinstance(route, Route) or route.param_convertors:
        return None
    return route.path


def _may_match(route: BaseRoute, path: str) -> bool:
    """Whether a route that is not static could answer an HTTP request for `path`."""
    if isinstance(route, WebSocketRoute | APIWebSocketRoute):
        return False
    regex = getattr(route, "path_regex", None)
    return regex is None or regex.match(path) is not None  # unknown kinds: assume so


class StaticPathIndex(BaseRoute):
    """First in the table: a static path's route found by one lookup, not by trying routes.

    FastAPI tries routes in order, and every route in front of the one requested costs a
    miss (`/health` sits behind the auth routes: ~15 µs in-process on a slow VM). This
    route answers a request for a path some static route serves with the route FastAPI's
    own loop would choose: the first of that path's routes that fully matches (methods
    included), and only if no earlier route with parameters could also match the path
    (otherwise the path is left out of the index). Anything else (no such path, a method
    no route of the path allows, parameters, websockets) is left to the table's routes,
    which all stay in place behind it for matching, the OpenAPI document and `url_for`.
    Routes added after it is built are not indexed; they are matched as before.
    """

    def __init__(self, routes: Iterable[BaseRoute]) -> None:
        self._routes: dict[str, list[BaseRoute]] = {}
        earlier_dynamic: list[BaseRoute] = []
        for route in routes:
            path = _static_path(route)
            if path is None:
                earlier_dynamic.append(route)
            elif not any(_may_match(other, path) for other in earlier_dynamic):
                self._routes.setdefault(path, []).append(route)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        path: str = scope["path"]
        root_path: str = scope.get("root_path", "")
        if root_path and path.startswith(root_path):
            path = path[len(root_path) :]
        for route in self._routes.get(path, ()):
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                return Match.FULL, {**child_scope, _INDEXED_ROUTE: route}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await scope[_INDEXED_ROUTE].handle(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        raise NoMatchFound(name, path_params)


def put_static_path_index_first(router: APIRouter) -> None:
    """Put a `StaticPathIndex` of `router`'s routes, as they are now, in front of them."""
    router.routes[:] = [
        StaticPathIndex(router.routes),
        *(route for route in router.routes if not isinstance(route, StaticPathIndex)),
    ]
