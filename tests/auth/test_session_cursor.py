"""The cursor of `GET /api/auth/sessions`: what one page's last row was, and nothing else.

Paging through real sessions is tested in test_repository.py (`list_active`),
test_service.py and, over HTTP, test_session_bounds.py.
"""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from app.auth.session_cursor import InvalidCursorError, SessionCursor

SESSION = uuid.UUID("6f1c2a4e-3b5d-4c7e-8f90-a1b2c3d4e5f6")


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 12, 1, 8, 30, 15, 123456, tzinfo=UTC),
        datetime(2026, 12, 1, 10, 30, tzinfo=timezone(timedelta(hours=2))),
    ],
)
def test_a_cursor_decodes_to_the_row_it_was_made_from(moment: datetime) -> None:
    text = SessionCursor(moment, SESSION).encode()
    decoded = SessionCursor.decode(text)
    assert decoded == SessionCursor(moment, SESSION)
    assert decoded.last_used_at.utcoffset() == moment.utcoffset()


def test_a_cursor_is_url_safe_text_without_padding() -> None:
    text = SessionCursor(datetime(2026, 12, 1, tzinfo=UTC), SESSION).encode()
    assert text.isascii()
    assert not set(text) & set("+/=")


def unpadded(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not-a-cursor",
        "bm9wZQ",  # "nope"
        unpadded(b"2026-12-01T08:30:00+00:00"),  # no session id
        unpadded(f"yesterday|{SESSION}".encode()),
        unpadded(b"2026-12-01T08:30:00+00:00|not-a-uuid"),
        unpadded(b"\xff\xfe|\x00"),  # not UTF-8
        unpadded(f"2026-12-01T08:30:00|{SESSION}".encode()),  # no time zone
    ],
)
def test_a_cursor_this_service_did_not_make_is_refused(text: str) -> None:
    with pytest.raises(InvalidCursorError, match="not one this service returned"):
        SessionCursor.decode(text)


def test_an_invalid_cursor_is_a_value_error() -> None:
    """Callers that catch ValueError (query parsing) also catch it."""
    assert issubclass(InvalidCursorError, ValueError)
