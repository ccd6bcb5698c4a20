"""The common-password list that registration refuses (NIST SP 800-63B, 5.1.1.2).

Verifiers should refuse passwords found in lists of commonly used or breached ones.
The list is the 30,000 most common passwords that zxcvbn ships (its `passwords`
frequency list, MIT licence), so nothing is fetched at run time. Building the set
costs ~20 ms, so it is built once per process, on first use or ahead of it from a
thread of its own (`PasswordSecurity` asks for it when it is created), never at import.

Only zxcvbn's `frequency_lists.py` is run, as a module of its own, never its package:
the package's `__init__` imports its matcher, which builds ranked dictionaries from all
six lists. Importing the package and dropping its modules afterwards still left a
worker 11 MiB larger when ready (137 MiB against 126 MiB, bench/measure/startup.py): the
memory was freed too late, or too fragmented, to leave the process.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

_built: frozenset[str] | None = None
_building = threading.Lock()


def common_passwords() -> frozenset[str]:
    """The list, lower-cased: one in it in any letter case is just as guessable.

    Built once per process: a caller that comes while another thread builds it waits
    for that build instead of making a second one.
    """
    global _built
    if _built is None:
        with _building:
            if _built is None:
                _built = _build()
    return _built


def _build() -> frozenset[str]:
    return frozenset(password.lower() for password in _zxcvbn_passwords())


def _zxcvbn_passwords() -> list[str]:
    """zxcvbn's `passwords` list, from its frequency_lists.py alone (nothing kept in sys.modules)."""
    package = importlib.util.find_spec("zxcvbn")  # finds the package without importing it
    if package is None or not package.submodule_search_locations:
        raise ModuleNotFoundError("zxcvbn is not installed", name="zxcvbn")
    path = Path(next(iter(package.submodule_search_locations))) / "frequency_lists.py"
    spec = importlib.util.spec_from_file_location("_zxcvbn_frequency_lists", path)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"cannot load {path}", name="zxcvbn.frequency_lists")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    passwords: list[str] = module.FREQUENCY_LISTS["passwords"]
    return passwords


def prepare_common_passwords() -> None:
    """Build the set in a thread of its own, unless it is built already."""
    if _built is None:
        threading.Thread(target=common_passwords, name="common-passwords", daemon=True).start()


def is_common_password(password: str) -> bool:
    return password.lower() in common_passwords()
