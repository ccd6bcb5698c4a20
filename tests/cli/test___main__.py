"""`python -m app.cli` (app/cli/__main__.py) runs the Typer application of app.cli.main.

Each command run that way is tested beside its module: test_main.py, test_keygen.py,
test_accounts.py.
"""

from __future__ import annotations

import pytest

from tests.cli.conftest import CliRunner

COMMANDS = ("check", "keys", "users", "sessions")


def test_python_m_app_cli_shows_its_commands(run_cli: CliRunner) -> None:
    result = run_cli("--help")
    assert result.returncode == 0, result.stderr
    assert "Usage: python -m app.cli" in result.stdout
    for command in COMMANDS:
        assert f" {command} " in result.stdout, command


def test_python_m_app_cli_without_a_command_is_a_usage_error(run_cli: CliRunner) -> None:
    result = run_cli()
    assert result.returncode == 2
    assert "Usage: python -m app.cli" in result.stdout + result.stderr


@pytest.mark.parametrize("command", ["frobnicate", "--no-such-option"])
def test_python_m_app_cli_refuses_what_it_does_not_know(run_cli: CliRunner, command: str) -> None:
    result = run_cli(command)
    assert result.returncode == 2
    assert "Usage: python -m app.cli" in result.stdout + result.stderr
