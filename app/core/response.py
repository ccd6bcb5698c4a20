"""ResponseFactory: the success and RFC 9457 error envelopes, built per request."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

PROBLEM_MEDIA_TYPE = "application/problem+json"


def _meta(request_id: str | None, success: bool, extra: dict[str, Any] | None) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "timestamp": datetime.now(UTC).isoformat(),
        "success": success,
        "request_id": request_id,
    }
    if extra:
        meta.update(extra)
    return meta


class ResponseFactory:
    """Builds envelopes that carry the request's X-Request-ID in `meta`."""

    __slots__ = ("instance", "request_id")

    def __init__(self, request: Request) -> None:
        self.request_id: str | None = getattr(request.state, "request_id", None)
        self.instance = request.url.path

    def success(
        self,
        data: Any = None,
        status_code: int = 200,
        *,
        headers: dict[str, str] | None = None,
        meta_extensions: dict[str, Any] | None = None,
    ) -> JSONResponse:
        body = {
            "data": jsonable_encoder(data),
            "meta": _meta(self.request_id, True, meta_extensions),
        }
        return JSONResponse(body, status_code=status_code, headers=headers)

    def error(
        self,
        status_code: int,
        title: str,
        detail: str | None = None,
        *,
        errors: Any = None,
        headers: dict[str, str] | None = None,
        meta_extensions: dict[str, Any] | None = None,
    ) -> JSONResponse:
        body: dict[str, Any] = {
            "type": f"https://httpstatuses.io/{status_code}",
            "title": title,
            "status": status_code,
            "detail": detail,
            "instance": self.instance,
        }
        if errors is not None:
            body["errors"] = jsonable_encoder(errors)
        body["meta"] = _meta(self.request_id, False, meta_extensions)
        return JSONResponse(
            body, status_code=status_code, headers=headers, media_type=PROBLEM_MEDIA_TYPE
        )


def get_response_factory(request: Request) -> ResponseFactory:
    """FastAPI dependency: a ResponseFactory bound to the current request."""
    return ResponseFactory(request)
