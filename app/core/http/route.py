"""The route template that served a request (`/api/items/{item_id}`), for logs and metrics.

Since FastAPI 0.160, a route reached through `include_router(prefix=...)` is handled by
the router's own `APIRoute`, so `scope["route"].path` lacks the prefixes (`/{item_id}`).
FastAPI keeps the full template on the effective route context it stores under
`scope["fastapi"]`; read that first and fall back to the matched route.

A request answered before routing (a 429 from the rate limiter, a 413 from the body
limit) or by a plain Starlette route (FastAPI's /docs, /redoc, /openapi.json) has
neither; `template_by_matching` finds its template by matching the path against the
app's route table. It walks every route, so it is for those requests only: a routed
request has its template already.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from starlette.types import Scope


def route_template(scope: Scope) -> str | None:
    """The matched route's path template, or None when no route matched."""
    context = scope.get("fastapi", {}).get("effective_route_context")
    template = getattr(context, "path_format", None)
    if template:
        return str(template)
    route = scope.get("route")
    if route is None:
        return None
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return str(template) if template else None


def _templates(routes: Iterable[Any]) -> Iterator[tuple[Any, str]]:
    """(compiled path pattern, template) of every route, included routers flattened."""
    for route in routes:
        # FastAPI's included routers (0.160+) expose their routes, prefixes applied,
        # as effective route contexts; other routes carry their own pattern.
        contexts = getattr(route, "effective_route_contexts", None)
        for context in contexts() if contexts is not None else (route,):
            target = getattr(context, "starlette_route", None) or context
            regex = getattr(target, "path_regex", None) or getattr(context, "path_regex", None)
            template = getattr(target, "path_format", None) or getattr(context, "path_format", None)
            if regex is not None and template:
                yield regex, str(template)


def template_by_matching(scope: Scope) -> str | None:
    """The template of the first route whose path matches the request's, any method."""
    router = getattr(scope.get("app"), "router", None)
    if router is None:
        return None
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    if root_path and path.startswith(root_path):
        path = path[len(root_path) :]
    for regex, template in _templates(router.routes):
        if regex.match(path):
            return template
    return None
