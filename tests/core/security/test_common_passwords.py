"""The common-password list is zxcvbn's, and a process keeps none of zxcvbn's modules."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from zxcvbn.frequency_lists import FREQUENCY_LISTS

from app.core.security.common_passwords import common_passwords, is_common_password

REPO_ROOT = Path(__file__).resolve().parents[3]


def _run(probe: str) -> str:
    """What `probe` prints, run by a fresh interpreter (nothing built or imported yet)."""
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


def test_the_list_is_zxcvbns_passwords_list() -> None:
    assert common_passwords() == frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"])
    assert len(common_passwords()) == 30_000


def test_a_common_password_is_found_in_any_letter_case() -> None:
    assert is_common_password("PassWord")
    assert not is_common_password("correct horse battery staple 7")


def test_checking_a_password_keeps_none_of_zxcvbns_modules_loaded() -> None:
    """zxcvbn's modules hold 16 MiB of lists; a worker keeps only the passwords' set."""
    probe = (
        "import sys\n"
        "from app.core.security.common_passwords import is_common_password\n"
        "assert is_common_password('123456')\n"
        "print(sorted(name for name in sys.modules if name.startswith('zxcvbn')))\n"
    )
    assert _run(probe) == "[]"


def test_callers_racing_the_first_build_share_one_build_and_none_fails() -> None:
    """The first register can come while `prepare_common_passwords`' thread builds the set.

    Each build also walks sys.modules while the other imports; two at once failed with
    "dictionary changed size during iteration" (a 500 on the first register).
    """
    probe = (
        "import threading\n"
        "from app.core.security.common_passwords import common_passwords\n"
        "start = threading.Barrier(8)\n"
        "results, errors = [], []\n"
        "def call():\n"
        "    start.wait()\n"
        "    try:\n"
        "        results.append(common_passwords())\n"
        "    except Exception as e:\n"
        "        errors.append(repr(e))\n"
        "threads = [threading.Thread(target=call) for _ in range(8)]\n"
        "for t in threads: t.start()\n"
        "for t in threads: t.join()\n"
        "print(len(results), len({id(r) for r in results}), errors)\n"
    )
    assert _run(probe) == "8 1 []"
