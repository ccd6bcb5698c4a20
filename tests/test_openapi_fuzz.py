"""API fuzzing: schemathesis generates requests for every operation of our OpenAPI document.

Every response must be no 5xx, have a documented status code and content type, and match
the documented schema (the success envelope or the problem+json error envelope). Rate
limits stay on, so 429 answers must be documented too. Valid and invalid inputs are both
generated; a bounded number of examples per operation keeps the run short.
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
from schemathesis.python.asgi import shutdown_lifespans
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


@pytest.fixture
async def api_schema(make_settings: Callable[..., Settings]) -> AsyncIterator[BaseSchema]:
    """Our OpenAPI document, served in-process by an app on the test database."""
    application = create_app(make_settings())
    try:
        yield schemathesis.openapi.from_asgi("/openapi.json", application)
    finally:
        shutdown_lifespans()
        await _truncate_all(make_settings())


def _fuzz(operation: APIOperation, mode: GenerationMode) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(checks=CHECKS)

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
            _fuzz(operation, mode)
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE  # nothing to send wrong: no parameters, no body
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.method.upper()} {operation.path}:\n{exc}")
    assert not failures, "\n\n".join(failures)
