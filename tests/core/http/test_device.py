"""Device detection: real User-Agents, Client Hints, and hostile header values."""

from __future__ import annotations

from typing import Any

import pytest

from app.core.http.client_ip import TrustedProxies
from app.core.http.device import (
    MAX_USER_AGENT_BYTES,
    DeviceInfoExtractor,
    _classify_raw,
    _device_info,
    brand_from_sec_ch_ua,
    classify,
)
from app.core.http.schemas import DeviceType, SessionDeviceInfo

MOBILE, TABLET, DESKTOP = DeviceType.MOBILE, DeviceType.TABLET, DeviceType.DESKTOP

# (User-Agent, device type, OS, browser): what each of these clients really is.
REAL_USER_AGENTS: list[tuple[str, DeviceType | None, str | None, str | None]] = [
    # Phones
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1", MOBILE, "iOS", "Safari"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1", MOBILE, "iOS", "Chrome"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/124.0 Mobile/15E148 Safari/605.1.15", MOBILE, "iOS", "Firefox"),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36", MOBILE, "Android", "Chrome"),
    ("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36", MOBILE, "Android", "Chrome"),
    ("Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36", MOBILE, "Android", "Samsung Internet"),
    ("Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0", MOBILE, "Android", "Firefox"),
    ("Mozilla/5.0 (Linux; Android 12; 2201116SG) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Mobile Safari/537.36 OPR/81.0.4292.78831", MOBILE, "Android", "Opera"),
    ("Mozilla/5.0 (Linux; Android 13; SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36 EdgA/124.0.2478.50", MOBILE, "Android", "Edge"),
    ("Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1; Microsoft; Lumia 950) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/52.0.2743.116 Mobile Safari/537.36 Edge/15.15063", MOBILE, "Windows Phone", "Edge"),
    ("Mozilla/5.0 (Mobile; rv:48.0; A405DL) Gecko/48.0 Firefox/48.0 KAIOS/2.5", MOBILE, "KaiOS", "Firefox"),
    # Tablets
    ("Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1", TABLET, "iOS", "Safari"),
    ("Mozilla/5.0 (iPad; CPU OS 16_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1", TABLET, "iOS", "Chrome"),
    ("Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", TABLET, "Android", "Chrome"),
    ("Mozilla/5.0 (Linux; Android 12; Lenovo TB-J606F) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36", TABLET, "Android", "Chrome"),
    ("Mozilla/5.0 (Android 13; Tablet; rv:125.0) Gecko/125.0 Firefox/125.0", TABLET, "Android", "Firefox"),
    ("Mozilla/5.0 (Linux; Android 11; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) Silk/123.3.1 like Chrome/123.0.6312.118 Safari/537.36", TABLET, "Android", "Amazon Silk"),
    ("Mozilla/5.0 (Linux; Android 9; SM-T510) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", TABLET, "Android", "Chrome"),
    # Desktops: Windows, macOS, Linux, ChromeOS
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", DESKTOP, "Windows", "Chrome"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.67", DESKTOP, "Windows", "Edge"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0", DESKTOP, "Windows", "Firefox"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 OPR/110.0.0.0", DESKTOP, "Windows", "Opera"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15", DESKTOP, "macOS", "Safari"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", DESKTOP, "macOS", "Chrome"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:125.0) Gecko/20100101 Firefox/125.0", DESKTOP, "macOS", "Firefox"),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", DESKTOP, "Linux", "Chrome"),
    ("Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0", DESKTOP, "Ubuntu", "Firefox"),
    ("Mozilla/5.0 (X11; Fedora; Linux x86_64; rv:124.0) Gecko/20100101 Firefox/124.0", DESKTOP, "Fedora", "Firefox"),
    ("Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", DESKTOP, "Chrome OS", "Chrome"),
    ("Mozilla/5.0 (X11; CrOS aarch64 15633.69.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.6045.212 Safari/537.36", DESKTOP, "Chrome OS", "Chrome"),
    # Bots: no device type
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", None, None, "Googlebot"),
    ("Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.91 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", None, "Android", "Googlebot"),
    ("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", None, None, "bingbot"),
    ("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)", None, None, "GPTBot"),
    # HTTP libraries: known client, no device
    ("curl/8.5.0", None, None, "curl"),
    ("python-requests/2.31.0", None, None, "Python Requests"),
]  # fmt: skip


def headers_scope(headers: dict[str, str | bytes], client: str = "192.0.2.10") -> dict[str, Any]:
    raw = [
        (name.lower().encode(), value if isinstance(value, bytes) else value.encode("latin-1"))
        for name, value in headers.items()
    ]
    return {"type": "http", "headers": raw, "client": (client, 50000)}


