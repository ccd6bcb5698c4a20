"""The opaque cursor of `GET /api/auth/sessions`: where the previous page ended.

Sessions are listed most recently used first, ties broken by id; the cursor holds the
last row's `(last_used_at, id)` so the next page starts strictly after it, however many
rows come before (no OFFSET scan). It is base64url text, not a promise of format:
clients pass back what they got.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import datetime


class InvalidCursorError(ValueError):
    """The cursor was not produced by this service."""


@dataclass(frozen=True, slots=True)
class SessionCursor:
    last_used_at: datetime
    session_id: uuid.UUID

    def encode(self) -> str:
        raw = f"{self.last_used_at.isoformat()}|{self.session_id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> SessionCursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            moment, _, session_id = raw.partition("|")
            last_used_at = datetime.fromisoformat(moment)
            parsed = cls(last_used_at, uuid.UUID(session_id))
        except (ValueError, binascii.Error, UnicodeDecodeError) as e:
            raise InvalidCursorError("cursor is not one this service returned") from e
        if last_used_at.tzinfo is None:
            raise InvalidCursorError("cursor is not one this service returned")
        return parsed
