"""Client IP: forwarded headers count only from trusted proxies, walked from the right."""

from __future__ import annotations

from typing import Any

import pytest

from app.core.http.client_ip import MAX_FORWARDED_CHAIN, TrustedProxies, client_ip

PROXIES = TrustedProxies(["10.0.0.0/8", "2001:db8:ffff::/48"])


def scope(peer: str | None, *headers: tuple[str, str]) -> dict[str, Any]:
    return {
        "type": "http",
        "client": (peer, 443) if peer else None,
        "headers": [(name.encode(), value.encode()) for name, value in headers],
    }


def test_without_trusted_proxies_the_peer_is_the_client() -> None:
    forged = scope("198.51.100.7", ("x-forwarded-for", "203.0.113.9"))
    assert client_ip(forged) == "198.51.100.7"
    assert client_ip(forged, TrustedProxies()) == "198.51.100.7"
    assert not TrustedProxies()


def test_untrusted_peer_cannot_forge_its_address() -> None:
    forged = scope("198.51.100.7", ("x-forwarded-for", "203.0.113.9"))
    assert PROXIES.client_ip(forged) == "198.51.100.7"


@pytest.mark.parametrize(
    ("peer", "headers", "expected"),
    [
        ("10.0.0.2", [("x-forwarded-for", "203.0.113.9")], "203.0.113.9"),
        # Our own proxies in the chain are skipped.
        ("10.0.0.2", [("x-forwarded-for", "203.0.113.9, 10.1.1.1, 10.2.2.2")], "203.0.113.9"),
        # What the client wrote left of the entry our proxy appended is not believed.
        ("10.0.0.2", [("x-forwarded-for", "1.1.1.1, 198.51.100.7")], "198.51.100.7"),
        # Several header lines form one list, in order.
        ("10.0.0.2", [("x-forwarded-for", "1.1.1.1"), ("x-forwarded-for", "198.51.100.8")], "198.51.100.8"),
        # Every hop trusted: the leftmost is the client.
        ("10.0.0.2", [("x-forwarded-for", "10.9.9.9, 10.1.1.1")], "10.9.9.9"),
        # Garbage written by a trusted hop: stop at the last hop we believe.
        ("10.0.0.2", [("x-forwarded-for", "203.0.113.9, not-an-ip")], "10.0.0.2"),
        ("10.0.0.2", [("x-forwarded-for", "192.0.2.1:8080")], "192.0.2.1"),
        ("10.0.0.2", [("x-forwarded-for", "[2001:db8::1]:443")], "2001:db8::1"),
        ("10.0.0.2", [("x-forwarded-for", "2001:db8::2")], "2001:db8::2"),
        ("2001:db8:ffff::5", [("x-forwarded-for", "203.0.113.9")], "203.0.113.9"),
        # IPv4-mapped IPv6 peers count as their IPv4 address.
        ("::ffff:10.0.0.2", [("x-forwarded-for", "203.0.113.9")], "203.0.113.9"),
        # Forwarded is not read unless TRUSTED_PROXY_HEADER names it.
        ("10.0.0.2", [("forwarded", "for=192.0.2.60"), ("x-forwarded-for", "203.0.113.9")], "203.0.113.9"),
        # A trusted peer with no forwarded header is itself the client.
        ("10.0.0.2", [], "10.0.0.2"),
    ],
)  # fmt: skip
def test_trusted_proxy_chains(peer: str, headers: list[tuple[str, str]], expected: str) -> None:
    assert PROXIES.client_ip(scope(peer, *headers)) == expected


def test_no_peer_is_unknown() -> None:
    assert PROXIES.client_ip(scope(None, ("x-forwarded-for", "203.0.113.9"))) is None
    assert client_ip(scope(None)) is None


def test_a_long_chain_is_walked_only_so_far() -> None:
    chain = ["203.0.113.9"] + [f"10.0.0.{i}" for i in range(100)]
    found = PROXIES.client_ip(scope("10.0.0.2", ("x-forwarded-for", ", ".join(chain))))
    assert found == chain[-MAX_FORWARDED_CHAIN]


def test_a_huge_header_is_cut_from_the_left() -> None:
    chain = "1.1.1.1, " * 5000 + "198.51.100.7"
    assert PROXIES.client_ip(scope("10.0.0.2", ("x-forwarded-for", chain))) == "198.51.100.7"


def test_networks_are_validated_up_front() -> None:
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6 network"):
        TrustedProxies(["10.0.0.0/8", "nonsense"])
