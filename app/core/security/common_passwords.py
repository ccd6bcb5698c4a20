"""The common-password list that registration refuses (NIST SP 800-63B, 5.1.1.2).

Verifiers should refuse passwords found in lists of commonly used or breached ones.
The list is the 30,000 most common passwords that zxcvbn ships (its `passwords`
frequency list, MIT licence), copied one a line to `common_passwords.txt` beside this
module (tests/core/test_security_common_passwords.py checks the copy), so nothing is
fetched at run time. Importing zxcvbn's lists held 13-16 MiB in every worker for a set
of 4 MiB; read from the file, the set is built in a few milliseconds, once per process,
never at import.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")


@cache
def common_passwords() -> frozenset[str]:
    """The list, lower-cased: one in it in any letter case is just as guessable."""
    return frozenset(COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").lower().splitlines())


def prepare_common_passwords() -> None:
    """Build the set now, so that the first registration does not (`PasswordSecurity` asks)."""
    common_passwords()


def is_common_password(password: str) -> bool:
    return password.lower() in common_passwords()
