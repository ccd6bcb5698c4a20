"""AuthService alone, against the real database: no app, no HTTP.

The service is built as the auth dependencies build it (`auth_wiring`); what it returns
is checked, and so are the rows it leaves. Its use cases seen through HTTP are tested in
test_router.py and test_http_service.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.exceptions import RequestValidationError

from app.auth.models import User
from app.auth.schemas import (
    LoginRequest,
    PasswordChangeRequest,
    RefreshRequest,
    RegisterRequest,
    TokenPair,
)
from app.core.exceptions import AuthenticationError, ConflictError, NotFoundError
from app.core.security.token_digest import refresh_token_digest
from tests.auth.conftest import CHROME_DEVICE, PASSWORD, AuthWiring, WiringFactory

Sql = Callable[..., Any]
NEW_PASSWORD = "another horse battery staple"


async def registered(
    wiring: AuthWiring, email: str = "ada@example.com", password: str = PASSWORD
) -> User:
    async with wiring.unit_of_work() as service:
        return await service.register(RegisterRequest(email=email, password=password))


async def logged_in(
    wiring: AuthWiring, email: str = "ada@example.com", password: str = PASSWORD
) -> TokenPair:
    request = LoginRequest(email=email, password=password)
    return await wiring.standalone().login(request, device=CHROME_DEVICE)


async def refreshed(wiring: AuthWiring, pair: TokenPair) -> TokenPair:
    return await wiring.standalone().refresh(RefreshRequest(refresh_token=pair.refresh_token))


async def refusal(wiring: AuthWiring, pair: TokenPair) -> str:
    """The detail of the AuthenticationError refreshing `pair` raises."""
    with pytest.raises(AuthenticationError) as caught:
        await refreshed(wiring, pair)
    return caught.value.detail


async def rotated_once(wiring: AuthWiring) -> tuple[TokenPair, TokenPair]:
    """A new account's login pair, and the pair its refresh gave."""
    await registered(wiring)
    first = await logged_in(wiring)
    return first, await refreshed(wiring, first)


async def session_row(sql: Sql, session_id: uuid.UUID) -> dict[str, Any]:
    [row] = await sql("SELECT * FROM user_sessions WHERE id = :id", id=session_id)
    return row


async def test_register_stores_the_normalised_email_a_hash_and_the_default_roles(
    auth_wiring: AuthWiring, sql: Sql
) -> None:
    user = await registered(auth_wiring, "Ada@Example.COM")
    assert (user.email, user.roles) == ("ada@example.com", ["user"])
    [row] = await sql("SELECT id, email, password_hash, roles, is_active FROM users")
    assert (row["id"], row["email"], row["roles"]) == (user.id, "ada@example.com", ["user"])
    assert row["is_active"] is True
    assert row["password_hash"].startswith("$argon2id$")
    assert auth_wiring.passwords.verify_password(PASSWORD, row["password_hash"])


async def test_register_refuses_a_taken_email_with_a_conflict(
    auth_wiring: AuthWiring, sql: Sql
) -> None:
    await registered(auth_wiring)
    with pytest.raises(ConflictError):
        await registered(auth_wiring, "ADA@example.com", NEW_PASSWORD)
    [row] = await sql("SELECT password_hash FROM users")
    assert auth_wiring.passwords.verify_password(PASSWORD, row["password_hash"])


async def test_register_refuses_a_password_the_policy_refuses_and_stores_nothing(
    auth_wiring: AuthWiring, sql: Sql
) -> None:
    with pytest.raises(RequestValidationError) as caught:
        await registered(auth_wiring, password="short")
    assert [error["loc"] for error in caught.value.errors()] == [("body", "password")]
    assert await sql("SELECT id FROM users") == []


