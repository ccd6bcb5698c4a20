"""Password hashing (Argon2id) and JWT token services.

`passwords` keeps Argon2 off the event loop, `tokens` issues and strictly decodes JWTs,
`keys` loads signing/verification keys and their public JWKs.
"""

from app.core.security.keys import KeyConfigurationError, Keyring
from app.core.security.passwords import PasswordPolicyError, PasswordSecurity
from app.core.security.tokens import (
    ExpiredTokenError,
    JWTService,
    MalformedTokenError,
    MissingClaimError,
    TokenAlgorithmError,
    TokenAudienceError,
    TokenClaims,
    TokenError,
    TokenIssuerError,
    TokenNotYetValidError,
    TokenSignatureError,
    TokenType,
    UnknownKeyError,
    WrongTokenTypeError,
)

__all__ = [
    "ExpiredTokenError",
    "JWTService",
    "KeyConfigurationError",
    "Keyring",
    "MalformedTokenError",
    "MissingClaimError",
    "PasswordPolicyError",
    "PasswordSecurity",
    "TokenAlgorithmError",
    "TokenAudienceError",
    "TokenClaims",
    "TokenError",
    "TokenIssuerError",
    "TokenNotYetValidError",
    "TokenSignatureError",
    "TokenType",
    "UnknownKeyError",
    "WrongTokenTypeError",
]