def extract(headers: dict[str, str | bytes], **kwargs: Any) -> SessionDeviceInfo:
    return DeviceInfoExtractor(**kwargs)(headers_scope(headers))


def test_at_least_thirty_real_user_agents() -> None:
    assert len(REAL_USER_AGENTS) >= 30


@pytest.mark.parametrize(("user_agent", "device_type", "os", "browser"), REAL_USER_AGENTS)
def test_real_user_agent(
    user_agent: str, device_type: DeviceType | None, os: str | None, browser: str | None
) -> None:
    info = extract({"User-Agent": user_agent})
    assert (info.device_type, info.os, info.browser) == (device_type, os, browser)
    assert info.user_agent == user_agent
    assert info.ip_address == "192.0.2.10"


def test_ipad_in_desktop_mode_is_a_mac() -> None:
    """iPadOS Safari sends the macOS User-Agent and no hints; nothing can tell it apart."""
    info = extract(
        {
            "User-Agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.4 Safari/605.1.15"
        }
    )
    assert info.fingerprint() == "desktop | macOS | Safari"


CHROME_MAC_UA = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)
CHROME_ANDROID_UA = (
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36"
)
CHROME_ANDROID_TABLET_UA = (
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)
CHROME_WINDOWS_UA = REAL_USER_AGENTS[18][0]

