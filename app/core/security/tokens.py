"""JWT access and refresh tokens: creation, strict decoding, and typed failures.

Decoding trusts nothing in the token to choose how it is checked: the algorithm is the
configured one (`none` and every other algorithm are refused before any crypto), the
key is looked up by `kid` among our own keys for that token kind, and every claim is
required. Access and refresh tokens use separate keyrings, carry a `type` claim and a
`typ` header (`at+jwt`, RFC 9068, and `refresh+jwt`) and have different audiences (the
clients' for access, this service's own for refresh), so one never decodes as the other,
here or in an outside verifier that checks iss and aud with our JWKS.

Failures raise a `TokenError` subclass whose `reason` is a stable code for logs and
whose message never contains the token or anything read from it:

    TokenError (ValueError)
    ├── MalformedTokenError        not a JWT, or a claim of the wrong type
    ├── TokenAlgorithmError        alg is not the configured algorithm (incl. `none`)
    ├── UnknownKeyError            no kid, or a kid that none of our keys has
    ├── TokenSignatureError        signature does not verify
    ├── ExpiredTokenError          exp has passed (beyond the leeway)
    ├── TokenNotYetValidError      iat/nbf in the future (beyond the leeway)
    ├── TokenIssuerError           iss is not ours
    ├── TokenAudienceError         aud is not ours
    ├── MissingClaimError          a required claim is absent
    └── WrongTokenTypeError        a refresh token used as an access token, or the reverse
"""

from __future__ import annotations

import base64
import binascii
import time
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal, TypedDict

import jwt
from jwt.algorithms import HMACAlgorithm
from jwt.api_jws import PyJWS

from app.core.random_ids import new_token_id
from app.core.security.keys import Keyring, is_asymmetric

if TYPE_CHECKING:
    from app.core.config import Settings

TokenType = Literal["access", "refresh"]
HMAC_ALGORITHMS: Final = {
    "HS256": HMACAlgorithm.SHA256,
    "HS384": HMACAlgorithm.SHA384,
    "HS512": HMACAlgorithm.SHA512,
}
_MAX_CHECKED_SECRETS: Final = 16  # current and previous keys of both kinds
_MAX_REMEMBERED_HEADERS: Final = 64
_MAX_REMEMBERED_TOKENS: Final = 10_000  # ~0.5 KB each
# Explicit typing (RFC 8725 3.11): access tokens are RFC 9068 JWT access tokens; refresh
# tokens get a type of their own that no access-token verifier accepts.
TOKEN_TYP: Final[dict[TokenType, str]] = {"access": "at+jwt", "refresh": "refresh+jwt"}
REQUIRED_CLAIMS: Final = ("sub", "roles", "sid", "type", "exp", "iat", "iss", "aud", "jti")


class TokenClaims(TypedDict):
    """The verified claims of an access or refresh token."""

    sub: str
    roles: list[str]
    sid: str
    type: TokenType
    exp: int
    iat: int
    iss: str
    aud: str
    jti: str


class TokenError(ValueError):
    """A token was refused; `reason` is a stable code, the message never holds the token."""

    reason: ClassVar[str] = "invalid_token"
    message: ClassVar[str] = "token is invalid"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)


class MalformedTokenError(TokenError):
    reason = "malformed"
    message = "token is not a well-formed JWT"


class TokenAlgorithmError(TokenError):
    reason = "algorithm_not_allowed"
    message = "token algorithm is not the configured algorithm"


class UnknownKeyError(TokenError):
    reason = "unknown_key"
    message = "token key id does not match any verification key"


class TokenSignatureError(TokenError):
    reason = "invalid_signature"
    message = "token signature does not verify"


class ExpiredTokenError(TokenError):
    reason = "expired"
    message = "token has expired"


class TokenNotYetValidError(TokenError):
    reason = "not_yet_valid"
    message = "token is not valid yet"


class TokenIssuerError(TokenError):
    reason = "wrong_issuer"
    message = "token issuer is not this service"


