"""The plain equivalents of our four endpoints: bare FastAPI, PyJWT, argon2-cffi, asyncpg.

Written the way a competent developer writes them from the PyPI parts, neither crippled
nor tuned: async endpoints and dependencies, pydantic request and response models, an
asyncpg pool with its default size, one SQL statement per request where the job allows,
the blocking Argon2 verify in FastAPI's thread pool. It uses our database (same tables,
same rows) and verifies our access tokens (same keys, issuer and audience), so that
`/me` reads the same session and user as ours does. Its own sessions store a SHA-256
digest of the refresh token.

No middleware, no logging, no request IDs, no rate limiting: what ours adds on top of
this is what the benchmark's ratios show.
"""

# No `from __future__ import annotations`: FastAPI reads the endpoints' annotations, and
# those naming the dependencies defined inside `create_bare_app` must be evaluated there.
import hashlib
import os
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import asyncpg
import jwt
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, EmailStr

ACCESS_TTL_SECONDS = 15 * 60
REFRESH_TTL_SECONDS = 60 * 24 * 3600

SESSION_WITH_USER = """
SELECT u.id, u.email, u.full_name, u.roles, u.created_at
FROM user_sessions s JOIN users u ON u.id = s.user_id
WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL AND s.expires_at > now()
  AND u.is_active
"""
# Compare-and-set: the row changes only if it still holds the digest of the presented
# token (the SHA-256 compare), so a reused or raced token updates nothing.
ROTATE = """
UPDATE user_sessions s
SET refresh_token_hash = $3, previous_refresh_token_hash = $2, rotated_at = now(),
    last_used_at = now()
FROM users u
WHERE s.id = $1 AND s.refresh_token_hash = $2 AND s.revoked_at IS NULL
  AND s.expires_at > now() AND u.id = s.user_id AND u.is_active
RETURNING u.id, u.roles
"""
USER_BY_EMAIL = "SELECT id, password_hash, roles, is_active FROM users WHERE email = $1"
INSERT_SESSION = """
INSERT INTO user_sessions (id, user_id, refresh_token_hash, ip_address, user_agent, expires_at)
VALUES ($1, $2, $3, $4, $5, now() + interval '180 days')
"""


@dataclass(frozen=True, slots=True)
class BareConfig:
    """What the plain app needs to know, read from the environment the bench sets."""

    database_url: str
    access_key: str
    refresh_key: str
    issuer: str
    audience: str
    argon2_time_cost: int
    argon2_memory_cost_kib: int
    argon2_parallelism: int

    @classmethod
    def from_env(cls) -> "BareConfig":
        env = os.environ
        return cls(
            database_url=env["BARE_DATABASE_URL"],
            access_key=env["ACCESS_TOKEN_SIGNING_KEY"],
            refresh_key=env["REFRESH_TOKEN_SIGNING_KEY"],
            issuer=env["BARE_JWT_ISSUER"],
            audience=env["BARE_JWT_AUDIENCE"],
            argon2_time_cost=int(env["ARGON2_TIME_COST"]),
            argon2_memory_cost_kib=int(env["ARGON2_MEMORY_COST_KIB"]),
            argon2_parallelism=int(env["ARGON2_PARALLELISM"]),
        )

    def as_env(self) -> dict[str, str]:
        """The variables `from_env` reads, for a server process of the plain app."""
        return {
            "BARE_DATABASE_URL": self.database_url,
            "ACCESS_TOKEN_SIGNING_KEY": self.access_key,
            "REFRESH_TOKEN_SIGNING_KEY": self.refresh_key,
            "BARE_JWT_ISSUER": self.issuer,
            "BARE_JWT_AUDIENCE": self.audience,
            "ARGON2_TIME_COST": str(self.argon2_time_cost),
            "ARGON2_MEMORY_COST_KIB": str(self.argon2_memory_cost_kib),
            "ARGON2_PARALLELISM": str(self.argon2_parallelism),
        }


class Meta(BaseModel):
    timestamp: datetime
    success: bool = True


class Status(BaseModel):
    status: str


class UserOut(BaseModel):
    id: uuid.UUID
    email: str
    full_name: str | None
    roles: list[str]
    created_at: datetime


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"  # noqa: S105  (the OAuth2 token type)
    expires_in: int = ACCESS_TTL_SECONDS
    session_id: uuid.UUID


class StatusEnvelope(BaseModel):
    data: Status
    meta: Meta


class UserEnvelope(BaseModel):
    data: UserOut
    meta: Meta


class TokenEnvelope(BaseModel):
    data: TokenPair
    meta: Meta


class LoginIn(BaseModel):
    email: EmailStr
    password: str


class RefreshIn(BaseModel):
    refresh_token: str


