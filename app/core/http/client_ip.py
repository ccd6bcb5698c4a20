"""The client IP of a request: the direct peer, unless that peer is a trusted proxy.

X-Forwarded-For and Forwarded are client-controlled headers: anyone can send
`X-Forwarded-For: 1.2.3.4`. They are read only when the TCP peer is one of
TRUSTED_PROXIES, and then walked from the right (the entry the nearest proxy appended)
skipping further trusted proxies; the first untrusted address is the client. Whatever a
client wrote further left is never believed.

Only one header is read, the one TRUSTED_PROXY_HEADER names: `X-Forwarded-For` (the
default: what nginx, the cloud load balancers and most CDNs set) or `Forwarded`
(RFC 7239). A proxy passes through the header it does not set, so reading the other
would let the client choose its own address.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network
from typing import Literal

from starlette.types import Scope

# A forwarded chain longer than this is garbage or an attack, not a proxy path.
MAX_FORWARDED_CHAIN = 16
MAX_FORWARDED_HEADER_BYTES = 1024

ForwardedHeader = Literal["X-Forwarded-For", "Forwarded"]


def _parse_ip(text: str) -> IPv4Address | IPv6Address | None:
    """An address from a forwarded entry: `1.2.3.4`, `1.2.3.4:80`, `[::1]:80`, `"[::1]"`."""
    text = text.strip().strip('"')
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:  # IPv4 with a port; bare IPv6 has several colons
        text = text.partition(":")[0]
    try:
        address = ip_address(text)
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _forwarded_for(value: str) -> list[str]:
    """The `for=` values of an RFC 7239 Forwarded header, in order."""
    found: list[str] = []
    for element in value.split(","):
        for pair in element.split(";"):
            name, _, token = pair.partition("=")
            if name.strip().lower() == "for":
                found.append(token)
    return found


class TrustedProxies:
    """Computes the client IP of an ASGI scope given the proxies allowed to name it.

    Networks are parsed once; whether a peer is trusted is cached per address, so a
    request from an untrusted peer costs one dict lookup.
    """

    __slots__ = ("_header", "_is_trusted", "_networks")

    def __init__(
        self, cidrs: Iterable[str] = (), *, header: ForwardedHeader = "X-Forwarded-For"
    ) -> None:
        self._networks = tuple(ip_network(cidr.strip(), strict=False) for cidr in cidrs)
        self._is_trusted = lru_cache(maxsize=1024)(self._check)
        self._header = header.lower().encode("latin-1")

    def __bool__(self) -> bool:
        return bool(self._networks)

    def _check(self, host: str) -> bool:
        address = _parse_ip(host)
        return address is not None and any(address in network for network in self._networks)

    def client_ip(self, scope: Scope) -> str | None:
        """The trusted client address of this HTTP/WebSocket scope, or None if unknown."""
        client = scope.get("client")
        peer: str | None = client[0] if client else None
        if peer is None or not self._networks or not self._is_trusted(peer):
            return peer
        chain = self._forwarded_chain(scope)
        client_ip = peer
        for entry in reversed(chain[-MAX_FORWARDED_CHAIN:]):
            address = _parse_ip(entry)
            if address is None:
                break  # a trusted proxy wrote garbage: keep the last hop we believe
            client_ip = str(address)
            if not self._is_trusted(client_ip):
                break
        return client_ip

    def _forwarded_chain(self, scope: Scope) -> list[str]:
        values = [value for name, value in scope["headers"] if name == self._header]
        if not values:
            return []
        joined = b",".join(values)[-MAX_FORWARDED_HEADER_BYTES:].decode("latin-1")
        return joined.split(",") if self._header == b"x-forwarded-for" else _forwarded_for(joined)


def client_ip(scope: Scope, trusted_proxies: TrustedProxies | None = None) -> str | None:
    """The client IP of an ASGI scope; forwarded headers count only from trusted proxies."""
    if trusted_proxies is None:
        client = scope.get("client")
        return client[0] if client else None
    return trusted_proxies.client_ip(scope)
