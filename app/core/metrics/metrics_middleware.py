"""HTTP request metrics: app_requests_total, app_request_latency_seconds, app_errors_total.

Label normalisation keeps the number of series bounded whatever clients send:
- `endpoint` is the route template (`/api/items/{item_id}`, see
  `app.core.http.route`), never the raw path, whoever answered: requests refused
  before routing (429, 413) and FastAPI's docs routes are matched against the route
  table. Every path no route matches (404s, scans) shares `UNMATCHED`.
- `method` outside the standard HTTP methods becomes `OTHER`.
- `status` is what the app sent, recorded on the request's `Observation` (see
  `app.core.http.observation`) by the request-ID middleware inside, or by this one
  when nothing inside does; 500 if an exception escaped before a response started
  (the server answers 500 then).

app_errors_total counts the exceptions the application did not handle
(`exception_type` is the class name): those the error boundary turned into a 500 (it
leaves them at `scope["state"]["unhandled_exception"]`) and those that escape this
middleware. Responses the app returns on purpose with a 5xx status (a 503 while
draining, a raised AppHTTPException) are not application errors; they show in
app_requests_total by status.

The label children are cached per middleware, so a request costs one dict lookup, an
`inc()` and an `observe()` besides the observation it shares with the access line.
"""

from __future__ import annotations

from typing import Any

from prometheus_client.metrics import Counter, Histogram
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.errors import UNHANDLED_EXCEPTION_STATE_KEY
from app.core.http.observation import OBSERVATION_SCOPE_KEY, Observation
from app.core.http.route import route_template, template_by_matching
from app.core.metrics.global_metrics import error_count, request_count, request_latency

UNMATCHED = "<unmatched>"
OTHER_METHOD = "OTHER"
HTTP_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT", "QUERY"}
)


class MetricsMiddleware:
    """Records app_requests_total, app_request_latency_seconds and app_errors_total."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        requests: Counter = request_count,
        latency: Histogram = request_latency,
        errors: Counter = error_count,
        status_recorded_inside: bool = False,
    ) -> None:
        self.app = app
        # True when a layer inside records the status on the scope's `Observation` (the
        # request-ID middleware does): this one then needs no `send` wrapper of its own.
        self._status_recorded_inside = status_recorded_inside
        self._requests = requests
        self._latency = latency
        self._errors = errors
        # (counter child, histogram child) per label set. Bounded: methods x route
        # templates x statuses the app emits.
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        observation = scope[OBSERVATION_SCOPE_KEY] = Observation()
        if not self._status_recorded_inside:
            send = observation.recording(send)
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            self._count_error(scope, exc)
            raise
        else:
            state = scope.get("state")
            if state and UNHANDLED_EXCEPTION_STATE_KEY in state:
                self._count_error(scope, state[UNHANDLED_EXCEPTION_STATE_KEY])
        finally:
            elapsed, status = observation.stop(), observation.status
            method = scope["method"]
            if method not in HTTP_METHODS:
                method = OTHER_METHOD
            endpoint = route_template(scope) or template_by_matching(scope) or UNMATCHED
            key = (method, endpoint, status)
            try:
                counter, histogram = self._children[key]
            except KeyError:
                counter, histogram = self._children[key] = (
                    self._requests.labels(method, endpoint, str(status)),
                    self._latency.labels(method, endpoint),
                )
            counter.inc()
            histogram.observe(elapsed)

    def _count_error(self, scope: Scope, exc: BaseException) -> None:
        endpoint = route_template(scope) or template_by_matching(scope) or UNMATCHED
        self._errors.labels(endpoint, type(exc).__name__).inc()
