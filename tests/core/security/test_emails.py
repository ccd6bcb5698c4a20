"""One normal form of an email address (NFKC, IDNA, lower case), and its keyed digest."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from app.core.security.emails import InvalidEmailError, email_digest, normalize_email

KEY = b"an-email-digest-key-for-the-tests-0123456789"


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("\uff41\uff4c\uff49\uff43\uff45@example.com", "alice@example.com"),  # fullwidth
        ("alice@example\u3002com", "alice@example.com"),  # ideographic full stop
        ("jose\u0301@example.com", "jos\u00e9@example.com"),  # decomposed accent composes
        ("alice@xn--bcher-kva.example", "alice@b\u00fccher.example"),  # punycode domain
        ("Alice@B\u00dcCHER.Example", "alice@b\u00fccher.example"),
        ("  Bob@Example.COM\n", "bob@example.com"),
    ],
    ids=["fullwidth", "ideographic-stop", "decomposed", "punycode", "upper-case", "whitespace"],
)
def test_every_spelling_of_a_mailbox_has_one_normal_form(raw: str, normal: str) -> None:
    assert normalize_email(raw) == normal
    assert normalize_email(normal) == normal  # the normal form is its own normal form


def test_a_look_alike_letter_stays_a_different_address() -> None:
    """A Cyrillic U+0430 is another character after NFKC: another mailbox, kept apart."""
    assert normalize_email("\u0430lice@example.com") != normalize_email("alice@example.com")


@pytest.mark.parametrize(
    "raw", ["", "   ", "alice", "alice@", "@example.com", "alice@@example.com", "a b@example.com"]
)
def test_what_is_not_an_address_is_refused_as_a_value_error(raw: str) -> None:
    with pytest.raises(InvalidEmailError, match="value is not a valid email address") as caught:
        normalize_email(raw)
    assert isinstance(caught.value, ValueError)  # what pydantic answers with a 422
    # Neither chained nor shown as "during handling": the validator's exception stays inside.
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__ or caught.value.__context__ is None


def test_input_past_320_characters_is_refused_before_it_is_parsed() -> None:
    too_long = "a" * 64 + "@" + "b" * 252 + ".com"
    assert len(too_long) == 321
    with pytest.raises(InvalidEmailError) as caught:
        normalize_email(too_long)
    assert str(caught.value) == "value is not a valid email address"  # no parser's reason


def test_the_digest_is_hmac_sha256_under_the_key() -> None:
    expected = hmac.new(KEY, b"ada@example.com", hashlib.sha256).hexdigest()[:32]
    assert email_digest("ada@example.com", KEY) == expected
    assert email_digest("ada@example.com", KEY) == email_digest("ada@example.com", KEY)


def test_the_digest_depends_on_the_key_and_is_no_plain_hash() -> None:
    digest = email_digest("ada@example.com", KEY)
    assert digest != email_digest("ada@example.com", KEY + b"-other")
    assert digest != email_digest("bob@example.com", KEY)
    assert digest not in hashlib.sha256(b"ada@example.com").hexdigest()
