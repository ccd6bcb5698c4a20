"""Security headers on every HTTP response, errors and 404s included.

API responses get the spec's four (HSTS, nosniff, X-Frame-Options DENY, Referrer-Policy)
plus `Content-Security-Policy: default-src 'none'; frame-ancestors 'none'` (JSON needs
no sources; an API response opened in a browser can run nothing) and
`Cross-Origin-Opener-Policy: same-origin`. A header the endpoint already set is kept.

The docs pages (/docs, /redoc, the OAuth2 redirect) are HTML that loads Swagger UI or
ReDoc from this service (`app.core.http.docs`) and runs one small inline script. They get
a CSP naming no other host: the inline scripts are allowed by their SHA-256 (computed from the page
actually sent, so it follows FastAPI's template and any root_path), never by
'unsafe-inline'; ReDoc's search worker needs `worker-src blob:`. Their COOP is left out
so Swagger UI's OAuth2 popup can still reach its opener.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HSTS_MAX_AGE_SECONDS = 31_536_000  # one year
API_CSP = "default-src 'none'; frame-ancestors 'none'"
DOCS_CSP_TEMPLATE = (
    "default-src 'none'; "
    "script-src 'self' {script_hashes}; "
    # ReDoc and Swagger UI set style attributes and inject <style> elements at run time.
    "style-src 'self' 'unsafe-inline'; "
    "font-src 'self' data:; "
    "img-src 'self' data:; "
    "connect-src 'self'; "
    "worker-src 'self' blob:; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)

Header = tuple[bytes, bytes]


def _common_headers(hsts_max_age: int) -> list[Header]:
    return [
        (b"strict-transport-security", f"max-age={hsts_max_age}; includeSubDomains".encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"strict-origin-when-cross-origin"),
    ]


def docs_csp(html: bytes) -> bytes:
    """The docs CSP allowing exactly the inline scripts of this page."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    return DOCS_CSP_TEMPLATE.format(script_hashes=hashes).encode()


def _with_defaults(
    headers: Iterable[Header], defaults: list[Header], names: frozenset[bytes]
) -> list[Header]:
    """`headers` plus each default whose name the response did not set itself."""
    headers = list(headers)
    for name, _ in headers:
        if name in names:
            break
    else:  # the usual case: the response set none of them
        headers.extend(defaults)
        return headers
    present = {name.lower() for name, _ in headers}
    headers.extend(header for header in defaults if header[0] not in present)
    return headers


class SecurityHeadersMiddleware:
    """Adds the security headers to every HTTP response; a stricter CSP for the API."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        docs_paths: Iterable[str] = (),
        hsts_max_age: int = HSTS_MAX_AGE_SECONDS,
    ) -> None:
        self.app = app
        common = _common_headers(hsts_max_age)
        self.api_headers = [
            *common,
            (b"content-security-policy", API_CSP.encode()),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]
        self.api_header_names = frozenset(name for name, _ in self.api_headers)
        self.docs_headers = common
        self.docs_header_names = frozenset(name for name, _ in common) | {
            b"content-security-policy"
        }
        self.docs_paths = frozenset(docs_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] in self.docs_paths:
            await self.app(scope, receive, self._docs_sender(send))
            return
        defaults, names = self.api_headers, self.api_header_names

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _with_defaults(message.get("headers", ()), defaults, names)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _docs_sender(self, send: Send) -> Send:
        """Holds the docs page's start message until its body is known, to hash its scripts."""
        held: list[Message] = []
        body: list[bytes] = []
        defaults, names = self.docs_headers, self.docs_header_names

        async def send_docs(message: Message) -> None:
            if message["type"] == "http.response.start":
                held.append(message)
                return
            if not held or message["type"] != "http.response.body":
                await send(message)
                return
            body.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            start = held.pop()
            page = b"".join(body)
            csp: Header = (b"content-security-policy", docs_csp(page))
            start["headers"] = _with_defaults(start.get("headers", ()), [*defaults, csp], names)
            await send(start)
            await send({"type": "http.response.body", "body": page, "more_body": False})

        return send_docs
