"""PEM keys generated once per test run, for the JWT and JWKS tests."""

from __future__ import annotations

from functools import cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes


def _private_pem(key: PrivateKeyTypes) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@cache
def private_pem(algorithm: str, index: int = 0) -> str:
    """A distinct private key per (algorithm, index): RS256, ES256 or EdDSA."""
    del index  # only part of the cache key
    if algorithm == "RS256":
        return _private_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    if algorithm == "ES256":
        return _private_pem(ec.generate_private_key(ec.SECP256R1()))
    if algorithm == "EdDSA":
        return _private_pem(ed25519.Ed25519PrivateKey.generate())
    raise ValueError(algorithm)


def public_pem(private: str) -> str:
    key = serialization.load_pem_private_key(private.encode(), password=None)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
