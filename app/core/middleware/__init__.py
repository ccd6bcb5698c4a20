"""HTTP middleware: one plain ASGI class a module, and `add_middlewares`, which orders them.

Outer -> inner, as the spec lists them: `cors`, metrics (`app.core.metrics.metrics_middleware`,
where the spec puts it), `request_id`, `device_info`, `security_headers`, then two guards,
`error_boundary` and `body_limit`, and `rate_limit` innermost. `wiring` adds them to the app.
"""

from app.core.middleware.body_limit import BodySizeLimitMiddleware
from app.core.middleware.cors import CORSMiddleware
from app.core.middleware.device_info import DeviceInfoMiddleware
from app.core.middleware.error_boundary import ErrorBoundaryMiddleware
from app.core.middleware.rate_limit import RateLimitMiddleware
from app.core.middleware.request_id import RequestIDMiddleware
from app.core.middleware.security_headers import SecurityHeadersMiddleware
from app.core.middleware.wiring import add_middlewares

__all__ = [
    "BodySizeLimitMiddleware",
    "CORSMiddleware",
    "DeviceInfoMiddleware",
    "ErrorBoundaryMiddleware",
    "RateLimitMiddleware",
    "RequestIDMiddleware",
    "SecurityHeadersMiddleware",
    "add_middlewares",
]
