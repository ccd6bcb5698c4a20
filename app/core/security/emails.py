"""The one normal form of an email address, shared by the schema, the login and the limiter,
and the keyed digest that stands in for an address in logs and Redis.

An account is looked up, and the per-email login budget is counted, by this form, so
every spelling of one mailbox lands on one account and one budget:

- NFKC first: fullwidth letters (U+FF41...), the ideographic full stop (U+3002) and other
  compatibility forms become their plain equivalents, and decomposed accents
  (`e` + U+0301) compose.
- `email_validator` (what pydantic's EmailStr uses) then checks the syntax and turns the
  domain into its Unicode form, so `xn--bcher-kva.example` and `bücher.example` agree.
- Everything is lower-cased: mailbox names are case-insensitive on every provider we
  care about, and one account per mailbox matters more than RFC 5321's letter.

Look-alike addresses that are different characters after NFKC (a Cyrillic U+0430 in the
local part) stay distinct accounts: they are different mailboxes, which a provider may
hand to different people, so merging them would be wrong and refusing them would lock
out real non-Latin addresses. Display emails with care (never as proof of identity).
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata

from email_validator import EmailNotValidError, validate_email

# RFC 3696 errata: 64 local + @ + 255 domain. Longer input is refused before any work.
EMAIL_MAX_INPUT_LENGTH = 320


class InvalidEmailError(ValueError):
    """Not an email address (pydantic turns a ValueError into a 422)."""


def normalize_email(raw: str) -> str:
    """The canonical form of `raw`; InvalidEmailError if it is not an address."""
    candidate = unicodedata.normalize("NFKC", raw.strip())
    if not candidate or len(candidate) > EMAIL_MAX_INPUT_LENGTH:
        raise InvalidEmailError("value is not a valid email address")
    try:
        parts = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError as e:
        raise InvalidEmailError(f"value is not a valid email address: {e}") from None
    return parts.normalized.lower()


def email_digest(email: str, key: bytes) -> str:
    """A stand-in for a normalised address in logs and rate-limit keys (the address is PII).

    Keyed (HMAC-SHA256 under EMAIL_DIGEST_KEY): a plain hash of an address is reversed
    by hashing a list of addresses; this one is not, without the key. Stable for one key,
    so one address's events can still be followed through the logs.
    """
    return hmac.new(key, email.encode(), hashlib.sha256).hexdigest()[:32]
