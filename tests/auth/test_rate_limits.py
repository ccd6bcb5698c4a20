"""The auth routes' rate limits: their rules, their email key, and the middleware over HTTP.

The HTTP tests run the real middleware stack (`add_middlewares`) with the auth rules
registered, around stand-in login/register endpoints that echo the body, so they check
the limits without the rest of the auth domain.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from app.auth.rate_limits import email_key, register_rate_limits, rules_from_settings
from app.core.config import Settings
from app.core.exceptions import register_exception_handlers
from app.core.middleware import add_middlewares

SIGNING_KEYS = {"ACCESS_TOKEN_SIGNING_KEY": "a" * 40, "REFRESH_TOKEN_SIGNING_KEY": "b" * 40}


def bare(**values: Any) -> Settings:
    return Settings(_env_file=None, **{**SIGNING_KEYS, **values})  # type: ignore[arg-type]


def stand_in_app(settings: Settings) -> FastAPI:
    """Our middleware stack around endpoints standing in for login and register."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if app.state.rate_limiter is not None:
            await app.state.rate_limiter.start()
        yield
        if app.state.rate_limiter is not None:
            await app.state.rate_limiter.aclose()

    app = FastAPI(lifespan=lifespan)
    app.state.settings = settings
    add_middlewares(app, settings)
    if app.state.rate_limiter is not None:
        register_rate_limits(app.state.rate_limiter, settings)
    register_exception_handlers(app)

    async def echo(request: Request) -> JSONResponse:
        return JSONResponse({"body": (await request.body()).decode()})

    for path in ("/api/auth/login", "/api/auth/register", "/api/other"):
        app.add_api_route(path, echo, methods=["POST", "GET"])
    return app


ClientFactory = Callable[..., AbstractAsyncContextManager[Callable[..., httpx.AsyncClient]]]


@pytest.fixture
def limited() -> ClientFactory:
    """`async with limited(**settings) as client_from:`; `client_from(ip)` is a client at that IP."""

    @asynccontextmanager
    async def build(**overrides: Any) -> AsyncIterator[Callable[..., httpx.AsyncClient]]:
        app = stand_in_app(bare(**overrides))
        clients: list[httpx.AsyncClient] = []

        def client_from(ip: str = "203.0.113.7") -> httpx.AsyncClient:
            transport = httpx.ASGITransport(app=app, client=(ip, 40000))
            client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
            clients.append(client)
            return client

        async with app.router.lifespan_context(app):
            try:
                yield client_from
            finally:
                for client in clients:
                    await client.aclose()

    return build


def login(email: str = "user@example.com") -> dict[str, str]:
    return {"email": email, "password": "not-checked-here"}


# --- rules ---------------------------------------------------------------------------


def test_default_rules_follow_the_spec() -> None:
    rules = {rule.name: rule for rule in rules_from_settings(bare())}
    assert {
        name: (r.method, r.path, r.key, r.limit, r.window_seconds) for name, r in rules.items()
    } == {
        "login-ip": ("POST", "/api/auth/login", "ip", 20, 60),
        "login-email": ("POST", "/api/auth/login", "email", 5, 60),
        "register-ip": ("POST", "/api/auth/register", "ip", 5, 3600),
        "refresh-ip": ("POST", "/api/auth/refresh", "ip", 60, 60),
        "refresh-session": ("POST", "/api/auth/refresh", "session", 10, 60),
        "password-ip": ("POST", "/api/auth/password", "ip", 10, 60),
    }


def test_rules_take_other_notations() -> None:
    rules = rules_from_settings(bare(RATE_LIMIT_REGISTER_PER_IP="100 per 2 hours"))
    assert (rules[2].limit, rules[2].window_seconds) == (100, 7200)


@pytest.mark.parametrize("value", ["twenty a minute", "20/fortnight", ""])
def test_unparseable_rule_is_a_settings_error(value: str) -> None:
    with pytest.raises(ValidationError):
        bare(RATE_LIMIT_LOGIN_PER_IP=value)


# --- email key ---------------------------------------------------------------------------


def test_email_key_is_normalised_and_hashed() -> None:
    key = email_key(b'{"email": "  User@Example.COM "}')
    assert key == email_key(b'{"email": "user@example.com"}')
    assert key is not None
    assert "example" not in key
    assert key != email_key(b'{"email": "other@example.com"}')


@pytest.mark.parametrize(
    "spelling",
    ["alice@\uff45xample.com", "alice@example\u3002com", "\uff41lice@EXAMPLE.com"],
)
def test_email_key_is_the_same_for_every_spelling_of_an_address(spelling: str) -> None:
    assert email_key(json.dumps({"email": spelling}).encode()) == email_key(
        b'{"email": "alice@example.com"}'
    )


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[1]",
        b'{"email": 5}',
        b'{"email": "  "}',
        b'{"email": "not an address"}',
        b"[" * 100_000,
    ],
)
def test_email_key_absent(body: bytes) -> None:
    assert email_key(body) is None


# --- middleware over HTTP -----------------------------------------------------------------


