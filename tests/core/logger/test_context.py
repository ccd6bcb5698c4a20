"""The request and user IDs in context reach every log line made while they are set."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from fastapi import APIRouter

from app.core.logger import get_logger, request_id_ctx, user_id_ctx
from tests.core.logger.log_lines import SPEC_FIELDS, marked, records


def test_request_and_user_ids_are_snapshotted_when_the_call_is_made(log_dir: Path) -> None:
    logger = get_logger("app.tests.context")
    logger.info("without_context")
    request_token = request_id_ctx.set("req-123")
    user_token = user_id_ctx.set("user-456")
    logger.info("with_context")
    request_id_ctx.reset(request_token)  # before the listener thread formats the record
    user_id_ctx.reset(user_token)

    (plain,) = marked(log_dir / "app.json", "without_context")
    (scoped,) = marked(log_dir / "app.json", "with_context")
    assert set(plain) == SPEC_FIELDS
    assert (scoped["request_id"], scoped["user_id"]) == ("req-123", "user-456")


async def test_concurrent_tasks_keep_their_own_request_id(log_dir: Path) -> None:
    logger = get_logger("app.tests.tasks")

    async def handle(request_id: str) -> None:
        request_id_ctx.set(request_id)
        for step in range(5):
            logger.info("task_step", extra={"expected": request_id, "step": step})
            await asyncio.sleep(0)

    await asyncio.gather(*(handle(f"req-{n}") for n in range(50)))

    lines = marked(log_dir / "app.json", "task_step")
    assert len(lines) == 250
    assert all(line["request_id"] == line["extra"]["expected"] for line in lines)


async def test_every_line_of_a_request_carries_its_response_request_id(
    make_client: Callable[..., Any], tmp_path: Path
) -> None:
    router = APIRouter()
    logger = get_logger("app.tests.http")

    @router.get("/logged/{item_id}")
    async def logged(item_id: int) -> dict[str, int]:
        logger.info("handler_start", extra={"item_id": item_id})
        await asyncio.sleep(0)
        logger.warning("handler_end", extra={"item_id": item_id})
        return {"item_id": item_id}

    async with make_client() as client:
        client.app.include_router(router, prefix="/api/logtest")
        responses: list[httpx.Response] = await asyncio.gather(
            *(client.get(f"/api/logtest/logged/{n}") for n in range(20))
        )
    lines = [r for r in records(tmp_path / "logs" / "app.json") if r["logger"] == "app.tests.http"]
    assert len(lines) == 40
    by_item = {
        response.json()["item_id"]: response.headers["x-request-id"] for response in responses
    }
    assert all(line["request_id"] == by_item[line["extra"]["item_id"]] for line in lines)
