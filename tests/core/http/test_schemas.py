"""SessionDeviceInfo: frozen (one parsed result is shared), with a stable fingerprint."""

from __future__ import annotations

import pydantic
import pytest

from app.core.http.schemas import DeviceType, SessionDeviceInfo


def test_the_fingerprint_names_device_os_and_browser_and_unknown_for_what_is_missing() -> None:
    known = SessionDeviceInfo(device_type=DeviceType.MOBILE, os="Android", browser="Firefox")
    assert known.fingerprint() == "mobile | Android | Firefox"
    assert SessionDeviceInfo(os="Linux").fingerprint() == "unknown | Linux | unknown"


def test_the_fingerprint_ignores_what_changes_between_requests() -> None:
    """Address, User-Agent version and app version change; the install stays the same."""
    before = SessionDeviceInfo(
        user_agent="Firefox/124.0",
        ip_address="198.51.100.4",
        device_type=DeviceType.DESKTOP,
        os="Linux",
        browser="Firefox",
        app_version="1.0",
    )
    after = before.model_copy(
        update={"user_agent": "Firefox/125.0", "ip_address": "203.0.113.9", "app_version": "1.1"}
    )
    assert before.fingerprint() == after.fingerprint()


def test_device_info_cannot_be_changed_once_parsed() -> None:
    info = SessionDeviceInfo(ip_address="198.51.100.4")
    with pytest.raises(pydantic.ValidationError):
        info.ip_address = "203.0.113.9"  # type: ignore[misc]
    assert info.ip_address == "198.51.100.4"


def test_device_types_serialise_as_their_lower_case_names() -> None:
    info = SessionDeviceInfo(device_type=DeviceType.TABLET)
    assert info.model_dump(mode="json")["device_type"] == "tablet"
    assert [member.value for member in DeviceType] == ["mobile", "tablet", "desktop"]
