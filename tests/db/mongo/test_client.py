"""The AsyncMongoClient factory and its place in the lifespan (no Mongo server here)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pymongo import AsyncMongoClient

from app.core.config import Settings
from app.db.mongo.client import create_mongo_client
from app.db.mongo.monitoring import CommandMetricsListener

UNREACHABLE = "mongodb://127.0.0.1:9/appdb"  # discard port: nothing answers


def test_no_url_means_no_client(make_settings: Callable[..., Settings]) -> None:
    assert create_mongo_client(make_settings()) is None


async def test_the_client_reports_commands_to_our_listener(
    make_settings: Callable[..., Settings],
) -> None:
    client = create_mongo_client(make_settings(MONGO_URL=UNREACHABLE))
    assert isinstance(client, AsyncMongoClient)
    try:
        listeners = client.options.event_listeners
        assert any(isinstance(listener, CommandMetricsListener) for listener in listeners)
    finally:
        await client.close()


async def test_the_lifespan_opens_and_closes_the_client(
    make_client: Callable[..., Any], app_of: Callable[..., Any]
) -> None:
    async with make_client(MONGO_URL=UNREACHABLE) as client:
        mongo = app_of(client).state.mongo
        assert isinstance(mongo, AsyncMongoClient)
        assert (await client.get("/health")).status_code == 200
    assert mongo._closed
    async with make_client() as client:
        assert app_of(client).state.mongo is None
