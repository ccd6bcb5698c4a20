"""Auth use cases: register, log in, rotate refresh tokens, authenticate, revoke.

Decisions worth knowing:
- Login failures look alike. Unknown email, wrong password, disabled account and a
  password longer than the policy's maximum all get the same 401 body. An unknown email
  is still verified against `PasswordSecurity.dummy_hash`, so it costs what a wrong
  password costs; an over-long password is refused before any hashing (the refusal does
  not depend on the account, so its speed tells nothing).
- Refresh locks the session row first (`SELECT ... FOR UPDATE` in the request's
  transaction), so refreshes of one session take turns. A token that no longer
  matches is reuse: the session is revoked and that revocation committed before the
  401, on the same connection. Within REFRESH_REUSE_GRACE_SECONDS of a rotation, the token
  just replaced (or a refresh that lost the race to it) is refused without revoking,
  so two tabs refreshing at once do not log each other out.
- Log lines about a user carry `user_id` at the top level: the service puts it in the
  request's logging context once the user is known (login, refresh), and the log
  formatter lifts a `user_id` given in `extra` there too.
- Roles are read from the database on each request, not trusted from the token, so a
  role removed takes effect at once.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NoReturn

from fastapi.exceptions import RequestValidationError
from sqlalchemy.orm.attributes import set_committed_value

from app.auth.metrics import login_failures, refresh_reuse
from app.auth.models import User, UserSession
from app.auth.repository import (
    EmailAlreadyRegisteredError,
    Rotation,
    SessionRepository,
    UserRepository,
)
from app.auth.schemas import (
    LoginRequest,
    PasswordChangeRequest,
    RefreshRequest,
    RegisterRequest,
    SessionRead,
    TokenPair,
)
from app.auth.session_cursor import InvalidCursorError, SessionCursor
from app.core.decorators import require_dto
from app.core.exceptions import AuthenticationError, ConflictError, NotFoundError
from app.core.http.schemas import SessionDeviceInfo
from app.core.logger import get_logger, log_fields, user_id_ctx
from app.core.security import (
    JWTService,
    PasswordPolicyError,
    PasswordSecurity,
    TokenClaims,
    TokenError,
)
from app.core.security.emails import email_digest
from app.core.security.token_digest import refresh_token_digest, refresh_token_matches

logger = get_logger("app.auth.service")

INVALID_CREDENTIALS = "invalid email or password"
INVALID_TOKEN = "invalid or expired token"  # noqa: S105  (an error message)
SESSION_ENDED = "session expired or revoked"
WRONG_CURRENT_PASSWORD = "current password is incorrect"  # noqa: S105  (an error message)
REFRESH_REUSED = "refresh token was already used; the session has been revoked"
REFRESH_SUPERSEDED = "refresh token was just rotated; use the newer one"


@dataclass(frozen=True, slots=True)
class AuthConfig:
    """The auth settings the service needs, as plain values."""

    session_lifetime: timedelta
    refresh_reuse_grace: timedelta = timedelta(0)
    # last_used_at is written at most this often per session.
    activity_resolution: timedelta = timedelta(seconds=60)
    # Key of the digest that stands in for emails in log lines (Settings.email_digest_key).
    email_digest_key: bytes = b""
    # A login beyond this many live sessions of its user revokes the oldest ones.
    max_sessions_per_user: int = 20


@dataclass(frozen=True, slots=True)
class CurrentSession:
    """The authenticated caller: the user and the live session its token names."""

    user: User
    session: UserSession

    @classmethod
    def of(cls, session: UserSession) -> CurrentSession:
        """The caller behind `session`, whose `user` is loaded."""
        return cls(user=session.user, session=session)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class AuthService:
    """The auth use cases over one unit of work (flushes, never commits)."""

    def __init__(
        self,
        *,
        users: UserRepository,
        sessions: SessionRepository,
        passwords: PasswordSecurity,
        tokens: JWTService,
        config: AuthConfig,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._users = users
        self._sessions = sessions
        self._passwords = passwords
        self._tokens = tokens
        self._config = config
        self._now = clock

    @require_dto(RegisterRequest)
    async def register(self, data: RegisterRequest) -> User:
        """Create an account with the default roles; 409 if the email is taken."""
        try:
            self._passwords.check_policy(data.password)
        except PasswordPolicyError as e:
            raise _password_rejected(e) from None  # the chained error would hold nothing new
        password_hash = await self._passwords.hash_password_async(data.password)
        try:
            user = await self._users.add(
                email=data.email, password_hash=password_hash, full_name=data.full_name
            )
        except EmailAlreadyRegisteredError as e:
            logger.info("registration_conflict", extra={"email_hmac": self._digest(data.email)})
            raise ConflictError(detail="email is already registered") from e
        logger.info("user_registered", extra={"user_id": str(user.id)})
        return user

    @require_dto(LoginRequest)
    async def login(self, data: LoginRequest, *, device: SessionDeviceInfo) -> TokenPair:
        """Check the credentials and open a session on this device."""
        if len(data.password) > self._passwords.max_length:
            self._login_failed(data.email, "password_too_long")
        account = await self._users.credentials(data.email)
        if account is None:
            await self._passwords.verify_password_async(data.password, self._passwords.dummy_hash)
            self._login_failed(data.email, "unknown_email")
        _attribute_request_to(account.user_id)
        if not await self._passwords.verify_password_async(data.password, account.password_hash):
            self._login_failed(data.email, "wrong_password", account.user_id)
        if not account.is_active:
            self._login_failed(data.email, "inactive_user", account.user_id)
        if self._passwords.needs_rehash(account.password_hash):
            new_hash = await self._passwords.hash_password_async(data.password)
            # Its own unit of work: the caller may have opened none (`get_standalone_service`).
            async with self._users.unit_of_work():
                await self._users.replace_password_hash(account.user_id, new_hash)
            logger.info("password_rehashed", extra={"user_id": str(account.user_id)})

        now = self._now()
        session_id = uuid.uuid4()
        pair, refresh_hash = self._issue(account.user_id, account.roles, session_id)
        evicted = await self._sessions.open(
            session_id=session_id,
            user_id=account.user_id,
            refresh_token_hash=refresh_hash,
            device=device,
            now=now,
            expires_at=now + self._config.session_lifetime,
            cap=self._config.max_sessions_per_user,
        )
        if evicted:
            logger.info(
                "sessions_revoked",
                extra={"user_id": str(account.user_id), "count": evicted, "reason": "session_cap"},
            )
        logger.info(
            "login_succeeded",
            extra={
                "user_id": str(account.user_id),
                "session_id": str(session_id),
                "fingerprint": device.fingerprint(),
            },
        )
        return pair

    @require_dto(RefreshRequest)
    async def refresh(self, data: RefreshRequest) -> TokenPair:
        """Exchange a refresh token for a new pair on the same session (rotation).

        Most refreshes present the current token of a live session: one conditional
        UPDATE rotates it (`rotate_if_current`), a round trip and no ORM objects. Any
        other case takes `_refresh_locked`: the session row is locked in the request's
        own transaction, so concurrent refreshes of one session take turns and each sees
        the hash the previous one committed. Of several presenting the same token, the
        first rotates and every later one finds a stale token (reuse, or a benign race
        within the grace period).
        """
        claims = _decoded(self._tokens.decode_refresh_token, data.refresh_token)
        rotation = _rotation_claimed(claims, data.refresh_token)
        if rotation is not None:
            now = self._now()
            pair, new_hash = self._issue(rotation.user_id, rotation.roles, rotation.session_id)
            if await self._sessions.rotate_if_current(rotation, new_hash=new_hash, now=now):
                return self._refreshed(rotation.user_id, rotation.session_id, pair)
        # Its own unit of work: the caller may have opened none (`get_standalone_service`).
        async with self._sessions.unit_of_work():
            return await self._refresh_locked(claims, data.refresh_token)

    def _refreshed(self, user_id: uuid.UUID, session_id: uuid.UUID, pair: TokenPair) -> TokenPair:
        _attribute_request_to(user_id)  # the line's user_id, at the top level
        log_fields(logger, logging.INFO, "session_refreshed", {"session_id": str(session_id)})
        return pair

    async def _refresh_locked(self, claims: TokenClaims, presented: str) -> TokenPair:
        """The refresh that `rotate_if_current` could not do: under the session row's lock.

        Decides between an ended session, the predecessor within the grace period and a
        reused token (which revokes the session); a session still holding a pre-digest
        hash, or whose user's roles changed, is rotated here.
        """
        session = await self._sessions.get_with_user_for_update(_uuid(claims["sid"]))
        if session is None or str(session.user_id) != claims["sub"]:
            raise AuthenticationError(detail=INVALID_TOKEN)
        _attribute_request_to(session.user_id)
        now = self._now()
        self._require_live(session, now)

        if not refresh_token_matches(presented, session.refresh_token_hash):
            if self._is_recent_predecessor(session, presented, now):
                self._refresh_superseded(session)
            await self._reuse_detected(session, now)
        pair, new_hash = self._issue(session.user_id, session.user.roles, session.id)
        await self._sessions.rotate_refresh_hash(session, new_hash=new_hash, now=now)
        return self._refreshed(session.user_id, session.id, pair)

    async def authenticate(self, access_token: str) -> CurrentSession:
        """The caller behind an access token, if its session is still live."""
        claims = decode_access_claims(self._tokens, access_token)
        session = await self._sessions.get_with_user(parse_session_id(claims))
        if session is None or str(session.user_id) != claims["sub"]:
            raise AuthenticationError(detail=INVALID_TOKEN)
        now = self._now()
        self._require_live(session, now)
        # Decided from the row just read: most requests owe no write at all.
        if now - session.last_used_at >= self._config.activity_resolution:
            await self._sessions.touch(session.id, now, every=self._config.activity_resolution)
            set_committed_value(session, "last_used_at", now)
        return CurrentSession.of(session)

    async def logout(self, current: CurrentSession) -> None:
        """Revoke the caller's session: its access and refresh tokens stop working."""
        await self._sessions.revoke(current.session.id, self._now())
        logger.info(
            "session_revoked",
            extra={
                "user_id": str(current.user.id),
                "session_id": str(current.session.id),
                "reason": "logout",
            },
        )

    async def logout_all(self, current: CurrentSession) -> None:
        """Revoke every session of the caller, this one included ("log out everywhere")."""
        revoked = await self._sessions.revoke_all_of_user(current.user.id, self._now())
        logger.info(
            "sessions_revoked",
            extra={"user_id": str(current.user.id), "count": revoked, "reason": "logout_all"},
        )

    @require_dto(PasswordChangeRequest)
    async def change_password(self, current: CurrentSession, data: PasswordChangeRequest) -> None:
        """Replace the caller's password and revoke its other sessions.

        The current password is required, so a stolen access token alone cannot take
        the account over. The new one goes through the registration policy.
        """
        await self._users.end_read()  # no pooled connection held while Argon2 waits
        too_long = len(data.current_password) > self._passwords.max_length
        if too_long or not await self._passwords.verify_password_async(
            data.current_password, current.user.password_hash
        ):
            logger.warning(
                "password_change_refused",
                extra={"user_id": str(current.user.id), "reason": "wrong_current_password"},
            )
            raise _field_rejected("current_password", "invalid_password", WRONG_CURRENT_PASSWORD)
        try:
            self._passwords.check_policy(data.new_password)
        except PasswordPolicyError as e:
            raise _password_rejected(e, field="new_password") from None
        new_hash = await self._passwords.hash_password_async(data.new_password)
        await self._users.replace_password_hash(current.user.id, new_hash)
        revoked = await self._sessions.revoke_all_of_user(
            current.user.id, self._now(), keep=current.session.id
        )
        logger.info(
            "password_changed",
            extra={"user_id": str(current.user.id), "sessions_revoked": revoked},
        )

    async def list_sessions(
        self, current: CurrentSession, *, limit: int, cursor: str | None = None
    ) -> tuple[list[SessionRead], str | None]:
        """A page of the caller's live sessions, most recently used first, and the next cursor."""
        try:
            after = SessionCursor.decode(cursor) if cursor is not None else None
        except InvalidCursorError as e:
            raise _field_rejected("cursor", "invalid_cursor", str(e), where="query") from None
        rows = await self._sessions.list_active(
            current.user.id, self._now(), limit=limit + 1, after=after
        )
        page = rows[:limit]
        next_cursor = (
            SessionCursor(page[-1].last_used_at, page[-1].id).encode()
            if len(rows) > limit
            else None
        )
        sessions = [
            SessionRead(
                id=session.id,
                fingerprint=session.fingerprint,
                ip=session.ip_address,
                created_at=session.created_at,
                last_used_at=session.last_used_at,
                current=session.id == current.session.id,
            )
            for session in page
        ]
        return sessions, next_cursor

    async def revoke_session(self, current: CurrentSession, session_id: uuid.UUID) -> None:
        """Revoke one of the caller's sessions; anyone else's is 'not found'."""
        if not await self._sessions.revoke(session_id, self._now(), user_id=current.user.id):
            raise NotFoundError(detail="session not found")
        logger.info(
            "session_revoked",
            extra={
                "user_id": str(current.user.id),
                "session_id": str(session_id),
                "reason": "user",
            },
        )

    def _issue(
        self, user: uuid.UUID, roles: Sequence[str], session_id: uuid.UUID
    ) -> tuple[TokenPair, str]:
        """A new token pair for the session, and the digest of its refresh token."""
        user_id, sid = str(user), str(session_id)
        access_token = self._tokens.create_access_token(user_id, roles, sid)
        refresh_token = self._tokens.create_refresh_token(user_id, roles, sid)
        refresh_hash = refresh_token_digest(refresh_token)
        pair = TokenPair(
            access_token=access_token,
            refresh_token=refresh_token,
            expires_in=self._tokens.access_token_ttl_seconds,
            session_id=session_id,
        )
        return pair, refresh_hash

    def _require_live(self, session: UserSession, now: datetime) -> None:
        if not session.is_active_at(now) or not session.user.is_active:
            raise AuthenticationError(detail=SESSION_ENDED)

    def _is_recent_predecessor(self, session: UserSession, token: str, now: datetime) -> bool:
        """True for the token replaced by the last rotation, within the grace period."""
        grace = self._config.refresh_reuse_grace
        if grace <= timedelta(0) or session.previous_refresh_token_hash is None:
            return False
        if session.rotated_at is None or now - session.rotated_at > grace:
            return False
        return refresh_token_matches(token, session.previous_refresh_token_hash)

    def _refresh_superseded(self, session: UserSession) -> NoReturn:
        logger.info(
            "refresh_superseded",
            extra={"user_id": str(session.user_id), "session_id": str(session.id)},
        )
        raise AuthenticationError(detail=REFRESH_SUPERSEDED)

    async def _reuse_detected(self, session: UserSession, now: datetime) -> NoReturn:
        await self._sessions.revoke_and_commit(session.id, now)
        refresh_reuse.inc()
        logger.warning(
            "refresh_reuse_detected",
            extra={"user_id": str(session.user_id), "session_id": str(session.id)},
        )
        raise AuthenticationError(detail=REFRESH_REUSED)

    def _digest(self, email: str) -> str:
        return email_digest(email, self._config.email_digest_key)

    def _login_failed(self, email: str, reason: str, user_id: uuid.UUID | None = None) -> NoReturn:
        extra = {"reason": reason, "email_hmac": self._digest(email)}
        if user_id is not None:
            extra["user_id"] = str(user_id)
        login_failures.labels(reason).inc()
        logger.warning("login_failed", extra=extra)
        raise AuthenticationError(detail=INVALID_CREDENTIALS)


