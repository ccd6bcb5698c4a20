"""Email digests in logs and rate-limit keys are keyed (HMAC), not plain SHA-256.

A plain hash of an address is reversed with a list of addresses; a digest under a
server key is not, without the key.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from redis.asyncio import Redis

from tests.auth.conftest import ClientFactory, log_records, login

EMAIL = "ada@example.com"
KEY = "an-email-digest-key-for-the-tests-0123456789"


def plain_sha256(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()


async def test_login_failures_log_a_keyed_digest_of_the_email(
    make_client: ClientFactory, tmp_path: Path
) -> None:
    digests = []
    for key in (KEY, KEY + "-other"):
        log_dir = tmp_path / key
        async with make_client(LOG_DIR=log_dir, LOG_LEVEL="INFO", EMAIL_DIGEST_KEY=key) as client:
            await login(client, EMAIL, "wrong password")
        [failed] = [r for r in log_records(log_dir) if r["message"] == "login_failed"]
        text = "\n".join(path.read_text() for path in log_dir.glob("*.json"))
        assert plain_sha256(EMAIL)[:16] not in text
        digests.append(failed["extra"]["email_hmac"])
    expected = hmac.new(KEY.encode(), EMAIL.encode(), hashlib.sha256).hexdigest()
    assert expected.startswith(digests[0])
    assert digests[0] != digests[1]


async def test_rate_limit_keys_hold_no_plain_hash_of_the_email(
    make_client: ClientFactory, redis_url: str
) -> None:
    async with make_client(REDIS_URL=redis_url, EMAIL_DIGEST_KEY=KEY) as client:
        assert (await login(client, EMAIL, "wrong password")).status_code == 401
    redis = Redis.from_url(redis_url)
    try:
        keys = [key.decode() for key in await redis.keys("*")]
    finally:
        await redis.aclose()
    assert keys  # the limiter counted in Redis
    assert not [key for key in keys if plain_sha256(EMAIL)[:16] in key]
    digest = hmac.new(KEY.encode(), EMAIL.encode(), hashlib.sha256).hexdigest()[:32]
    assert [key for key in keys if digest in key]


def test_a_short_email_digest_key_is_an_insecure_setting() -> None:
    from app.core.audit import find_insecure_settings
    from app.core.config import Settings

    short = Settings(_env_file=None, EMAIL_DIGEST_KEY="short")  # type: ignore[call-arg]
    assert "EMAIL_DIGEST_KEY" in {finding.variable for finding in find_insecure_settings(short)}
    unset = Settings(_env_file=None)  # type: ignore[call-arg]
    assert "EMAIL_DIGEST_KEY" not in {finding.variable for finding in find_insecure_settings(unset)}
    assert unset.email_digest_key != b""