async def test_login_opens_a_session_on_the_device_holding_the_refresh_tokens_digest(
    auth_wiring: AuthWiring, sql: Sql
) -> None:
    user = await registered(auth_wiring)
    pair = await logged_in(auth_wiring)
    claims = auth_wiring.tokens.decode_access_token(pair.access_token)
    assert (claims["sub"], claims["sid"], claims["roles"]) == (
        str(user.id),
        str(pair.session_id),
        ["user"],
    )
    assert pair.expires_in == auth_wiring.settings.ACCESS_TOKEN_EXPIRE_MINUTES * 60
    row = await session_row(sql, pair.session_id)
    assert row["user_id"] == user.id
    assert row["refresh_token_hash"] == refresh_token_digest(pair.refresh_token)
    assert row["previous_refresh_token_hash"] is None
    assert row["fingerprint"] == "desktop | macOS | Chrome"
    assert (row["ip_address"], row["user_agent"]) == ("203.0.113.7", CHROME_DEVICE.user_agent)
    assert row["revoked_at"] is None
    assert row["expires_at"] - row["created_at"] == auth_wiring.settings.session_default_timedelta


async def test_wrong_password_unknown_email_inactive_account_and_long_password_fail_alike(
    auth_wiring: AuthWiring, sql: Sql
) -> None:
    await registered(auth_wiring)
    await registered(auth_wiring, "off@example.com")
    await sql("UPDATE users SET is_active = false WHERE email = 'off@example.com'")
    too_long = "x" * (auth_wiring.settings.PASSWORD_MAX_LENGTH + 1)
    details = []
    for email, password in [
        ("ada@example.com", "not the password"),
        ("nobody@example.com", PASSWORD),
        ("off@example.com", PASSWORD),
        ("ada@example.com", too_long),
    ]:
        with pytest.raises(AuthenticationError) as caught:
            await logged_in(auth_wiring, email, password)
        details.append(caught.value.detail)
    assert details == ["invalid email or password"] * 4
    assert await sql("SELECT id FROM user_sessions") == []


async def test_a_login_beyond_the_session_cap_revokes_the_oldest_sessions(
    make_wiring: WiringFactory, sql: Sql
) -> None:
    async with make_wiring(MAX_SESSIONS_PER_USER=2) as wiring:
        await registered(wiring)
        pairs = [await logged_in(wiring) for _ in range(3)]
        live = await sql("SELECT id FROM user_sessions WHERE revoked_at IS NULL")
    assert {row["id"] for row in live} == {pairs[1].session_id, pairs[2].session_id}


async def test_login_rehashes_a_password_stored_with_weaker_parameters(
    make_wiring: WiringFactory, sql: Sql
) -> None:
    # Nested: leaving a wiring's context empties the tables.
    async with make_wiring() as old, make_wiring(ARGON2_TIME_COST=3) as new:
        await registered(old)
        [before] = await sql("SELECT password_hash FROM users")
        await logged_in(new)
        [after] = await sql("SELECT password_hash FROM users")
        assert ",t=2," in before["password_hash"]
        assert ",t=3," in after["password_hash"]
        assert new.passwords.verify_password(PASSWORD, after["password_hash"])


async def test_refresh_rotates_the_pair_within_the_same_session(
    auth_wiring: AuthWiring, sql: Sql
) -> None:
    first, second = await rotated_once(auth_wiring)
    assert second.session_id == first.session_id
    assert second.refresh_token != first.refresh_token
    row = await session_row(sql, first.session_id)
    assert row["refresh_token_hash"] == refresh_token_digest(second.refresh_token)
    assert row["previous_refresh_token_hash"] == refresh_token_digest(first.refresh_token)
    assert row["rotated_at"] is not None
    # The new pair works: its refresh token rotates again, its access token authenticates.
    third = await refreshed(auth_wiring, second)
    assert third.session_id == first.session_id
    current = await auth_wiring.authenticate(third.access_token)
    assert current.session.id == first.session_id


async def test_a_reused_refresh_token_revokes_the_session(
    auth_wiring: AuthWiring, sql: Sql
) -> None:
    first, second = await rotated_once(auth_wiring)
    assert "already used" in await refusal(auth_wiring, first)
    assert (await session_row(sql, first.session_id))["revoked_at"] is not None
    # The thief's or the owner's newest pair: neither works any more.
    assert await refusal(auth_wiring, second) == "session expired or revoked"
    with pytest.raises(AuthenticationError):
        await auth_wiring.authenticate(second.access_token)


