"""Device/browser info extraction from request headers.

Strategy:
- Client Hints win when present: `Sec-CH-UA` names the browser (GREASE brands such as
  "Not A Brand" ignored, a specific brand preferred over "Chromium"),
  `Sec-CH-UA-Platform` the OS and `Sec-CH-UA-Mobile` the phone bit. Browsers send them
  only to secure origins, so the User-Agent stays the fallback.
- The User-Agent is parsed by ua-parser (the maintained uap-core regexes, Rust engine).
  A parse costs tens of microseconds, so results sit behind bounded LRU caches keyed by
  the raw header bytes; a repeat client costs one dict lookup.
- Every header value is cut to a fixed length before anything looks at it, which bounds
  the worst case (a 10 KB hostile User-Agent parses like a 512-byte one) and the size
  of what reaches logs and the sessions table. Control characters are dropped.
- Names are normalised to the Client Hints vocabulary ("macOS", "Chrome", "Edge") so a
  browser gets the same fingerprint whether or not it sent hints.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import NamedTuple

from starlette.types import Scope
from ua_parser import BestAvailableResolver, Domain, Parser, load_lazy_builtins

from app.core.http.client_ip import TrustedProxies, client_ip
from app.core.http.schemas import DeviceType, SessionDeviceInfo

MAX_USER_AGENT_BYTES = 512
MAX_CH_UA_BYTES = 256
MAX_SHORT_HEADER_BYTES = 64  # platform, mobile bit, app version

_CONTROL_CHARS = dict.fromkeys([*range(0x20), 0x7F])
_BRAND = re.compile(r'"((?:[^"\\]|\\.){1,64})"\s*;\s*v\s*=\s*"[^"]{0,32}"')

_MOBILE_OS = frozenset(
    {"iOS", "Android", "Windows Phone", "KaiOS", "BlackBerry OS", "Symbian OS", "Firefox OS"}
)
_DESKTOP_OS = frozenset(
    {"Windows", "macOS", "Linux", "Ubuntu", "Fedora", "Debian", "Chrome OS", "FreeBSD"}
)
_DESKTOP_TOKENS = ("Windows NT", "Macintosh", "X11")
_TABLET_FAMILIES = frozenset({"iPad", "Kindle", "Generic Tablet"})

_OS_NAMES = {"Mac OS X": "macOS", "Chromium OS": "Chrome OS", "Other": "", "Unknown": ""}
_BROWSER_NAMES = {
    "Google Chrome": "Chrome",
    "Microsoft Edge": "Edge",
    "Chrome Mobile": "Chrome",
    "Chrome Mobile iOS": "Chrome",
    "Chrome Mobile WebView": "Chrome WebView",
    "Mobile Safari": "Safari",
    "Mobile Safari UI/WKWebView": "Safari WebView",
    "Firefox Mobile": "Firefox",
    "Firefox iOS": "Firefox",
    "Edge Mobile": "Edge",
    "Opera Mobile": "Opera",
    "Other": "",
}


class DeviceClassification(NamedTuple):
    """What the headers say about the client, before the IP is known."""

    device_type: DeviceType | None
    os: str | None
    browser: str | None


def clean_header(raw: bytes, limit: int) -> str:
    """A header value cut to `limit` bytes, decoded, control characters dropped."""
    return raw[:limit].decode("latin-1").translate(_CONTROL_CHARS).strip()


@cache
def _parser() -> Parser:
    # Built once per process (~0.3 s); the middleware calls it at startup.
    return Parser(BestAvailableResolver(load_lazy_builtins()))


def _os_name(name: str | None) -> str | None:
    if not name:
        return None
    return _OS_NAMES.get(name, name) or None


def _browser_name(name: str | None) -> str | None:
    if not name:
        return None
    return _BROWSER_NAMES.get(name, name) or None


def _is_grease(brand: str) -> bool:
    """Chrome's GREASE brands: "Not A Brand", "Not/A)Brand", "Not_A Brand" and kin."""
    letters = "".join(char for char in brand.lower() if char.isalpha())
    return "notabrand" in letters


def brand_from_sec_ch_ua(value: str) -> str | None:
    """The most specific real brand of a `Sec-CH-UA` header ("Chromium" only as a last resort)."""
    brands = [brand for brand in _BRAND.findall(value) if not _is_grease(brand)]
    specific = [brand for brand in brands if brand != "Chromium"]
    chosen = specific[0] if specific else (brands[0] if brands else None)
    return _browser_name(chosen)


