"""The public surface of app.core is exactly the spec's re-export list."""

import app.core

SPEC_EXPORTS = {
    "add_middlewares",
    "get_settings",
    "Settings",
    "get_logger",
    "stop_logger",
    "register_exception_handlers",
    "global_background_tasks",
    "ResponseFactory",
    "AppHTTPException",
    "get_response_factory",
}


def test_core_exports_match_the_spec() -> None:
    assert set(app.core.__all__) == SPEC_EXPORTS


def test_every_export_resolves() -> None:
    missing = [name for name in SPEC_EXPORTS if not hasattr(app.core, name)]
    assert missing == []
