"""Imports flow one way: `app.core` never imports the layers built on it, nor names them.

An import is not the only way to depend on a domain: core code that spells out a
domain's path (`/api/auth/login`) or reads a domain's body field (`"email"`) is coupled
to it just as much, so the strings are checked too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import app.auth.schemas as auth_schemas
from app.core.schemas import BaseDTO

CORE = Path(__file__).resolve().parents[1] / "app" / "core"
FORBIDDEN = ("app.db", "app.auth", "app.health", "app.main", "app.api")
DOMAIN_PATHS = ("/api/auth",)
# Modules everything else in core builds on, which therefore import nothing of ours
# (as starlette's `exceptions.py` and `config.py` import nothing of starlette's).
LEAVES = ("errors.py", "config.py")


def _domain_fields() -> frozenset[str]:
    """The field names of the auth domain's request bodies (what core might read)."""
    models = [
        value
        for value in vars(auth_schemas).values()
        if isinstance(value, type) and issubclass(value, BaseDTO) and value is not BaseDTO
    ]
    assert models
    return frozenset(name for model in models for name in model.model_fields)


DOMAIN_FIELDS = _domain_fields()


def _imports(path: Path) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found.extend((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
    return found


def _forbidden(module: str) -> bool:
    return any(module == bad or module.startswith(f"{bad}.") for bad in FORBIDDEN)


def _domain_names(path: Path) -> list[tuple[int, str]]:
    """String literals (docstrings included) that hold a domain path or are a domain field."""
    return sorted(
        (node.lineno, node.value)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and (node.value in DOMAIN_FIELDS or any(p in node.value for p in DOMAIN_PATHS))
    )


def _core_files() -> list[Path]:
    files = sorted(CORE.rglob("*.py"))
    assert files
    return files


def test_core_imports_nothing_built_on_it() -> None:
    violations = [
        f"{path.relative_to(CORE.parent.parent)}:{line} imports {module}"
        for path in _core_files()
        for line, module in _imports(path)
        if _forbidden(module)
    ]
    assert violations == []


def test_core_leaves_import_nothing_of_ours() -> None:
    violations = [
        f"app/core/{leaf}:{line} imports {module}"
        for leaf in LEAVES
        for line, module in _imports(CORE / leaf)
        if module == "app" or module.startswith("app.")
    ]
    assert violations == []


def test_core_names_no_domain_path_or_field() -> None:
    violations = [
        f"{path.relative_to(CORE.parent.parent)}:{line} names {value[:60]!r}"
        for path in _core_files()
        for line, value in _domain_names(path)
    ]
    assert violations == []


def test_the_check_catches_a_forbidden_import(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("from app.db.postgres import create_engine\nimport app.auth.models\n")
    assert [module for _, module in _imports(probe) if _forbidden(module)] == [
        "app.db.postgres",
        "app.db.postgres.create_engine",
        "app.auth.models",
    ]
    probe.write_text("from app import main\n")
    assert [module for _, module in _imports(probe) if _forbidden(module)] == ["app.main"]


def test_the_check_catches_a_domain_path_or_field(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        '"""Limits /api/auth/login."""\n'
        'RULE = ("POST", "/api/auth/register")\n'
        'FIELD = body.get("email")\n'
        'TOKEN = body["refresh_token"]\n'
        'FINE = ("ip", "/api/items/{item_id}", "an email address")\n'
    )
    assert _domain_names(probe) == [
        (1, "Limits /api/auth/login."),
        (2, "/api/auth/register"),
        (3, "email"),
        (4, "refresh_token"),
    ]
