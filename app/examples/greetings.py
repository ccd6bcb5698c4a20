"""A first domain router: public, signed-in and admin-only routes (README, "Your first endpoint")."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from app.auth.dependencies import CurrentSessionDep, require_roles
from app.core.dependencies import ResponseFactoryDep
from app.core.exceptions import NotFoundError
from app.core.logger import get_logger
from app.core.metrics.prometheus import prometheus
from app.core.response import SuccessEnvelope, problem_responses

logger = get_logger("app.greetings.router")  # app.<domain>.<layer>
# Declared once per process; registering the same name again returns the same counter.
greetings_served = prometheus.register_counter(
    "greetings_served_total", "Greetings served, by language.", ["language"]
)
GREETINGS = {"en": "Hello", "fr": "Bonjour", "de": "Hallo"}

greetings_router = APIRouter(tags=["greetings"])


class Greeting(BaseModel):
    language: str
    text: str


@greetings_router.get("/languages", response_model=SuccessEnvelope[list[str]])
async def list_languages(responses: ResponseFactoryDep) -> object:
    """Public: no caller needed. `responses.success` wraps the data in `{data, meta}`."""
    return responses.success(sorted(GREETINGS))


@greetings_router.get(
    "/{language}",
    response_model=SuccessEnvelope[Greeting],
    responses=problem_responses(401, 404),
)
async def greet(language: str, current: CurrentSessionDep, responses: ResponseFactoryDep) -> object:
    """Signed in: `current.user` is the caller (401 without a valid access token)."""
    word = GREETINGS.get(language)
    if word is None:
        raise NotFoundError(detail="no greeting in this language")  # a problem+json 404
    greetings_served.labels(language=language).inc()
    logger.info("greeting_served", extra={"language": language})  # + request_id, user_id
    greeting = Greeting(language=language, text=f"{word}, {current.user.email}")
    return responses.success(greeting.model_dump())


@greetings_router.get(
    "/admin/languages",
    dependencies=[Depends(require_roles("admin"))],  # 403 unless the caller has the role
    response_model=SuccessEnvelope[dict[str, str]],
    responses=problem_responses(401, 403),
)
async def list_greetings(responses: ResponseFactoryDep) -> object:
    """Admins only: every greeting, not just the languages."""
    return responses.success(GREETINGS)
