"""The OpenAPI document: the success envelope and problem+json errors on every route."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.core.response import PROBLEM_MEDIA_TYPE, PROBLEM_SCHEMA_REF
from tests.core.probe_routes import add_probe_routes

ClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]
METHODS = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}


@pytest.fixture
async def document(
    make_client: ClientFactory, app_of: Callable[[httpx.AsyncClient], FastAPI]
) -> AsyncIterator[dict[str, Any]]:
    async with make_client() as http:
        first = (await http.get("/openapi.json")).json()
        assert first["paths"]
        # Routes added after the document was first built are documented too.
        add_probe_routes(app_of(http))
        yield (await http.get("/openapi.json")).json()


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def success_ref(operation: dict[str, Any], status: str = "200") -> str:
    ref: str = operation["responses"][status]["content"]["application/json"]["schema"]["$ref"]
    return ref.rsplit("/", 1)[-1]


def test_every_error_response_is_problem_json(document: dict[str, Any]) -> None:
    found = operations(document)
    assert len(found) >= 5
    for path, method, operation in found:
        responses = operation["responses"]
        assert {"500", "default"} <= set(responses), (path, method)
        for status, response in responses.items():
            if status == "default" or status[0] in "45":
                assert response["content"] == {
                    PROBLEM_MEDIA_TYPE: {"schema": {"$ref": PROBLEM_SCHEMA_REF}}
                }, (path, method, status)


def test_validation_and_size_errors_where_they_can_happen(document: dict[str, Any]) -> None:
    paths = document["paths"]
    assert "422" not in paths["/health"]["get"]["responses"]
    assert "422" in paths["/probe/items/{item_id}"]["get"]["responses"]
    login = paths["/probe/login"]["post"]["responses"]
    assert {"401", "409", "413", "422"} <= set(login)
    assert "413" not in paths["/probe/items/{item_id}"]["get"]["responses"]


def test_problem_schema_replaces_fastapis(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    problem = schemas["ProblemDetails"]
    assert set(problem["required"]) == {"type", "title", "status", "instance", "meta"}
    assert problem["properties"]["meta"] == {"$ref": "#/components/schemas/ErrorMeta"}
    assert schemas["ErrorMeta"]["properties"]["success"]["const"] is False
    assert "HTTPValidationError" not in schemas
    assert "ValidationError" not in schemas


def test_routes_document_their_success_envelope(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    paths = document["paths"]
    expected = {
        ("/", "get"): "ServiceInfo",
        ("/health", "get"): "Liveness",
        ("/health/ready", "get"): "Readiness",
        ("/probe/items/{item_id}", "get"): "Item",
    }
    for (path, method), model in expected.items():
        envelope = schemas[success_ref(paths[path][method])]
        assert envelope["properties"]["data"] == {"$ref": f"#/components/schemas/{model}"}
        assert envelope["properties"]["meta"] == {"$ref": "#/components/schemas/SuccessMeta"}
        assert set(envelope["required"]) == {"data", "meta"}
    assert schemas["SuccessMeta"]["properties"]["success"]["const"] is True
    assert "503" in paths["/health/ready"]["get"]["responses"]
