"""The per-email login limit counts every spelling of an address the service maps to one account.

The limiter must key on exactly the address the login looks up; otherwise Unicode
spellings of one mailbox (fullwidth letters, an ideographic full stop, the punycode form
of a domain, decomposed accents) each get a fresh budget of guesses.
"""

from __future__ import annotations

import pytest

from tests.auth.conftest import PASSWORD, ClientFactory, login, register

FAILURES = 5  # RATE_LIMIT_LOGIN_PER_EMAIL's default: 5/minute


@pytest.mark.parametrize(
    ("account", "guessed_as", "then_as"),
    [
        (
            "alice@example.com",
            "alice@example.com",
            "alice@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com",
        ),
        ("alice@example.com", "alice@example.com", "alice@example\u3002com"),
        ("alice@example.com", "alice@example.com", "\uff41\uff4c\uff49\uff43\uff45@example.com"),
        ("alice@b\u00fccher.example", "alice@xn--bcher-kva.example", "alice@b\u00fccher.example"),
        ("alice@b\u00fccher.example", "alice@b\u00fccher.example", "alice@xn--bcher-kva.example"),
        ("jos\u00e9@example.com", "jos\u00e9@example.com", "jose\u0301@example.com"),
        ("jos\u00e9@example.com", "jose\u0301@example.com", "JOS\u00c9@example.com"),
    ],
    ids=[
        "fullwidth-domain",
        "ideographic-full-stop",
        "fullwidth-local-part",
        "punycode-then-unicode",
        "unicode-then-punycode",
        "decomposed-accent",
        "decomposed-then-upper-case",
    ],
)
async def test_every_spelling_of_an_address_shares_one_login_budget(
    make_client: ClientFactory, account: str, guessed_as: str, then_as: str
) -> None:
    async with make_client() as client:
        assert (await register(client, account)).status_code == 201
        failures = [
            (await login(client, guessed_as, "wrong password")).status_code for _ in range(FAILURES)
        ]
        with_the_right_password = await login(client, then_as, PASSWORD)
    assert failures == [401] * FAILURES
    assert with_the_right_password.status_code == 429, with_the_right_password.text


async def test_a_fullwidth_spelling_is_the_same_account(make_client: ClientFactory) -> None:
    """NFKC at registration: fullwidth letters do not make a second, look-alike account."""
    async with make_client() as client:
        first = await register(client, "bob@example.com")
        look_alike = await register(client, "\uff42\uff4f\uff42@example.com")
        signed_in = await login(client, "\uff42\uff4f\uff42@\uff45xample.com", PASSWORD)
    assert first.status_code == 201
    assert look_alike.status_code == 409
    assert signed_in.status_code == 200, signed_in.text
