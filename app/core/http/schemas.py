"""DeviceType and SessionDeviceInfo: what the service knows about the client of a request.

The device-info middleware builds one `SessionDeviceInfo` per request and stores it at
`request.state.device_info`; the auth domain copies it onto sessions.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class DeviceType(StrEnum):
    """Coarse device class; bots and unknown clients have none."""

    MOBILE = "mobile"
    TABLET = "tablet"
    DESKTOP = "desktop"


class SessionDeviceInfo(BaseModel):
    """Client metadata from Client Hints, the User-Agent and the trusted client IP.

    Frozen because one parsed result is shared by every request with the same headers.
    """

    model_config = ConfigDict(frozen=True)

    user_agent: str | None = None
    ip_address: str | None = None
    device_type: DeviceType | None = None
    os: str | None = None
    browser: str | None = None
    app_version: str | None = None

    def fingerprint(self) -> str:
        """`"desktop | macOS | Chrome"`: stable across requests of one browser install."""
        device = self.device_type.value if self.device_type else "unknown"
        return f"{device} | {self.os or 'unknown'} | {self.browser or 'unknown'}"
