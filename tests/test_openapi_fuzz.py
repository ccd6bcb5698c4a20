"""API fuzzing: schemathesis generates requests for every operation of our OpenAPI document.

Every response must be no 5xx, have a documented status code and content type, and match
the documented schema (the success envelope or the problem+json error envelope). Rate
limits stay on, so 429 answers must be documented too. Valid and invalid inputs are both
generated, signed in (a bearer token of a real account) so that the authenticated routes
are explored beyond their 401; a bounded number of examples per operation keeps the run
short.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.python.asgi import get_client, shutdown_lifespans
from schemathesis.schemas import APIOperation, BaseSchema

from app.core.config import Settings
from app.main import create_app
from tests.conftest import _truncate_all

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 30

pytestmark = pytest.mark.slow


ACCOUNT = {"email": "fuzz@example.com", "password": "correct horse battery staple"}


@pytest.fixture
async def api_schema(make_settings: Callable[..., Settings]) -> AsyncIterator[BaseSchema]:
    """Our OpenAPI document, served in-process by an app on the test database.

    Logins are allowed often enough for `_bearer` to sign in before every operation, and
    registrations for about half the generated ones to reach the service; the rest get
    the limiter's 429.
    """
    settings = make_settings(
        RATE_LIMIT_LOGIN_PER_IP="1000/minute",
        RATE_LIMIT_LOGIN_PER_EMAIL="1000/minute",
        RATE_LIMIT_REGISTER_PER_IP=f"{EXAMPLES_PER_OPERATION}/hour",
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(settings))
    try:
        with get_client(schema.app) as client:
            assert client.post("/api/auth/register", json=ACCOUNT).status_code == 201
        yield schema
    finally:
        shutdown_lifespans()
        await _truncate_all(make_settings())


def _bearer(schema: BaseSchema) -> dict[str, str]:
    """A fresh session's access token, so that an earlier logout cannot spoil it."""
    with get_client(schema.app) as client:
        response = client.post("/api/auth/login", json=ACCOUNT)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['data']['access_token']}"}


def _fuzz(operation: APIOperation, mode: GenerationMode, headers: dict[str, str]) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_within_its_documented_contract(
    api_schema: BaseSchema, mode: GenerationMode
) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert operations
    failures: list[str] = []
    for operation in operations:
        try:
            _fuzz(operation, mode, _bearer(api_schema))
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE  # nothing to send wrong: no parameters, no body
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.method.upper()} {operation.path}:\n{exc}")
    assert not failures, "\n\n".join(failures)
