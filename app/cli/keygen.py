"""Signing keys as `keys generate` makes them: an HMAC secret, or a PEM key pair.

Secrets come from `secrets.token_urlsafe` (64 random bytes, enough for HS512). Key pairs
are RSA 3072 (RS256), P-256 (ES256) or Ed25519 (EdDSA), PKCS#8 PEM. Files are created
fresh (an existing file is never overwritten) with mode 0600 for anything secret, so the
production audit's file check passes from the start.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from app.core.security.keys import PrivateKey

HMAC_SECRET_BYTES = 64
RSA_KEY_BITS = 3072  # NIST SP 800-57: 128-bit security through 2030 and beyond
PRIVATE_MODE = 0o600
PUBLIC_MODE = 0o644


def hmac_secret() -> str:
    """A random secret long enough for HS256, HS384 and HS512."""
    return secrets.token_urlsafe(HMAC_SECRET_BYTES)


def private_key(algorithm: str) -> PrivateKey:
    """A new private key for RS256, ES256 or EdDSA."""
    if algorithm == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_BITS)
    if algorithm == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(f"{algorithm} has no key pair; HS* algorithms use a secret")


def pem_pair(key: PrivateKey) -> tuple[str, str]:
    """(private PKCS#8 PEM, public SubjectPublicKeyInfo PEM)."""
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private.decode(), public.decode()


def write_new_file(path: Path, text: str, mode: int) -> None:
    """Create `path` with exactly `mode` (whatever the umask); refuse an existing file."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        os.fchmod(file.fileno(), mode)
        file.write(text)