async def test_the_token_just_replaced_is_refused_within_the_grace_period_without_revoking(
    make_wiring: WiringFactory, sql: Sql
) -> None:
    async with make_wiring(REFRESH_REUSE_GRACE_SECONDS=30) as wiring:
        first, second = await rotated_once(wiring)
        assert "just rotated" in await refusal(wiring, first)
        assert (await session_row(sql, first.session_id))["revoked_at"] is None
        assert (await refreshed(wiring, second)).session_id == first.session_id


async def test_refresh_after_a_role_change_issues_tokens_with_the_new_roles(
    auth_wiring: AuthWiring, sql: Sql
) -> None:
    """The token's roles no longer match: the rotation takes the locked path."""
    await registered(auth_wiring)
    first = await logged_in(auth_wiring)
    await sql("UPDATE users SET roles = ARRAY['user', 'admin']")
    second = await refreshed(auth_wiring, first)
    assert auth_wiring.tokens.decode_access_token(second.access_token)["roles"] == [
        "user",
        "admin",
    ]
    assert auth_wiring.tokens.decode_refresh_token(second.refresh_token)["roles"] == [
        "user",
        "admin",
    ]
    row = await session_row(sql, first.session_id)
    assert row["refresh_token_hash"] == refresh_token_digest(second.refresh_token)


async def test_refresh_refuses_an_access_token_and_a_session_that_ended(
    auth_wiring: AuthWiring,
) -> None:
    await registered(auth_wiring)
    pair = await logged_in(auth_wiring)
    with pytest.raises(AuthenticationError) as caught:
        await auth_wiring.standalone().refresh(RefreshRequest(refresh_token=pair.access_token))
    assert caught.value.detail == "invalid or expired token"
    current = await auth_wiring.authenticate(pair.access_token)
    async with auth_wiring.unit_of_work() as service:
        await service.logout(current)
    assert await refusal(auth_wiring, pair) == "session expired or revoked"


async def test_authenticate_finds_the_caller_until_logout(
    auth_wiring: AuthWiring, sql: Sql
) -> None:
    user = await registered(auth_wiring)
    pair = await logged_in(auth_wiring)
    current = await auth_wiring.authenticate(pair.access_token)
    assert (current.user.id, current.session.id) == (user.id, pair.session_id)
    async with auth_wiring.unit_of_work() as service:
        await service.logout(current)
    assert (await session_row(sql, pair.session_id))["revoked_at"] is not None
    with pytest.raises(AuthenticationError) as caught:
        await auth_wiring.authenticate(pair.access_token)
    assert caught.value.detail == "session expired or revoked"


async def test_authenticate_refuses_a_refresh_token(auth_wiring: AuthWiring) -> None:
    await registered(auth_wiring)
    pair = await logged_in(auth_wiring)
    with pytest.raises(AuthenticationError):
        await auth_wiring.authenticate(pair.refresh_token)


async def test_logout_all_revokes_every_session_of_the_user_and_no_one_elses(
    auth_wiring: AuthWiring, sql: Sql
) -> None:
    await registered(auth_wiring)
    await registered(auth_wiring, "bob@example.com")
    mine = [await logged_in(auth_wiring) for _ in range(2)]
    bobs = await logged_in(auth_wiring, "bob@example.com")
    current = await auth_wiring.authenticate(mine[0].access_token)
    async with auth_wiring.unit_of_work() as service:
        await service.logout_all(current)
    live = await sql("SELECT id FROM user_sessions WHERE revoked_at IS NULL")
    assert [row["id"] for row in live] == [bobs.session_id]


