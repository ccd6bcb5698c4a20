"""Imports flow one way: `app.core` never imports the layers built on it."""

from __future__ import annotations

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "app" / "core"
FORBIDDEN = ("app.db", "app.auth", "app.health", "app.main", "app.api")


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


def test_core_imports_nothing_built_on_it() -> None:
    files = sorted(CORE.rglob("*.py"))
    assert files
    violations = [
        f"{path.relative_to(CORE.parent.parent)}:{line} imports {module}"
        for path in files
        for line, module in _imports(path)
        if _forbidden(module)
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
