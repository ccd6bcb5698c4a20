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

from fastapi import APIRouter
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts


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