def _attribute_request_to(user_id: uuid.UUID) -> None:
    """Name the user on every later log line of this request, its access line included.

    Set for the rest of the request (which runs in a context of its own) as soon as the
    request is known to concern this user, as a bearer token does for other routes.
    """
    user_id_ctx.set(str(user_id))


def _decoded(decode: Callable[[str], TokenClaims], token: str) -> TokenClaims:
    try:
        return decode(token)
    except TokenError as e:
        raise AuthenticationError(detail=INVALID_TOKEN) from e


def decode_access_claims(tokens: JWTService, access_token: str) -> TokenClaims:
    """The verified claims of an access token; 401 for any token error."""
    return _decoded(tokens.decode_access_token, access_token)


def parse_session_id(claims: TokenClaims) -> uuid.UUID:
    """The session id (`sid`) the token names; 401 if it is not a UUID."""
    return _uuid(claims["sid"])


def _rotation_claimed(claims: TokenClaims, token: str) -> Rotation | None:
    """What a verified refresh token claims, for the one-statement rotation; None if odd."""
    roles = claims.get("roles")
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        return None
    try:
        session_id, user_id = uuid.UUID(claims["sid"]), uuid.UUID(claims["sub"])
    except (ValueError, TypeError, KeyError):
        return None  # the locked path answers 401
    return Rotation(session_id, user_id, roles, refresh_token_digest(token))


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError) as e:  # a signed token with a malformed sid
        raise AuthenticationError(detail=INVALID_TOKEN) from e


def _password_rejected(
    error: PasswordPolicyError, *, field: str = "password"
) -> RequestValidationError:
    """A 422 pointing at the password field, in the same shape as schema errors."""
    return _field_rejected(field, "password_policy", str(error))


def _field_rejected(
    field: str, kind: str, message: str, *, where: str = "body"
) -> RequestValidationError:
    """A 422 pointing at one field, in the same shape as schema errors."""
    return RequestValidationError([{"type": kind, "loc": (where, field), "msg": message}])