def _classify_user_agent(user_agent: str) -> tuple[DeviceClassification, bool]:
    """The User-Agent's classification, and whether it is a crawler."""
    if not user_agent:
        return DeviceClassification(None, None, None), False
    result = _parser()(user_agent, Domain.ALL)
    browser = _browser_name(result.user_agent.family if result.user_agent else None)
    os = _os_name(result.os.family if result.os else None)
    device = result.device
    if device is not None and device.family == "Spider":
        return DeviceClassification(None, os, browser), True
    device_type: DeviceType | None = None
    if device is not None and (
        device.family in _TABLET_FAMILIES
        or device.brand == "Generic_Android_Tablet"
        or "Tablet" in device.family
    ):
        device_type = DeviceType.TABLET
    elif os == "Android" and user_agent.startswith("Mozilla/") and "Mobile" not in user_agent:
        # Android browsers mark phones with "Mobile"; tablets leave it out.
        device_type = DeviceType.TABLET
    elif os in _MOBILE_OS or "Mobi" in user_agent:
        device_type = DeviceType.MOBILE
    elif os in _DESKTOP_OS or any(token in user_agent for token in _DESKTOP_TOKENS):
        device_type = DeviceType.DESKTOP
    return DeviceClassification(device_type, os, browser), False


def classify(
    user_agent: str,
    sec_ch_ua: str = "",
    sec_ch_ua_platform: str = "",
    sec_ch_ua_mobile: str = "",
) -> DeviceClassification:
    """Device type, OS and browser from the (already cleaned) header values."""
    from_ua, is_bot = _classify_user_agent(user_agent)
    browser = (brand_from_sec_ch_ua(sec_ch_ua) if sec_ch_ua else None) or from_ua.browser
    os = _os_name(sec_ch_ua_platform.strip('"')) or from_ua.os
    device_type = from_ua.device_type
    if not is_bot and sec_ch_ua_mobile == "?1":
        device_type = DeviceType.MOBILE
    elif not is_bot and sec_ch_ua_mobile == "?0":
        # Chrome on an Android tablet says "not mobile".
        device_type = DeviceType.TABLET if os == "Android" else DeviceType.DESKTOP
    return DeviceClassification(device_type, os, browser)


@lru_cache(maxsize=2048)
def _classify_raw(
    user_agent: bytes, sec_ch_ua: bytes, platform: bytes, mobile: bytes
) -> tuple[str | None, DeviceClassification]:
    cleaned = clean_header(user_agent, MAX_USER_AGENT_BYTES)
    classification = classify(
        cleaned,
        clean_header(sec_ch_ua, MAX_CH_UA_BYTES),
        clean_header(platform, MAX_SHORT_HEADER_BYTES),
        clean_header(mobile, MAX_SHORT_HEADER_BYTES),
    )
    return cleaned or None, classification


@lru_cache(maxsize=4096)
def _device_info(
    user_agent: bytes,
    sec_ch_ua: bytes,
    platform: bytes,
    mobile: bytes,
    app_version: bytes,
    ip_address: str | None,
) -> SessionDeviceInfo:
    cleaned_ua, classification = _classify_raw(user_agent, sec_ch_ua, platform, mobile)
    return SessionDeviceInfo(
        user_agent=cleaned_ua,
        ip_address=ip_address,
        device_type=classification.device_type,
        os=classification.os,
        browser=classification.browser,
        app_version=clean_header(app_version, MAX_SHORT_HEADER_BYTES) or None,
    )


class DeviceInfoExtractor:
    """Builds the `SessionDeviceInfo` of an ASGI scope (headers and trusted client IP)."""

    __slots__ = ("_trusted_proxies",)

    def __init__(self, trusted_proxies: TrustedProxies | None = None) -> None:
        self._trusted_proxies = trusted_proxies or TrustedProxies()
        _parser()

    def __call__(self, scope: Scope) -> SessionDeviceInfo:
        headers = dict(scope["headers"])
        get = headers.get
        # Cut before the cache so a flood of distinct 10 KB headers can't pin big keys.
        return _device_info(
            get(b"user-agent", b"")[:MAX_USER_AGENT_BYTES],
            get(b"sec-ch-ua", b"")[:MAX_CH_UA_BYTES],
            get(b"sec-ch-ua-platform", b"")[:MAX_SHORT_HEADER_BYTES],
            get(b"sec-ch-ua-mobile", b"")[:MAX_SHORT_HEADER_BYTES],
            get(b"x-app-version", b"")[:MAX_SHORT_HEADER_BYTES],
            client_ip(scope, self._trusted_proxies),
        )
