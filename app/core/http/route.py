"""The route template that served a request (`/api/items/{item_id}`), for logs and metrics.

Since FastAPI 0.160, a route reached through `include_router(prefix=...)` is handled by
the router's own `APIRoute`, so `scope["route"].path` lacks the prefixes (`/{item_id}`).
FastAPI keeps the full template on the effective route context it stores under
`scope["fastapi"]`; read that first and fall back to the matched route.
"""

from __future__ import annotations

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
