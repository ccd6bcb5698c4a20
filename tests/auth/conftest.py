"""Helpers for the auth tests: accounts and logins over HTTP, rows read back from PostgreSQL,
a real uvicorn server for the WebSocket tests, and the auth service wired as the app wires
it (`auth_wiring`) for the tests of the service and repositories without HTTP."""

from __future__ import annotations

import asyncio
import json
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.auth.dependencies import build_auth_service
from app.auth.models import UserSession
from app.auth.service import AuthService, CurrentSession
from app.auth.session_cache import CachedCaller
from app.core.config import Settings
from app.core.http.schemas import DeviceType, SessionDeviceInfo
from app.core.security import JWTService, PasswordSecurity
from app.db.postgres import create_database_engine
from app.db.postgres.driver import DriverPool
from app.db.postgres.session import SessionOnDemand, committed
from app.main import create_app
from tests.conftest import _truncate_all
from tests.live_server import serving

T = TypeVar("T")

PASSWORD = "correct horse battery staple"
CHROME_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)
FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0"

ClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


async def register(
    client: httpx.AsyncClient,
    email: str = "ada@example.com",
    password: str = PASSWORD,
    **fields: Any,
) -> httpx.Response:
    return await client.post(
        "/api/auth/register", json={"email": email, "password": password, **fields}
    )


async def login(
    client: httpx.AsyncClient,
    email: str = "ada@example.com",
    password: str = PASSWORD,
    *,
    user_agent: str = CHROME_MAC,
) -> httpx.Response:
    return await client.post(
        "/api/auth/login",
        json={"email": email, "password": password},
        headers={"User-Agent": user_agent},
    )


async def signed_in(
    client: httpx.AsyncClient,
    email: str = "ada@example.com",
    *,
    user_agent: str = CHROME_MAC,
) -> dict[str, Any]:
    """Register `email` (if new) and log in; the login's `data`."""
    await register(client, email)
    response = await login(client, email, user_agent=user_agent)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def within_a_second(probe: Callable[[], Awaitable[T]], expected: T) -> T:
    """`await probe()` until it returns `expected`, for up to a second; the last result.

    A change written by another process (psql, the CLI, another instance) reaches this
    process's session cache through PostgreSQL NOTIFY: within a second, not at once.
    """
    deadline = time.monotonic() + 1.0
    while True:
        result = await probe()
        if result == expected or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.02)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def log_records(log_dir: Path) -> list[dict[str, Any]]:
    """Every JSON line the app wrote under `log_dir` (read once the app has stopped)."""
    return [
        json.loads(line)
        for path in sorted(log_dir.glob("*.json"))
        for line in path.read_text().splitlines()
        if line.strip()
    ]


@pytest.fixture
def sql(settings: Settings) -> Callable[..., Any]:
    """`await sql("SELECT ...", **params)`: rows (as mappings) from the test database."""

    async def run(statement: str, **params: Any) -> list[dict[str, Any]]:
        engine = create_async_engine(settings.database_url)
        try:
            async with engine.begin() as connection:
                result = await connection.execute(text(statement), params)
                return [dict(row) for row in result.mappings()] if result.returns_rows else []
        finally:
            await engine.dispose()

    return run


@pytest.fixture
def live_server(
    make_settings: Callable[..., Settings],
) -> Callable[..., AbstractAsyncContextManager[str]]:
    """`async with live_server(**overrides) as address:` the app served by uvicorn.

    WebSocket close codes are a protocol matter; only a real server shows what a
    client receives. The tables are emptied afterwards, as `make_client` does.
    """

    @asynccontextmanager
    async def serve(**overrides: Any) -> AsyncIterator[str]:
        try:
            async with serving(create_app(make_settings(**overrides))) as address:
                yield address
        finally:
            await _truncate_all(make_settings())

    return serve


# The device a login reports, as DeviceInfoMiddleware would parse CHROME_MAC from 203.0.113.7.
CHROME_DEVICE = SessionDeviceInfo(
    user_agent=CHROME_MAC,
    ip_address="203.0.113.7",
    device_type=DeviceType.DESKTOP,
    os="macOS",
    browser="Chrome",
)


@dataclass(frozen=True, slots=True)
class AuthWiring:
    """What the lifespan builds for the auth domain (engine, sessionmaker, driver pool,
    password hashing, JWT service), and the service built over them as the auth
    dependencies build it, without an app or HTTP."""

    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    driver: DriverPool
    passwords: PasswordSecurity
    tokens: JWTService

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[AuthService]:
        """A service over one unit of work committed at the end (`get_auth_service`)."""
        async with committed(self.sessionmaker()) as db:
            yield build_auth_service(db, self.passwords, self.tokens, self.settings, self.driver)

    def standalone(self) -> AuthService:
        """A service that opens its own units of work (`get_standalone_service`)."""
        engine = self.engine
        session = SessionOnDemand(
            lambda: AsyncSession(engine, expire_on_commit=False, autobegin=False)
        )
        return build_auth_service(session, self.passwords, self.tokens, self.settings, self.driver)

    async def authenticate(self, access_token: str) -> CurrentSession:
        """The caller behind `access_token`, in a unit of work of its own."""
        async with self.unit_of_work() as service:
            return await service.authenticate(access_token)


WiringFactory = Callable[..., AbstractAsyncContextManager[AuthWiring]]


@pytest.fixture
def make_wiring(make_settings: Callable[..., Settings]) -> WiringFactory:
    """`async with make_wiring(**settings_overrides) as wiring:`; the tables are emptied after."""

    @asynccontextmanager
    async def build(**overrides: Any) -> AsyncIterator[AuthWiring]:
        settings = make_settings(**overrides)
        engine = create_database_engine(settings)
        passwords = PasswordSecurity.from_settings(settings)
        driver = await DriverPool.open(settings)
        try:
            yield AuthWiring(
                settings=settings,
                engine=engine,
                sessionmaker=async_sessionmaker(engine, expire_on_commit=False),
                driver=driver,
                passwords=passwords,
                tokens=JWTService.from_settings(settings),
            )
        finally:
            await driver.close()
            await engine.dispose()
            passwords.close()
            await _truncate_all(make_settings())  # the test database, as make_client empties it

    return build


@pytest.fixture
async def auth_wiring(make_wiring: WiringFactory) -> AsyncIterator[AuthWiring]:
    """The auth service's parts built from the default test settings."""
    async with make_wiring() as wiring:
        yield wiring


@pytest.fixture
def closed_port() -> int:
    """A local port with nothing listening on it: a database that cannot be reached."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cached_caller(
    session_id: uuid.UUID | None = None, user_id: uuid.UUID | None = None
) -> CachedCaller:
    """A session cache entry that needs no row (the cache never reads the database)."""
    now = datetime.now(UTC)
    session = UserSession(
        id=session_id or uuid.uuid4(),
        user_id=user_id or uuid.uuid4(),
        last_used_at=now,
        expires_at=now + timedelta(hours=1),
    )
    return CachedCaller.of(session)