@pytest.mark.parametrize(
    ("current_password", "new_password", "field"),
    [
        ("not the password", NEW_PASSWORD, "current_password"),
        (PASSWORD, "short", "new_password"),  # the registration policy
    ],
)
async def test_a_refused_password_change_names_its_field_and_changes_nothing(
    auth_wiring: AuthWiring, sql: Sql, current_password: str, new_password: str, field: str
) -> None:
    await registered(auth_wiring)
    current = await auth_wiring.authenticate((await logged_in(auth_wiring)).access_token)
    [before] = await sql("SELECT password_hash FROM users")
    change = PasswordChangeRequest(current_password=current_password, new_password=new_password)
    with pytest.raises(RequestValidationError) as caught:
        async with auth_wiring.unit_of_work() as service:
            await service.change_password(current, change)
    assert [error["loc"] for error in caught.value.errors()] == [("body", field)]
    assert await sql("SELECT password_hash FROM users") == [before]
    assert await sql("SELECT id FROM user_sessions WHERE revoked_at IS NOT NULL") == []


async def test_password_change_replaces_the_hash_and_keeps_only_this_session(
    auth_wiring: AuthWiring, sql: Sql
) -> None:
    await registered(auth_wiring)
    this, other = await logged_in(auth_wiring), await logged_in(auth_wiring)
    current = await auth_wiring.authenticate(this.access_token)
    change = PasswordChangeRequest(current_password=PASSWORD, new_password=NEW_PASSWORD)
    async with auth_wiring.unit_of_work() as service:
        await service.change_password(current, change)
    live = await sql("SELECT id FROM user_sessions WHERE revoked_at IS NULL")
    assert [row["id"] for row in live] == [this.session_id]
    assert (await session_row(sql, other.session_id))["revoked_at"] is not None
    with pytest.raises(AuthenticationError):
        await logged_in(auth_wiring)
    assert (await logged_in(auth_wiring, password=NEW_PASSWORD)).session_id not in {
        this.session_id,
        other.session_id,
    }


async def test_sessions_are_listed_most_recent_first_a_page_at_a_time(
    auth_wiring: AuthWiring,
) -> None:
    await registered(auth_wiring)
    pairs = [await logged_in(auth_wiring) for _ in range(3)]
    current = await auth_wiring.authenticate(pairs[-1].access_token)
    async with auth_wiring.unit_of_work() as service:
        first, cursor = await service.list_sessions(current, limit=2)
        second, end = await service.list_sessions(current, limit=2, cursor=cursor)
    assert [s.id for s in first + second] == [p.session_id for p in reversed(pairs)]
    assert [s.current for s in first + second] == [True, False, False]
    assert cursor is not None
    assert end is None
    assert {s.fingerprint for s in first + second} == {"desktop | macOS | Chrome"}


async def test_a_cursor_the_service_did_not_make_is_refused_on_the_query(
    auth_wiring: AuthWiring,
) -> None:
    await registered(auth_wiring)
    current = await auth_wiring.authenticate((await logged_in(auth_wiring)).access_token)
    with pytest.raises(RequestValidationError) as caught:
        async with auth_wiring.unit_of_work() as service:
            await service.list_sessions(current, limit=2, cursor="not-a-cursor")
    assert [error["loc"] for error in caught.value.errors()] == [("query", "cursor")]


async def test_revoke_session_ends_one_of_mine_and_finds_no_one_elses(
    auth_wiring: AuthWiring, sql: Sql
) -> None:
    await registered(auth_wiring)
    await registered(auth_wiring, "bob@example.com")
    mine, spare = await logged_in(auth_wiring), await logged_in(auth_wiring)
    bobs = await logged_in(auth_wiring, "bob@example.com")
    current = await auth_wiring.authenticate(mine.access_token)
    async with auth_wiring.unit_of_work() as service:
        await service.revoke_session(current, spare.session_id)
    with pytest.raises(NotFoundError):
        async with auth_wiring.unit_of_work() as service:
            await service.revoke_session(current, bobs.session_id)
    live = await sql("SELECT id FROM user_sessions WHERE revoked_at IS NULL")
    assert {row["id"] for row in live} == {mine.session_id, bobs.session_id}
