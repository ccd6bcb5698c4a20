"""Secrets never reach the log files: sensitive field names and credentials in text."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType
from typing import Any

from app.core.logger import get_logger, redact
from tests.core.logger.log_lines import marked, records


def test_secrets_never_reach_the_files(log_dir: Path) -> None:
    secrets = ["hunter2", "tok-abc", "s3cr3t", "Bearer-value-123", "sid-999", "key-777", "raw-888"]
    get_logger("app.tests.redaction").warning(
        "login_attempt token=tok-abc",
        extra={
            "password": "hunter2",
            "email": "a@example.com",
            "nested": {"refresh_token": "tok-abc", "items": [{"client_secret": "s3cr3t"}]},
            "headers": {"Authorization": "Bearer Bearer-value-123", "Cookie": "sid=sid-999"},
            "raw_headers": [(b"authorization", b"Bearer raw-888"), (b"accept", b"*/*")],
            "note": "sent with Authorization: Bearer Bearer-value-123",
            "API-Key": "key-777",
        },
    )
    text = (log_dir / "app.json").read_text() if records(log_dir / "app.json") else ""
    for secret in secrets:
        assert secret not in text
    (record,) = marked(log_dir / "app.json", "login_attempt token=[REDACTED]")
    extra = record["extra"]
    assert extra["password"] == "[REDACTED]"
    assert extra["email"] == "a@example.com"
    assert extra["nested"]["refresh_token"] == "[REDACTED]"
    assert extra["nested"]["items"] == [{"client_secret": "[REDACTED]"}]
    assert extra["headers"] == {"Authorization": "[REDACTED]", "Cookie": "[REDACTED]"}
    assert extra["raw_headers"][1] == ["accept", "*/*"]


def test_redact_covers_every_shape_of_structured_data() -> None:
    cyclic: dict[str, Any] = {"name": "loop"}
    cyclic["self"] = cyclic
    long_note = "x" * 200 + " password=hunter2"
    value = {
        "token": "t-1",
        b"cookie": "sid=1",
        7: "seven",
        "short": "api_key=k-1",
        "long": long_note,
        "plain": [1, 2.5, True, None],
        "mapping": MappingProxyType({"secret": "s-1", "ok": "fine"}),
        "cyclic": cyclic,
    }
    redacted = redact(value)
    assert redacted["token"] == redacted[b"cookie"] == "[REDACTED]"
    assert redacted[7] == "seven"
    assert redacted["short"] == "api_key=[REDACTED]"
    assert redacted["long"] == "x" * 200 + " password=[REDACTED]"
    assert redacted["plain"] == [1, 2.5, True, None]
    assert redacted["mapping"] == {"secret": "[REDACTED]", "ok": "fine"}
    depth = redacted["cyclic"]
    for _ in range(10):
        depth = depth["self"]
    assert depth == "[TRUNCATED]"
    assert value["token"] == "t-1"  # a copy: the caller's data is left alone
