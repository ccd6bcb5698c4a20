"""Signing and verification keys for JWTs: loading, key ids, and public JWKs.

A `Keyring` holds the one key that signs new tokens and every key that still verifies
them (the current one and the previous ones listed for rotation), indexed by `kid`.
The algorithm is bound to the keyring, never read from a token, so a token can only
choose among our keys, not how they are interpreted (no HS/RS confusion).

Key ids are derived from the key material, so a key keeps its `kid` when it moves from
"current" to "previous": asymmetric keys use the RFC 7638 JWK thumbprint of the public
key; HMAC secrets use an HMAC of a fixed label, which reveals nothing about the secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import (
    load_pem_private_key,
    load_pem_public_key,
)
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

PrivateKey: TypeAlias = (
    rsa.RSAPrivateKey
    | ec.EllipticCurvePrivateKey
    | ed25519.Ed25519PrivateKey
    | ed448.Ed448PrivateKey
)
PublicKey: TypeAlias = (
    rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | ed448.Ed448PublicKey
)

HMAC_ALGORITHMS: Final = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
ASYMMETRIC_ALGORITHMS: Final = frozenset({"RS256", "ES256", "EdDSA"})
RSA_MIN_BITS: Final = 2048
# RFC 7638 section 3.2: the members of the thumbprint's canonical JSON, per key type.
_THUMBPRINT_MEMBERS: Final = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y")}
_OKP_MEMBERS: Final = ("crv", "kty", "x")


class KeyConfigurationError(ValueError):
    """A configured key cannot be used with the configured algorithm.

    `variable` names the setting and `problem` says what is wrong; neither holds the key.
    """

    def __init__(self, variable: str, problem: str) -> None:
        self.variable = variable
        self.problem = problem
        super().__init__(f"{variable} {problem}")


def is_asymmetric(algorithm: str) -> bool:
    return algorithm in ASYMMETRIC_ALGORITHMS


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _looks_like_pem(text: str) -> bool:
    return "-----BEGIN" in text


@dataclass(frozen=True, slots=True)
class VerificationKey:
    """A key that verifies signatures: an HMAC secret or a public key (with its JWK)."""

    kid: str
    key: bytes | PublicKey
    jwk: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class SigningKey:
    """The key that signs new tokens, with the `kid` written into their header."""

    kid: str
    key: bytes | PrivateKey


def _hmac_secret(algorithm: str, text: str, label: str) -> bytes:
    secret = text.encode()
    digest = HMAC_ALGORITHMS[algorithm]
    minimum = digest().digest_size
    if _looks_like_pem(text):
        raise KeyConfigurationError(label, f"is a PEM key, not an HMAC secret for {algorithm}")
    if len(secret) < minimum:
        raise KeyConfigurationError(
            label, f"is {len(secret)} bytes; {algorithm} needs at least {minimum} (RFC 7518 3.2)"
        )
    return secret


def _hmac_kid(secret: bytes) -> str:
    return _b64url(hmac.new(secret, b"jwt-key-id", hashlib.sha256).digest()[:12])


def _check_key_type(algorithm: str, public: PublicKey, label: str) -> None:
    if algorithm == "RS256":
        if not isinstance(public, rsa.RSAPublicKey):
            raise KeyConfigurationError(label, "is not an RSA key, as RS256 needs")
        if public.key_size < RSA_MIN_BITS:
            raise KeyConfigurationError(
                label, f"is a {public.key_size}-bit RSA key; at least {RSA_MIN_BITS} bits"
            )
    elif algorithm == "ES256":
        if not isinstance(public, ec.EllipticCurvePublicKey) or public.curve.name != "secp256r1":
            raise KeyConfigurationError(label, "is not a P-256 EC key, as ES256 needs")
    elif not isinstance(public, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        raise KeyConfigurationError(label, "is not an Ed25519/Ed448 key, as EdDSA needs")


def public_jwk(algorithm: str, public: PublicKey) -> dict[str, str]:
    """The public JWK (RFC 7517) of a key, with its thumbprint as `kid`."""
    if isinstance(public, rsa.RSAPublicKey):
        raw: Mapping[str, Any] = RSAAlgorithm.to_jwk(public, as_dict=True)
    elif isinstance(public, ec.EllipticCurvePublicKey):
        raw = ECAlgorithm.to_jwk(public, as_dict=True)
    else:
        raw = OKPAlgorithm.to_jwk(public, as_dict=True)
    members = _THUMBPRINT_MEMBERS.get(raw["kty"], _OKP_MEMBERS)
    canonical = json.dumps({name: raw[name] for name in members}, separators=(",", ":"))
    kid = _b64url(hashlib.sha256(canonical.encode()).digest())
    return {
        **{name: str(raw[name]) for name in members},
        "kid": kid,
        "alg": algorithm,
        "use": "sig",
    }


def _load_private(algorithm: str, text: str, label: str) -> PrivateKey:
    try:
        key = load_pem_private_key(text.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise KeyConfigurationError(
            label, f"is not an unencrypted PEM private key for {algorithm}"
        ) from exc
    if not isinstance(key, PrivateKey):
        raise KeyConfigurationError(label, f"is not a key type {algorithm} can use")
    _check_key_type(algorithm, key.public_key(), label)
    return key


def _load_public(algorithm: str, text: str, label: str) -> PublicKey:
    """A previous key may be given as its public key or as the old private key."""
    if "PRIVATE KEY" in text:
        return _load_private(algorithm, text, label).public_key()
    try:
        key = load_pem_public_key(text.encode())
    except (ValueError, TypeError) as exc:
        raise KeyConfigurationError(label, f"is not a PEM public key for {algorithm}") from exc
    if not isinstance(key, PublicKey):
        raise KeyConfigurationError(label, f"is not a key type {algorithm} can use")
    _check_key_type(algorithm, key, label)
    return key


def _verification_key(algorithm: str, text: str, label: str) -> VerificationKey:
    if is_asymmetric(algorithm):
        public = _load_public(algorithm, text, label)
        jwk = public_jwk(algorithm, public)
        return VerificationKey(jwk["kid"], public, jwk)
    secret = _hmac_secret(algorithm, text, label)
    return VerificationKey(_hmac_kid(secret), secret)


@dataclass(frozen=True, slots=True)
class Keyring:
    """One token kind's keys: the signer and every verifier still accepted, by `kid`."""

    algorithm: str
    signing: SigningKey
    verification: Mapping[str, VerificationKey]

    @classmethod
    def load(
        cls, algorithm: str, current: str, previous: Sequence[str] = (), *, prefix: str = "TOKEN"
    ) -> Keyring:
        """Parse the current key (secret or PEM private key) and the previous ones.

        Raises `KeyConfigurationError` naming the setting (`{prefix}_SIGNING_KEY`,
        `{prefix}_PREVIOUS_KEYS`) and what is wrong, never the key.
        """
        name = f"{prefix}_SIGNING_KEY"
        if algorithm not in HMAC_ALGORITHMS and not is_asymmetric(algorithm):
            raise KeyConfigurationError("JWT_ALGORITHM", f"{algorithm!r} is not supported")
        if is_asymmetric(algorithm):
            private = _load_private(algorithm, current, name)
            jwk = public_jwk(algorithm, private.public_key())
            signing = SigningKey(jwk["kid"], private)
            current_verifier = VerificationKey(jwk["kid"], private.public_key(), jwk)
        else:
            secret = _hmac_secret(algorithm, current, name)
            signing = SigningKey(_hmac_kid(secret), secret)
            current_verifier = VerificationKey(signing.kid, secret)
        verifiers = {current_verifier.kid: current_verifier}
        for index, text in enumerate(previous):
            label = f"{prefix}_PREVIOUS_KEYS"
            verifier = _verification_key(algorithm, text, f"{label}[{index}]")
            verifiers.setdefault(verifier.kid, verifier)
        return cls(algorithm, signing, verifiers)

    def public_jwks(self) -> list[dict[str, str]]:
        """The public JWKs of every verification key; empty for HMAC."""
        return [dict(key.jwk) for key in self.verification.values() if key.jwk is not None]


def find_key_problem(
    algorithm: str, current: str, previous: Sequence[str] = (), *, prefix: str = "TOKEN"
) -> KeyConfigurationError | None:
    """The first reason these keys cannot be used with `algorithm`, or None."""
    try:
        Keyring.load(algorithm, current, previous, prefix=prefix)
    except KeyConfigurationError as exc:
        return exc
    return None
