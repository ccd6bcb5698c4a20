"""RateLimitMiddleware: applies the limiter's rules to matching requests (plain ASGI).

For a limited route it counts the request against each rule in order, stopping at the
first refusal, and answers 429 problem+json with `Retry-After`. Limited routes carry the
IETF httpapi draft's fields (draft-ietf-httpapi-ratelimit-headers-09, structured fields)
on every response, allowed or not:

    RateLimit-Policy: "login-ip";q=20;w=60, "login-email";q=5;w=60
    RateLimit: "login-ip";r=19;t=60, "login-email";r=4;t=60

Keys: the client IP set by the DeviceInfo middleware (X-Forwarded-For believed only from
TRUSTED_PROXIES), IPv6 grouped by /64 since one host holds a whole /64; and for login the
submitted email in the one form the login looks it up by (`normalize_email`: NFKC,
IDNA, lower case), so every spelling of an address shares one budget, as an HMAC
under EMAIL_DIGEST_KEY so no address sits in Redis or memory; for refresh the session
named by the submitted refresh token (`session_key`).
The email and the token are read from the JSON body, which is buffered (up to `max_body_bytes`) and
replayed to the app unchanged.
"""

from __future__ import annotations

import ipaddress
import math
from collections import deque
from collections.abc import Iterable

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.ratelimit.backends import Decision
from app.core.ratelimit.body_fields import json_body_field
from app.core.ratelimit.limiter import RateLimiter
from app.core.ratelimit.rules import RateLimitRule
from app.core.ratelimit.session_key import refresh_session_key
from app.core.response import ResponseFactory
from app.core.security.emails import InvalidEmailError, email_digest, normalize_email

IPV6_PREFIX = 64


def policy_header(rules: Iterable[RateLimitRule]) -> str:
    return ", ".join(f'"{rule.name}";q={rule.limit};w={rule.window_seconds}' for rule in rules)


def ratelimit_header(decisions: Iterable[tuple[RateLimitRule, Decision]]) -> str:
    return ", ".join(
        f'"{rule.name}";r={decision.remaining};t={math.ceil(decision.reset_after)}'
        for rule, decision in decisions
    )


def client_ip_key(scope: Scope) -> str:
    device_info = scope.get("state", {}).get("device_info")
    ip = getattr(device_info, "ip_address", None)
    if ip is None and scope.get("client"):
        ip = scope["client"][0]
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return ip or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/{IPV6_PREFIX}", strict=False))
    return str(address)


def email_key(body: bytes | None, digest_key: bytes = b"") -> str | None:
    """The keyed digest of a JSON body's `email` in the form the login looks up, or None."""
    email = json_body_field(body, "email")
    if not isinstance(email, str):
        return None
    try:
        normalized = normalize_email(email)
    except InvalidEmailError:  # the app refuses the body (422): no password is tried
        return None
    return email_digest(normalized, digest_key)


async def buffer_body(receive: Receive, max_bytes: int) -> tuple[bytes | None, Receive]:
    """Read the request body (None if it exceeds `max_bytes`) and a receive that replays it."""
    messages: deque[Message] = deque()
    chunks: list[bytes] = []
    size = 0
    complete = False
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > max_bytes:  # the app (or the body-size middleware) deals with it
            break
        chunks.append(chunk)
        if not message.get("more_body", False):
            complete = True
            break

    async def replay() -> Message:
        if messages:
            return messages.popleft()
        return await receive()

    return (b"".join(chunks) if complete else None), replay


class RateLimitMiddleware:
    """Counts requests to the limiter's routes; 429 with Retry-After past a rule's limit."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limiter: RateLimiter | None = None,
        max_body_bytes: int = 1_048_576,
        email_digest_key: bytes = b"",
    ) -> None:
        self.app = app
        self.email_digest_key = email_digest_key
        self.limiter = limiter
        self.max_body_bytes = max_body_bytes
        self._routes: dict[tuple[str, str], tuple[RateLimitRule, ...]] = {}
        for rule in limiter.rules if limiter is not None else ():
            route = (rule.method, rule.path)
            self._routes[route] = (*self._routes.get(route, ()), rule)
        self._policies = {route: policy_header(rules) for route, rules in self._routes.items()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = (scope.get("method", ""), scope.get("path", ""))
        rules = self._routes.get(route) if scope["type"] == "http" else None
        if not rules or self.limiter is None:
            await self.app(scope, receive, send)
            return
        keys: dict[str, str | None] = {"ip": client_ip_key(scope)}
        if any(rule.key != "ip" for rule in rules):
            body, receive = await buffer_body(receive, self.max_body_bytes)
            keys["email"] = email_key(body, self.email_digest_key)
            keys["session"] = refresh_session_key(body)

        decisions: list[tuple[RateLimitRule, Decision]] = []
        for rule in rules:
            key = keys[rule.key]
            if key is None:  # no email or token submitted: the app will refuse the body
                continue
            decision = await self.limiter.hit(rule, key)
            decisions.append((rule, decision))
            if not decision.allowed:
                break
        headers = {"RateLimit-Policy": self._policies[route]}
        if decisions:
            headers["RateLimit"] = ratelimit_header(decisions)
        if decisions and not decisions[-1][1].allowed:
            await self._refuse(scope, receive, send, decisions[-1][1], headers)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                for name, value in headers.items():
                    response_headers.append(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _refuse(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        decision: Decision,
        headers: dict[str, str],
    ) -> None:
        retry_after = max(1, math.ceil(decision.reset_after))
        response = ResponseFactory(Request(scope)).error(
            429,
            "Too Many Requests",
            f"Too many requests; retry after {retry_after} seconds.",
            headers={**headers, "Retry-After": str(retry_after)},
        )
        await response(scope, receive, send)
