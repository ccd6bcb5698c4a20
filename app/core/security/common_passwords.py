"""The common-password list that registration refuses (NIST SP 800-63B, 5.1.1.2).

Verifiers should refuse passwords found in lists of commonly used or breached ones.
The list is the 30,000 most common passwords that zxcvbn ships (its `passwords`
frequency list, MIT licence), so nothing is fetched at run time. Building the set
costs ~80 ms, so it is built once per process, on first use or ahead of it from a
thread of its own (`PasswordSecurity` asks for it when it is created), never at import.

zxcvbn's modules hold all its frequency lists and the dictionaries built from them
(about 16 MiB); only the passwords are needed, so the modules this loads are dropped
again once the set is built, which leaves about 8 MiB per process instead.
"""

from __future__ import annotations

import sys
import threading

_built: frozenset[str] | None = None
_building = threading.Lock()


def common_passwords() -> frozenset[str]:
    """The list, lower-cased: one in it in any letter case is just as guessable.

    Built once per process: a caller that comes while another thread builds it waits
    for that build (two builds at once would also each see the other's imports).
    """
    global _built
    if _built is None:
        with _building:
            if _built is None:
                _built = _build()
    return _built


def _build() -> frozenset[str]:
    # list(): a snapshot taken in one step, whatever other threads import meanwhile.
    loaded_before = {name for name in list(sys.modules) if _is_zxcvbn(name)}
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    passwords = frozenset(password.lower() for password in FREQUENCY_LISTS["passwords"])
    for name in [name for name in list(sys.modules) if _is_zxcvbn(name)]:
        if name not in loaded_before:
            del sys.modules[name]
    return passwords


def _is_zxcvbn(module_name: str) -> bool:
    return module_name == "zxcvbn" or module_name.startswith("zxcvbn.")


def prepare_common_passwords() -> None:
    """Build the set in a thread of its own, unless it is built already."""
    if _built is None:
        threading.Thread(target=common_passwords, name="common-passwords", daemon=True).start()


def is_common_password(password: str) -> bool:
    return password.lower() in common_passwords()
