"""Fixtures of the middleware tests: the service app with the probe routes added."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

import httpx
import pytest
from fastapi import FastAPI

from tests.core.probe_routes import Gate, add_probe_routes

ClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
async def probe(
    make_client: ClientFactory, app_of: Callable[[httpx.AsyncClient], FastAPI]
) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI, Gate]]:
    async with make_client() as http:
        app = app_of(http)
        gate = add_probe_routes(app)
        yield http, app, gate


@pytest.fixture
async def client(probe: tuple[httpx.AsyncClient, FastAPI, Gate]) -> httpx.AsyncClient:
    return probe[0]