class TokenAudienceError(TokenError):
    reason = "wrong_audience"
    message = "token audience is not this service's clients"


class MissingClaimError(TokenError):
    reason = "missing_claim"
    message = "token lacks a required claim"


class WrongTokenTypeError(TokenError):
    reason = "wrong_type"
    message = "token is not of the expected type"


# Most specific first: PyJWT's InvalidSignatureError subclasses DecodeError.
_PYJWT_ERRORS: Final[tuple[tuple[type[jwt.PyJWTError], type[TokenError]], ...]] = (
    (jwt.InvalidSignatureError, TokenSignatureError),
    (jwt.ExpiredSignatureError, ExpiredTokenError),
    (jwt.ImmatureSignatureError, TokenNotYetValidError),
    (jwt.InvalidIssuerError, TokenIssuerError),
    (jwt.InvalidAudienceError, TokenAudienceError),
    (jwt.MissingRequiredClaimError, MissingClaimError),
    (jwt.InvalidAlgorithmError, TokenAlgorithmError),
)


class _CheckedOnceHMAC(HMACAlgorithm):
    """HMACAlgorithm that vets each secret once instead of on every token.

    PyJWT checks an HMAC secret on every encode and decode (that it is not PEM, SSH, DER
    or a JWK): about 25 µs, a third of signing a token. The secrets given here are our
    own keyring's, checked the same way the first time they are used.
    """

    def __init__(self, hash_alg: Any) -> None:
        super().__init__(hash_alg)
        self._checked: dict[bytes, bytes] = {}

    def prepare_key(self, key: str | bytes) -> bytes:
        if not isinstance(key, bytes):
            return super().prepare_key(key)
        prepared = self._checked.get(key)
        if prepared is None:
            prepared = super().prepare_key(key)
            if len(self._checked) < _MAX_CHECKED_SECRETS:
                self._checked[key] = prepared
        return prepared


_BASE64URL_ALPHABET: Final = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


class _Segments(PyJWS):
    """PyJWS whose strict base64url check runs in C.

    PyJWT refuses a segment with padding beyond two `=`, a character outside the
    base64url alphabet, an impossible length or a non-canonical encoding; it tests the
    alphabet with a generator over every character, ~35 µs a token on a fast machine,
    a quarter of verifying one. The same checks here, the alphabet by one
    `bytes.translate`.
    """

    @staticmethod
    def _decode_base64url_segment(segment: bytes, name: str) -> bytes:
        stripped = segment.rstrip(b"=")
        padding = len(segment) - len(stripped)
        if (
            padding > 2
            or (padding and len(segment) % 4)
            or len(stripped) % 4 == 1
            or stripped.translate(None, _BASE64URL_ALPHABET)
        ):
            raise jwt.DecodeError(f"Invalid {name} padding")
        try:
            decoded = base64.urlsafe_b64decode(stripped + b"=" * (-len(stripped) % 4))
        except binascii.Error as e:
            raise jwt.DecodeError(f"Invalid {name} padding") from e
        if base64.urlsafe_b64encode(decoded).rstrip(b"=") != stripped:
            raise jwt.DecodeError(f"Invalid {name} padding")  # non-canonical trailing bits
        return decoded


class _Codec(jwt.PyJWT):
    """PyJWT with `_CheckedOnceHMAC` for the HS algorithms and `_Segments`' base64 check."""

    def __init__(self) -> None:
        super().__init__()
        self._jws = _Segments(options=self._get_sig_options())
        for name, hash_alg in HMAC_ALGORITHMS.items():
            self._jws.unregister_algorithm(name)
            self._jws.register_algorithm(name, _CheckedOnceHMAC(hash_alg))


def _translate(exc: jwt.PyJWTError) -> TokenError:
    for source, target in _PYJWT_ERRORS:
        if isinstance(exc, source):
            if isinstance(exc, jwt.MissingRequiredClaimError):
                return MissingClaimError(f"token lacks the required claim {exc.claim!r}")
            return target()
    return MalformedTokenError()


