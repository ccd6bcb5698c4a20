"""The plain app's server process reads ours' database, keys and Argon2 parameters."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.apps.bare import BareConfig
from bench.apps.settings import bare_config, bench_settings, server_envs


def test_the_plain_server_reads_the_config_ours_settings_give(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = bare_config(bench_settings(tmp_path / "logs"))
    envs = server_envs(tmp_path)
    for name, value in envs["bare"].items():
        monkeypatch.setenv(name, value)

    config = BareConfig.from_env()

    assert config == expected
    assert config.database_url.startswith("postgresql://")
    assert config.access_key == envs["ours"]["ACCESS_TOKEN_SIGNING_KEY"]


def test_both_servers_share_one_bytecode_cache(tmp_path: Path) -> None:
    envs = server_envs(tmp_path)

    assert envs["ours"]["PYTHONPYCACHEPREFIX"] == envs["bare"]["PYTHONPYCACHEPREFIX"]
    assert "PYTHONDONTWRITEBYTECODE" not in envs["ours"]
    assert "PYTHONDONTWRITEBYTECODE" not in envs["bare"]