# (User-Agent, Sec-CH-UA, Sec-CH-UA-Platform, Sec-CH-UA-Mobile, expected fingerprint)
CLIENT_HINT_SETS = [
    (CHROME_MAC_UA, '"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"', '"macOS"', "?0", "desktop | macOS | Chrome"),
    (CHROME_WINDOWS_UA, '"Microsoft Edge";v="124", "Chromium";v="124", "Not-A.Brand";v="99"', '"Windows"', "?0", "desktop | Windows | Edge"),
    (CHROME_ANDROID_UA, '"Google Chrome";v="124", "Chromium";v="124", "Not;A=Brand";v="24"', '"Android"', "?1", "mobile | Android | Chrome"),
    (CHROME_ANDROID_TABLET_UA, '"Google Chrome";v="124", "Chromium";v="124", "Not;A=Brand";v="24"', '"Android"', "?0", "tablet | Android | Chrome"),
    # Brave and Opera say "Chrome" in the User-Agent; only the hints know better.
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", '"Brave";v="124", "Chromium";v="124", "Not-A.Brand";v="99"', '"Linux"', "?0", "desktop | Linux | Brave"),
    (CHROME_WINDOWS_UA, '"Opera";v="110", "Chromium";v="124", "Not-A.Brand";v="99"', '"Windows"', "?0", "desktop | Windows | Opera"),
    (CHROME_WINDOWS_UA, '" Not A;Brand";v="99", "Chromium";v="124"', '"Windows"', "?0", "desktop | Windows | Chromium"),
    ("Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", '"Google Chrome";v="124", "Chromium";v="124", "Not-A.Brand";v="99"', '"Chrome OS"', "?0", "desktop | Chrome OS | Chrome"),
    # Hints win over a User-Agent that says otherwise.
    (CHROME_WINDOWS_UA, '"Google Chrome";v="124", "Chromium";v="124", "Not-A.Brand";v="99"', '"Linux"', "?0", "desktop | Linux | Chrome"),
    # Unknown platform or malformed brands: the User-Agent fills in.
    (CHROME_MAC_UA, '"Google Chrome";v="124"', '"Unknown"', "?0", "desktop | macOS | Chrome"),
    (CHROME_MAC_UA, "garbage without quotes", "", "", "desktop | macOS | Chrome"),
    # Hints without a User-Agent at all.
    ("", '"Google Chrome";v="124", "Not-A.Brand";v="99"', '"Android"', "?1", "mobile | Android | Chrome"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("user_agent", "ch_ua", "platform", "mobile", "fingerprint"), CLIENT_HINT_SETS
)
def test_client_hints(
    user_agent: str, ch_ua: str, platform: str, mobile: str, fingerprint: str
) -> None:
    headers: dict[str, str | bytes] = {
        "User-Agent": user_agent,
        "Sec-CH-UA": ch_ua,
        "Sec-CH-UA-Platform": platform,
        "Sec-CH-UA-Mobile": mobile,
    }
    assert extract(headers).fingerprint() == fingerprint


@pytest.mark.parametrize(
    "grease",
    [
        "Not A(Brand",
        "Not/A)Brand",
        "Not_A Brand",
        "Not)A;Brand",
        "Not.A/Brand",
        "Not?A_Brand",
        " Not A;Brand",
        "Not-A.Brand",
    ],
)
def test_grease_brands_are_ignored(grease: str) -> None:
    assert brand_from_sec_ch_ua(f'"{grease}";v="8", "Chromium";v="124"') == "Chromium"
    assert brand_from_sec_ch_ua(f'"{grease}";v="8"') is None


def test_bots_ignore_the_mobile_hint() -> None:
    googlebot = REAL_USER_AGENTS[30][0]
    assert classify(googlebot, sec_ch_ua_mobile="?1").device_type is None


def test_app_version_is_read_and_cleaned() -> None:
    assert extract({"X-App-Version": "3.2.1 (build 77)"}).app_version == "3.2.1 (build 77)"
    assert extract({"X-App-Version": "1.0\r\nX-Evil: 1"}).app_version == "1.0X-Evil: 1"
    assert len(extract({"X-App-Version": "9" * 5000}).app_version or "") == 64
    assert extract({}).app_version is None


def test_no_headers_at_all() -> None:
    info = extract({})
    assert info == SessionDeviceInfo(ip_address="192.0.2.10")
    assert info.fingerprint() == "unknown | unknown | unknown"


# Hostile inputs


def test_ten_kilobyte_user_agent_is_cut_before_parsing() -> None:
    hostile = CHROME_MAC_UA + " " + "A" * 10_000
    info = extract({"User-Agent": hostile})
    assert info.user_agent == hostile[:MAX_USER_AGENT_BYTES]
    assert info.fingerprint() == "desktop | macOS | Chrome"


@pytest.mark.parametrize(
    "hostile",
    [
        "(" * 10_000,
        "Mozilla/5.0 (" + "Android; " * 1200,
        "Mozilla/5.0 (Linux; Android 13; " + "x" * 10_000,
        "Mozilla/5.0 " + "Windows NT 10.0; " * 600,
        "\x00" * 10_000,
    ],
)
def test_pathological_user_agents_are_bounded(hostile: str) -> None:
    info = extract({"User-Agent": hostile})
    assert len(info.user_agent or "") <= MAX_USER_AGENT_BYTES


def test_control_characters_never_reach_the_info() -> None:
    info = extract(
        {
            "User-Agent": b"Mozilla/5.0\r\nX-Injected: 1\x00\x1b[31m (Windows NT 10.0)\x7f",
            "Sec-CH-UA-Platform": b'"mac\nOS"',
        }
    )
    assert info.user_agent == "Mozilla/5.0X-Injected: 1[31m (Windows NT 10.0)"
    assert info.os == "macOS"


def test_non_ascii_bytes_do_not_break_decoding() -> None:
    info = extract({"User-Agent": "Mozilla/5.0 (Windows NT 10.0) Ünïcødé/1.0".encode()})
    assert info.user_agent is not None
    assert info.user_agent.startswith("Mozilla/5.0 (Windows NT 10.0) ")


def test_huge_client_hints_are_cut() -> None:
    brands = ", ".join(f'"Brand{i}";v="{i}"' for i in range(2000))
    info = extract({"Sec-CH-UA": brands, "Sec-CH-UA-Platform": '"' + "W" * 5000 + '"'})
    assert info.browser == "Brand0"
    assert info.os is not None
    assert len(info.os) <= 64


def test_caches_stay_bounded() -> None:
    extractor = DeviceInfoExtractor()
    for index in range(5000):
        extractor(headers_scope({"User-Agent": f"client/{index}"}))
    assert _device_info.cache_info().currsize <= 4096
    assert _classify_raw.cache_info().currsize <= 2048


def test_repeat_clients_hit_the_cache() -> None:
    extractor = DeviceInfoExtractor()
    scope = headers_scope({"User-Agent": CHROME_MAC_UA})
    first = extractor(scope)
    hits = _device_info.cache_info().hits
    assert extractor(scope) is first
    assert _device_info.cache_info().hits == hits + 1


def test_trusted_proxy_names_the_client() -> None:
    scope = headers_scope({"X-Forwarded-For": "203.0.113.9"}, client="10.0.0.2")
    assert DeviceInfoExtractor(TrustedProxies(["10.0.0.0/8"]))(scope).ip_address == "203.0.113.9"
    assert DeviceInfoExtractor()(scope).ip_address == "10.0.0.2"
