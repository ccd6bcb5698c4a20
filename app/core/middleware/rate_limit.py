"""RateLimitMiddleware: applies the limiter's rules to matching requests (plain ASGI).

For a limited route it counts the request against each rule in order, stopping at the
first refusal, and answers 429 problem+json with `Retry-After`. Limited routes carry the
IETF httpapi draft's fields (draft-ietf-httpapi-ratelimit-headers-09, structured fields)
on every response, allowed or not:

    RateLimit-Policy: "login-ip";q=20;w=60, "login-email";q=5;w=60
    RateLimit: "login-ip";r=19;t=60, "login-email";r=4;t=60

Keys: the client IP set by the DeviceInfo middleware (X-Forwarded-For believed only from
TRUSTED_PROXIES), IPv6 grouped by /64 since one host holds a whole /64; any other key is
read from the body by the `BodyKey` the rule's domain registered. Only then is the body
buffered (up to `max_body_bytes`), and it is replayed to the app unchanged.
"""

from __future__ import annotations

import ipaddress
import math
from collections import deque
from collections.abc import Iterable

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.ratelimit.backends import Decision
from app.core.ratelimit.limiter import RateLimiter
from app.core.ratelimit.rules import CLIENT_IP, RateLimitRule
from app.core.response import ResponseFactory

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
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.max_body_bytes = max_body_bytes
        # Rules are registered after the middleware is added: policies are built on first use.
        self._policies: dict[tuple[RateLimitRule, ...], str] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limiter = self.limiter
        rules = (
            limiter.rules_for(scope["method"], scope["path"])
            if limiter is not None and scope["type"] == "http"
            else ()
        )
        if not rules or limiter is None:
            await self.app(scope, receive, send)
            return
        keys: dict[str, str | None] = {CLIENT_IP: client_ip_key(scope)}
        body_keys = {rule.key for rule in rules} - keys.keys()
        if body_keys:
            body, receive = await buffer_body(receive, self.max_body_bytes)
            keys.update((name, limiter.body_keys[name](body)) for name in body_keys)

        # A body without its key is not counted by that rule: the app will refuse it.
        checks = [(rule, key) for rule in rules if (key := keys[rule.key]) is not None]
        counted = await limiter.hit_all(checks) if checks else []
        decisions = [(rule, decision) for (rule, _), decision in zip(checks, counted, strict=False)]
        policy = self._policies.get(rules)
        if policy is None:
            policy = self._policies[rules] = policy_header(rules)
        headers = {"RateLimit-Policy": policy}
        if decisions:
            headers["RateLimit"] = ratelimit_header(decisions)
        if decisions and not decisions[-1][1].allowed:
            await self._refuse(scope, receive, send, decisions[-1][1], headers)
            return
        # Appended as they are: no response sets these fields itself.
        raw_headers = [(name.lower().encode(), value.encode()) for name, value in headers.items()]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *raw_headers]
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
