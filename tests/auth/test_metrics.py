"""The auth domain's counters on /metrics: failed logins by reason, refresh-token reuse.

Counters live for the whole test process, so each test compares before and after.
"""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.auth.conftest import PASSWORD, ClientFactory, login, register, signed_in


async def _samples(client: httpx.AsyncClient, name: str) -> dict[str, float]:
    """The samples of the counter `name` on /metrics, keyed by their `reason` label (or '')."""
    text = (await client.get(f"/metrics/{name}")).text
    return {
        sample.labels.get("reason", ""): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


async def _refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/api/auth/refresh", json={"refresh_token": token})


async def test_each_failed_login_is_counted_by_its_reason(client: httpx.AsyncClient) -> None:
    await register(client)
    before = await _samples(client, "domain_auth_login_failures_total")

    statuses = [
        (await login(client, password="not the password")).status_code,
        (await login(client, password="not the password either")).status_code,
        (await login(client, "nobody@example.com")).status_code,
        (await login(client, password="p" * 500)).status_code,
        (await login(client, password=PASSWORD)).status_code,
    ]

    assert statuses == [401, 401, 401, 401, 200]
    after = await _samples(client, "domain_auth_login_failures_total")
    added = {reason: after[reason] - before.get(reason, 0.0) for reason in after}
    assert added == {"wrong_password": 2.0, "unknown_email": 1.0, "password_too_long": 1.0}


async def test_a_reused_refresh_token_is_counted_once(client: httpx.AsyncClient) -> None:
    first = await signed_in(client)
    before = (await _samples(client, "domain_auth_refresh_reuse_total"))[""]
    assert (await _refresh(client, first["refresh_token"])).status_code == 200
    assert (await _samples(client, "domain_auth_refresh_reuse_total"))[""] == before

    assert (await _refresh(client, first["refresh_token"])).status_code == 401

    assert (await _samples(client, "domain_auth_refresh_reuse_total"))[""] == before + 1


async def test_a_superseded_token_within_the_grace_period_is_not_reuse(
    make_client: ClientFactory,
) -> None:
    async with make_client(REFRESH_REUSE_GRACE_SECONDS=30) as client:
        first = await signed_in(client)
        before = (await _samples(client, "domain_auth_refresh_reuse_total"))[""]
        assert (await _refresh(client, first["refresh_token"])).status_code == 200

        assert (await _refresh(client, first["refresh_token"])).status_code == 401

        assert (await _samples(client, "domain_auth_refresh_reuse_total"))[""] == before