async def test_login_is_limited_per_ip_with_ietf_headers(limited: ClientFactory) -> None:
    async with limited(RATE_LIMIT_LOGIN_PER_IP="3/minute") as client_from:
        client = client_from()
        responses = [
            await client.post("/api/auth/login", json=login(f"u{i}@example.com")) for i in range(4)
        ]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    for response in responses:
        assert response.headers["RateLimit-Policy"] == '"login-ip";q=3;w=60, "login-email";q=5;w=60'
    assert responses[0].headers["RateLimit"].startswith('"login-ip";r=2;t=')
    assert '"login-email";r=4;t=' in responses[0].headers["RateLimit"]
    assert responses[2].headers["RateLimit"].startswith('"login-ip";r=0;t=')

    refused = responses[3]
    assert refused.headers["content-type"] == "application/problem+json"
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert refused.headers["RateLimit"] == f'"login-ip";r=0;t={retry_after}'
    body = refused.json()
    assert body["status"] == 429
    assert body["type"] == "https://httpstatuses.io/429"
    assert body["title"] == "Too Many Requests"
    assert body["instance"] == "/api/auth/login"
    assert body["meta"]["success"] is False
    assert body["meta"]["request_id"] == refused.headers["X-Request-ID"]


async def test_email_budget_is_shared_across_ips(limited: ClientFactory) -> None:
    async with limited(RATE_LIMIT_LOGIN_PER_EMAIL="2/minute") as client_from:
        statuses = [
            (
                await client_from(f"198.51.100.{i}").post("/api/auth/login", json=login(email))
            ).status_code
            for i, email in enumerate(["v@example.com", " V@Example.com", "v@example.com "])
        ]
        other = await client_from("198.51.100.9").post(
            "/api/auth/login", json=login("w@example.com")
        )
    assert statuses == [200, 200, 429]
    assert other.status_code == 200


async def test_ip_refusal_does_not_spend_the_email_budget(limited: ClientFactory) -> None:
    async with limited(
        RATE_LIMIT_LOGIN_PER_IP="1/minute", RATE_LIMIT_LOGIN_PER_EMAIL="2/minute"
    ) as client_from:
        attacker = client_from("198.51.100.66")
        for _ in range(5):
            await attacker.post("/api/auth/login", json=login("victim@example.com"))
        victim = client_from("192.0.2.10")
        first = await victim.post("/api/auth/login", json=login("victim@example.com"))
    assert first.status_code == 200
    assert '"login-email";r=0;' in first.headers["RateLimit"]  # attacker's 1 + victim's 1


async def test_register_is_limited_per_ip(limited: ClientFactory) -> None:
    async with limited(RATE_LIMIT_REGISTER_PER_IP="2/hour") as client_from:
        client = client_from()
        statuses = [
            (await client.post("/api/auth/register", json=login())).status_code for _ in range(3)
        ]
        elsewhere = await client_from("192.0.2.1").post("/api/auth/register", json=login())
    assert statuses == [200, 200, 429]
    assert elsewhere.status_code == 200
    assert elsewhere.headers["RateLimit-Policy"] == '"register-ip";q=2;w=3600'


async def test_spoofed_forwarded_for_buys_no_budget(limited: ClientFactory) -> None:
    async with limited(RATE_LIMIT_REGISTER_PER_IP="2/hour") as client_from:
        client = client_from("203.0.113.50")
        statuses = [
            (
                await client.post(
                    "/api/auth/register",
                    json=login(),
                    headers={"X-Forwarded-For": f"10.0.0.{i}"},
                )
            ).status_code
            for i in range(3)
        ]
    assert statuses == [200, 200, 429]


async def test_forwarded_for_from_a_trusted_proxy_is_the_key(limited: ClientFactory) -> None:
    async with limited(
        RATE_LIMIT_REGISTER_PER_IP="1/hour", TRUSTED_PROXIES="10.0.0.0/8"
    ) as client_from:
        proxy = client_from("10.1.2.3")
        statuses = [
            (
                await proxy.post(
                    "/api/auth/register", json=login(), headers={"X-Forwarded-For": client}
                )
            ).status_code
            for client in ("198.51.100.1", "198.51.100.2", "198.51.100.1")
        ]
    assert statuses == [200, 200, 429]


async def test_body_reaches_the_app_unchanged(limited: ClientFactory) -> None:
    payload = {"email": "x@example.com", "password": "p" * 5000, "extra": ["é", 1]}

    async def chunks() -> AsyncIterator[bytes]:
        raw = json.dumps(payload).encode()
        for start in range(0, len(raw), 1000):
            yield raw[start : start + 1000]

    async with limited() as client_from:
        streamed = await client_from().post(
            "/api/auth/login", content=chunks(), headers={"content-type": "application/json"}
        )
        plain = await client_from().post("/api/auth/login", content=b"not json at all")
    assert json.loads(streamed.json()["body"]) == payload
    assert '"login-email";r=4' in streamed.headers["RateLimit"]
    assert plain.json()["body"] == "not json at all"
    assert "login-email" not in plain.headers["RateLimit"]  # no email: that rule did not apply


async def test_other_routes_and_methods_are_not_limited(limited: ClientFactory) -> None:
    async with limited(RATE_LIMIT_LOGIN_PER_IP="1/minute") as client_from:
        client = client_from()
        others = [await client.post("/api/other", json=login()) for _ in range(3)]
        gets = [await client.get("/api/auth/login") for _ in range(3)]
    assert {r.status_code for r in others + gets} == {200}
    assert all("RateLimit" not in r.headers for r in others + gets)


async def test_disabled_limiter_passes_everything(limited: ClientFactory) -> None:
    async with limited(
        RATE_LIMIT_ENABLED=False, RATE_LIMIT_REGISTER_PER_IP="1/hour"
    ) as client_from:
        client = client_from()
        responses = [await client.post("/api/auth/register", json=login()) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert "RateLimit" not in responses[0].headers
