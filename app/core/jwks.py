"""`GET /.well-known/jwks.json`: the public keys that verify our tokens (RFC 7517).

Published only for asymmetric algorithms, so other services can verify access tokens
without a shared secret; it lists the current and the previous (still accepted) access
keys, never the refresh keys (refresh tokens are verified by this service alone). With
an HMAC algorithm there is nothing public to publish: 404.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.core.dependencies import JWTServiceDep
from app.core.errors import NotFoundError

jwks_router = APIRouter(tags=["security"])


@jwks_router.get("/.well-known/jwks.json", summary="Public keys that verify this service's JWTs")
async def jwks(jwt_service: JWTServiceDep) -> JSONResponse:
    keys = jwt_service.public_jwks()
    if keys is None:
        raise NotFoundError(detail="No public keys: tokens are signed with a shared secret")
    # Short cache: verifiers learn a rotated-in key within minutes (or refetch on unknown kid).
    return JSONResponse({"keys": keys}, headers={"Cache-Control": "public, max-age=300"})