def _claims(payload: dict[str, Any], expected: TokenType) -> TokenClaims:
    """Check the types of our own claims (PyJWT checks exp/iat/iss/aud)."""
    roles = payload["roles"]
    strings = (payload["sub"], payload["sid"], payload["jti"])
    if not all(isinstance(value, str) and value for value in strings):
        raise MalformedTokenError("token sub, sid and jti must be non-empty strings")
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        raise MalformedTokenError("token roles must be a list of strings")
    if payload["type"] != expected:
        raise WrongTokenTypeError(f"token is not an {expected} token")
    return TokenClaims(
        sub=payload["sub"],
        roles=roles,
        sid=payload["sid"],
        type=expected,
        exp=int(payload["exp"]),
        iat=int(payload["iat"]),
        iss=payload["iss"],
        aud=payload["aud"],
        jti=payload["jti"],
    )


class JWTService:
    """Issues and verifies the service's access and refresh tokens."""

    def __init__(
        self,
        *,
        access_keys: Keyring,
        refresh_keys: Keyring,
        issuer: str,
        audience: str,
        access_ttl: timedelta,
        refresh_ttl: timedelta,
        leeway_seconds: int = 0,
        refresh_audience: str | None = None,
    ) -> None:
        if access_keys.algorithm != refresh_keys.algorithm:
            raise ValueError("access and refresh keyrings must share the algorithm")
        self.algorithm = access_keys.algorithm
        self._keyrings: dict[TokenType, Keyring] = {
            "access": access_keys,
            "refresh": refresh_keys,
        }
        self.issuer = issuer
        self.audience = audience
        # Refresh tokens are for this service alone (RFC 8725 3.12): their audience is the
        # issuer, so a verifier expecting the clients' audience refuses them.
        self.refresh_audience = refresh_audience or issuer
        if self.refresh_audience == audience:
            raise ValueError("refresh tokens need an audience of their own")
        self._audiences: dict[TokenType, str] = {
            "access": audience,
            "refresh": self.refresh_audience,
        }
        self.access_token_ttl_seconds = int(access_ttl.total_seconds())
        self.refresh_token_ttl_seconds = int(refresh_ttl.total_seconds())
        self.leeway_seconds = leeway_seconds
        self._headers: dict[str, dict[str, Any]] = {}
        self._verified: dict[str, TokenClaims] = {}
        self._codec = _Codec()

    @classmethod
    def from_settings(cls, settings: Settings) -> JWTService:
        """Build from Settings; raises `KeyConfigurationError` for unusable keys."""
        algorithm = settings.JWT_ALGORITHM

        def keyring(prefix: str) -> Keyring:
            current = getattr(settings, f"{prefix}_SIGNING_KEY").get_secret_value()
            previous = [
                key.get_secret_value() for key in getattr(settings, f"{prefix}_PREVIOUS_KEYS")
            ]
            return Keyring.load(algorithm, current, previous, prefix=prefix)

        return cls(
            access_keys=keyring("ACCESS_TOKEN"),
            refresh_keys=keyring("REFRESH_TOKEN"),
            issuer=settings.project_identifier,
            audience=settings.project_client_identifier,
            access_ttl=settings.access_token_timedelta,
            refresh_ttl=settings.refresh_token_timedelta,
            leeway_seconds=settings.JWT_LEEWAY_SECONDS,
        )

    def _encode(
        self,
        token_type: TokenType,
        user_id: uuid.UUID | str,
        roles: Sequence[str],
        session_id: uuid.UUID | str,
        ttl_seconds: int,
    ) -> str:
        now = int(time.time())
        payload = {
            "sub": str(user_id),
            "roles": list(roles),
            "sid": str(session_id),
            "type": token_type,
            "iat": now,
            "exp": now + ttl_seconds,
            "iss": self.issuer,
            "aud": self._audiences[token_type],
            "jti": new_token_id(),
        }
        signing = self._keyrings[token_type].signing
        headers = {"kid": signing.kid, "typ": TOKEN_TYP[token_type]}
        return self._codec.encode(payload, signing.key, algorithm=self.algorithm, headers=headers)

    def create_access_token(
        self, user_id: uuid.UUID | str, roles: Sequence[str], session_id: uuid.UUID | str
    ) -> str:
        """A short-lived token that authenticates requests for one session."""
        return self._encode("access", user_id, roles, session_id, self.access_token_ttl_seconds)

    def create_refresh_token(
        self, user_id: uuid.UUID | str, roles: Sequence[str], session_id: uuid.UUID | str
    ) -> str:
        """A long-lived token that can only be exchanged for a new pair."""
        return self._encode("refresh", user_id, roles, session_id, self.refresh_token_ttl_seconds)

    def decode_access_token(self, token: str) -> TokenClaims:
        """Verify an access token; raises a `TokenError` subclass.

        A client sends the same access token with every request for its lifetime, so
        tokens verified once are remembered (bounded, oldest dropped first) until they
        expire: the same string cannot verify differently later, except for expiry,
        which is checked on every use. Treat the claims returned as read-only.
        """
        remembered = self._verified.get(token)
        if remembered is not None:
            if remembered["exp"] + self.leeway_seconds > time.time():
                return remembered
            del self._verified[token]
            raise ExpiredTokenError()
        claims = self._decode(token, "access")
        if len(self._verified) >= _MAX_REMEMBERED_TOKENS:
            del self._verified[next(iter(self._verified))]
        self._verified[token] = claims
        return claims

    def decode_refresh_token(self, token: str) -> TokenClaims:
        """Verify a refresh token; raises a `TokenError` subclass."""
        return self._decode(token, "refresh")

    def _decode(self, token: str, expected: TokenType) -> TokenClaims:
        header = self._header(token)
        if header.get("alg") != self.algorithm:
            raise TokenAlgorithmError()
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.lower() != TOKEN_TYP[expected]:
            raise WrongTokenTypeError(f"token is not typed as an {expected} token")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise UnknownKeyError("token has no key id")
        key = self._keyrings[expected].verification.get(kid)
        if key is None:
            other: TokenType = "refresh" if expected == "access" else "access"
            if kid in self._keyrings[other].verification:
                raise WrongTokenTypeError(f"{other} token used as an {expected} token")
            raise UnknownKeyError()
        try:
            payload = self._codec.decode(
                token,
                key.key,
                algorithms=[self.algorithm],
                audience=self._audiences[expected],
                issuer=self.issuer,
                leeway=self.leeway_seconds,
                options={"require": list(REQUIRED_CLAIMS), "strict_aud": True},
            )
        except jwt.PyJWTError as exc:
            raise _translate(exc) from exc
        return _claims(payload, expected)

    def _header(self, token: str) -> dict[str, Any]:
        """The token's JOSE header, parsed once per distinct header rather than per token.

        Our tokens carry one of a few headers (one per signing key), so the encoded
        header segment repeats; PyJWT parses the whole token again when it verifies it.
        Only headers naming one of our keys are remembered, and only a bounded number.
        """
        segment = token.partition(".")[0]
        header = self._headers.get(segment)
        if header is not None:
            return header
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise MalformedTokenError() from exc
        kid = header.get("kid")
        known = any(kid in keyring.verification for keyring in self._keyrings.values())
        if known and len(self._headers) < _MAX_REMEMBERED_HEADERS:
            self._headers[segment] = header
        return header

    def public_jwks(self) -> list[dict[str, str]] | None:
        """Public JWKs of the access-token verification keys; None for HMAC.

        Refresh keys are never published: only this service verifies refresh tokens,
        and a published key would let other verifiers accept them.
        """
        if not is_asymmetric(self.algorithm):
            return None
        return list(self._keyrings["access"].public_jwks())
