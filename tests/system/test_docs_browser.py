"""/docs and /redoc render in a real headless Chromium that can reach no host but 127.0.0.1.

The server is a real `python -m app`. Chromium resolves every other name to nothing, so
a page that still loads Swagger UI, ReDoc or a font from a CDN stays blank, and any CSP
violation or script error shows in its console (logged to stderr with
`--enable-logging=stderr`). Skipped only where Chromium is missing and CI is not set.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.conftest import IN_CI
from tests.system.app_process import AppProcess

pytestmark = pytest.mark.slow

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--enable-logging=stderr",
    "--v=0",
    # Virtual time runs until the page is idle or the budget is spent: no wall-clock wait.
    "--virtual-time-budget=20000",
    "--dump-dom",
]
CONSOLE_LINE = re.compile(r":CONSOLE(?::\d+)?\]? \"(?P<message>.*)\", source: ", re.MULTILINE)
# ReDoc 2 always renders its footer's "API docs by Redocly" logo from its own CDN (no
# option turns it off); our CSP blocks that one image and the footer keeps its text.
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if IN_CI:
            pytest.fail("chromium is required in CI (.ci/run installs it)", pytrace=False)
        pytest.skip("chromium is not installed")
    return found


def _open_in_chromium(url: str, profile: Path) -> tuple[str, list[str]]:
    """The page's DOM after its scripts ran, and the console messages it produced."""
    result = subprocess.run(
        [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    messages = [match["message"] for match in CONSOLE_LINE.finditer(result.stderr)]
    return result.stdout, messages


@pytest.fixture
def served(start_app: Callable[..., AppProcess]) -> AppProcess:
    return start_app()


def _operations(app: AppProcess) -> list[tuple[str, str]]:
    """(path, operationId) of every operation the served OpenAPI document lists."""
    document = httpx.get(app.url + "/openapi.json", timeout=5.0).json()
    return [
        (path, operation["operationId"])
        for path, item in document["paths"].items()
        for operation in item.values()
    ]


def test_swagger_ui_renders_every_operation_offline(served: AppProcess, tmp_path: Path) -> None:
    dom, console = _open_in_chromium(served.url + "/docs", tmp_path / "profile")
    operations = _operations(served)
    assert operations
    for path, _ in operations:
        assert f'data-path="{path}"' in dom, path
    assert console == []


def test_redoc_renders_every_operation_offline(served: AppProcess, tmp_path: Path) -> None:
    dom, console = _open_in_chromium(served.url + "/redoc", tmp_path / "profile")
    operations = _operations(served)
    assert operations
    for _, operation_id in operations:
        assert f'id="operation/{operation_id}"' in dom, operation_id
    unexpected = [message for message in console if REDOC_LOGO not in message]
    assert unexpected == []
    # The one tolerated message is a blocked image, never a script, style or font.
    assert all("Loading the image" in message for message in console)
