"""OpenAPI: every operation documents its errors as RFC 9457 problem+json.

FastAPI documents a 422 as `HTTPValidationError` under application/json and nothing else,
while every error we send is `ProblemDetails` under application/problem+json. After
FastAPI generates the document, each operation gets:
- every documented status >= 400 rewritten to the problem+json schema, so routers may
  write `responses={404: {"description": "No such item"}}` and still be exact;
- 422 when it takes parameters or a body, 413 when it takes a body, 500 always;
- a `default` problem+json response: any other status (404, 405, 429, 503...) has
  that shape too, which is what a schema-driven test client checks against.
Success bodies are documented by the routes themselves (`SuccessEnvelope[...]`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import Any

from fastapi import FastAPI

from app.core.errors import reason_phrase
from app.core.response import PROBLEM_MEDIA_TYPE, PROBLEM_SCHEMA_REF, ProblemDetails

_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")
_PROBLEM_CONTENT = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": PROBLEM_SCHEMA_REF}}}


def _is_error_status(status: str) -> bool:
    return status == "default" or status[:1] in {"4", "5"}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": _PROBLEM_CONTENT}


def _document_operation(operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for status, response in responses.items():
        if _is_error_status(status):
            response["content"] = _PROBLEM_CONTENT
    if operation.get("parameters") or "requestBody" in operation:
        responses.setdefault("422", _problem("Validation Error"))
    if "requestBody" in operation:
        responses.setdefault("413", _problem(reason_phrase(413)))
    responses.setdefault("500", _problem(reason_phrase(500)))
    responses.setdefault("default", _problem("Any other error, as RFC 9457 problem details"))


def add_problem_responses(schema: dict[str, Any]) -> dict[str, Any]:
    """Rewrite an OpenAPI document in place (idempotent) and return it."""
    for path_item in schema.get("paths", {}).values():
        for method, operation in path_item.items():
            if method in _METHODS:
                _document_operation(operation)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(_problem_schemas())
    for name in _FASTAPI_VALIDATION_SCHEMAS:  # FastAPI's 422 schemas, unless still used
        if name in components and not _is_referenced(schema, name):
            del components[name]
    return schema


def _is_referenced(schema: dict[str, Any], name: str) -> bool:
    components = schema["components"]["schemas"]
    definition = components.pop(name)
    try:
        return f'"#/components/schemas/{name}"' in json.dumps(schema)
    finally:
        components[name] = definition


@cache
def _problem_schemas() -> dict[str, Any]:
    problem = ProblemDetails.model_json_schema(
        ref_template="#/components/schemas/{model}", mode="serialization"
    )
    return {**problem.pop("$defs", {}), "ProblemDetails": problem}


def document_problem_responses(app: FastAPI) -> None:
    """Make `app.openapi()` (hence /openapi.json and /docs) document problem+json errors."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        # FastAPI caches the document until the routes change; the rewrite is idempotent.
        return add_problem_responses(generate())

    app.openapi = openapi  # type: ignore[method-assign]
