"""Tests mirror the source: every module of app/ has a test module at the same path."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def mirrored_test(module: Path) -> Path:
    """`app/core/security/tokens.py` -> `tests/core/security/test_tokens.py`."""
    relative = module.relative_to(ROOT / "app")
    return ROOT / "tests" / relative.parent / f"test_{relative.stem}.py"


def test_the_mirror_of_a_module_is_its_test_module() -> None:
    module = ROOT / "app" / "core" / "security" / "tokens.py"
    assert mirrored_test(module) == ROOT / "tests" / "core" / "security" / "test_tokens.py"


def test_every_module_has_its_test_module() -> None:
    modules = [path for path in (ROOT / "app").rglob("*.py") if path.name != "__init__.py"]
    assert len(modules) > 50
    missing = sorted(
        str(path.relative_to(ROOT)) for path in modules if not mirrored_test(path).is_file()
    )
    assert missing == []