def _meta() -> Meta:
    return Meta(timestamp=datetime.now(UTC))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def get_pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.pool
    return pool


Pool = Annotated[asyncpg.Pool, Depends(get_pool)]


def _ids(claims: dict[str, Any]) -> tuple[uuid.UUID, uuid.UUID]:
    """The session and user ids a verified token names."""
    try:
        return uuid.UUID(claims["sid"]), uuid.UUID(claims["sub"])
    except (KeyError, ValueError, TypeError, AttributeError):
        raise _unauthorized() from None


def _unauthorized() -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, "invalid credentials", {"WWW-Authenticate": "Bearer"}
    )


def create_bare_app(config: BareConfig) -> FastAPI:
    """The four endpoints at our paths, over the pool the lifespan opens."""
    hasher = PasswordHasher(
        time_cost=config.argon2_time_cost,
        memory_cost=config.argon2_memory_cost_kib,
        parallelism=config.argon2_parallelism,
    )
    dummy_hash = hasher.hash("not a password of anyone")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(config.database_url)
        try:
            yield
        finally:
            await app.state.pool.close()

    app = FastAPI(lifespan=lifespan)
    bearer = HTTPBearer()

    def decode(token: str, key: str, token_type: str) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token, key, algorithms=["HS256"], audience=config.audience, issuer=config.issuer
            )
        except jwt.PyJWTError:
            raise _unauthorized() from None
        if claims.get("type") != token_type:
            raise _unauthorized()
        return claims

    def encode(token_type: str, user_id: str, roles: list[str], sid: str) -> str:
        now = int(time.time())
        ttl = ACCESS_TTL_SECONDS if token_type == "access" else REFRESH_TTL_SECONDS  # noqa: S105
        payload = {
            "sub": user_id,
            "roles": roles,
            "sid": sid,
            "type": token_type,
            "iat": now,
            "exp": now + ttl,
            "iss": config.issuer,
            "aud": config.audience,
            "jti": uuid.uuid4().hex,
        }
        key = config.access_key if token_type == "access" else config.refresh_key  # noqa: S105
        return jwt.encode(payload, key, algorithm="HS256")

    async def current_user(
        pool: Pool, credentials: Annotated[HTTPAuthorizationCredentials, Depends(bearer)]
    ) -> asyncpg.Record:
        sid, sub = _ids(decode(credentials.credentials, config.access_key, "access"))
        user: asyncpg.Record | None = await pool.fetchrow(SESSION_WITH_USER, sid, sub)
        if user is None:
            raise _unauthorized()
        return user

    @app.get("/health", response_model=StatusEnvelope)
    async def health() -> StatusEnvelope:
        return StatusEnvelope(data=Status(status="ok"), meta=_meta())

    @app.get("/api/auth/me", response_model=UserEnvelope)
    async def me(user: Annotated[asyncpg.Record, Depends(current_user)]) -> UserEnvelope:
        return UserEnvelope(data=UserOut(**dict(user)), meta=_meta())

    @app.post("/api/auth/refresh", response_model=TokenEnvelope)
    async def refresh(body: RefreshIn, pool: Pool) -> TokenEnvelope:
        claims = decode(body.refresh_token, config.refresh_key, "refresh")
        sid, sub = _ids(claims)
        new_refresh = encode("refresh", str(sub), claims.get("roles", []), str(sid))
        row = await pool.fetchrow(ROTATE, sid, _digest(body.refresh_token), _digest(new_refresh))
        if row is None or row["id"] != sub:
            raise _unauthorized()
        pair = TokenPair(
            access_token=encode("access", str(sub), list(row["roles"]), str(sid)),
            refresh_token=new_refresh,
            session_id=sid,
        )
        return TokenEnvelope(data=pair, meta=_meta())

    @app.post("/api/auth/login", response_model=TokenEnvelope)
    async def login(body: LoginIn, request: Request, pool: Pool) -> TokenEnvelope:
        user = await pool.fetchrow(USER_BY_EMAIL, body.email.strip().lower())
        try:
            await run_in_threadpool(
                hasher.verify, user["password_hash"] if user else dummy_hash, body.password
            )
        except VerificationError:
            raise _unauthorized() from None
        if user is None or not user["is_active"]:
            raise _unauthorized()
        sid, sub, roles = uuid.uuid4(), str(user["id"]), list(user["roles"])
        pair = TokenPair(
            access_token=encode("access", sub, roles, str(sid)),
            refresh_token=encode("refresh", sub, roles, str(sid)),
            session_id=sid,
        )
        client = request.client.host if request.client else None
        user_agent = request.headers.get("user-agent")
        await pool.execute(
            INSERT_SESSION, sid, user["id"], _digest(pair.refresh_token), client, user_agent
        )
        return TokenEnvelope(data=pair, meta=_meta())

    return app
