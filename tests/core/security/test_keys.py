"""Key loading: what each algorithm accepts, kids, rotation lists, startup findings."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from app.core.audit import find_insecure_settings
from app.core.config import Settings
from app.core.security import KeyConfigurationError, Keyring
from tests.core.pem_keys import private_pem, public_pem

SECRET = "s" * 64


def bare(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def pem_of(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.mark.parametrize(
    ("algorithm", "key", "problem"),
    [
        ("HS256", "x" * 31, "31 bytes"),
        ("HS384", "x" * 47, "needs at least 48"),
        ("HS512", "x" * 63, "needs at least 64"),
        ("HS256", "PEM", "is a PEM key"),
        ("RS256", "not a pem", "not an unencrypted PEM private key"),
        ("RS256", "ES256", "not an RSA key"),
        ("ES256", "RS256", "not a P-256 EC key"),
        ("EdDSA", "ES256", "not an Ed25519/Ed448 key"),
        ("RS256", "RSA1024", "1024-bit RSA key"),
        ("ES256", "P384", "not a P-256 EC key"),
        ("RS256", "PUBLIC", "not an unencrypted PEM private key"),
    ],
)
def test_unusable_signing_keys_are_refused(algorithm: str, key: str, problem: str) -> None:
    material = {
        "PEM": private_pem("RS256"),
        "ES256": private_pem("ES256"),
        "RS256": private_pem("RS256"),
        "RSA1024": pem_of(rsa.generate_private_key(public_exponent=65537, key_size=1024)),  # noqa: S505 (too short on purpose)
        "P384": pem_of(ec.generate_private_key(ec.SECP384R1())),
        "PUBLIC": public_pem(private_pem("RS256")),
    }.get(key, key)
    with pytest.raises(KeyConfigurationError) as caught:
        Keyring.load(algorithm, material, prefix="ACCESS_TOKEN")
    assert caught.value.variable == "ACCESS_TOKEN_SIGNING_KEY"
    assert problem in caught.value.problem
    assert material not in str(caught.value)


def test_encrypted_pem_is_refused() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"),
    ).decode()
    with pytest.raises(KeyConfigurationError, match="unencrypted"):
        Keyring.load("RS256", encrypted)


def test_previous_keys_are_checked_and_named_by_index() -> None:
    with pytest.raises(KeyConfigurationError) as caught:
        Keyring.load(
            "ES256",
            private_pem("ES256"),
            [public_pem(private_pem("ES256", 1)), public_pem(private_pem("RS256"))],
            prefix="REFRESH_TOKEN",
        )
    assert caught.value.variable == "REFRESH_TOKEN_PREVIOUS_KEYS[1]"


def test_kid_is_the_rfc7638_thumbprint() -> None:
    pem = private_pem("RS256")
    public = serialization.load_pem_public_key(public_pem(pem).encode())
    assert isinstance(public, rsa.RSAPublicKey)
    numbers = public.public_numbers()

    def b64int(value: int) -> str:
        raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    canonical = json.dumps(
        {"e": b64int(numbers.e), "kty": "RSA", "n": b64int(numbers.n)}, separators=(",", ":")
    )
    expected = base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest())
    keyring = Keyring.load("RS256", pem)
    assert keyring.signing.kid == expected.rstrip(b"=").decode()
    # The same key listed as a previous key keeps its kid, so old tokens still find it.
    assert keyring.signing.kid in Keyring.load("RS256", private_pem("RS256", 1), [pem]).verification


def test_hmac_kid_is_stable_and_does_not_reveal_the_secret() -> None:
    kid = Keyring.load("HS256", SECRET).signing.kid
    assert kid == Keyring.load("HS512", "t" * 64, [SECRET]).verification[kid].kid
    assert SECRET not in kid
    assert kid != Keyring.load("HS256", "t" * 64).signing.kid


def findings(settings: Settings) -> dict[str, str]:
    return {finding.variable: finding.problem for finding in find_insecure_settings(settings)}


def test_asymmetric_algorithm_without_keys_is_flagged() -> None:
    assert set(findings(bare(JWT_ALGORITHM="RS256", CORS_ALLOW_CREDENTIALS=False))) == {
        "ACCESS_TOKEN_SIGNING_KEY",
        "REFRESH_TOKEN_SIGNING_KEY",
    }


def test_invalid_pem_and_wrong_key_type_are_flagged() -> None:
    found = findings(
        bare(
            JWT_ALGORITHM="ES256",
            ACCESS_TOKEN_SIGNING_KEY="-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----",
            REFRESH_TOKEN_SIGNING_KEY=private_pem("RS256"),
            CORS_ALLOW_CREDENTIALS=False,
        )
    )
    assert "not an unencrypted PEM private key" in found["ACCESS_TOKEN_SIGNING_KEY"]
    assert "not a P-256 EC key" in found["REFRESH_TOKEN_SIGNING_KEY"]


def test_invalid_previous_key_is_flagged() -> None:
    found = findings(
        bare(
            JWT_ALGORITHM="RS256",
            ACCESS_TOKEN_SIGNING_KEY=private_pem("RS256"),
            REFRESH_TOKEN_SIGNING_KEY=private_pem("RS256", 1),
            REFRESH_TOKEN_PREVIOUS_KEYS="not-a-key",
            CORS_ALLOW_CREDENTIALS=False,
        )
    )
    assert set(found) == {"REFRESH_TOKEN_PREVIOUS_KEYS[0]"}


def test_valid_asymmetric_keys_pass() -> None:
    settings = bare(
        JWT_ALGORITHM="ES256",
        ACCESS_TOKEN_SIGNING_KEY=private_pem("ES256"),
        REFRESH_TOKEN_SIGNING_KEY=private_pem("ES256", 1),
        ACCESS_TOKEN_PREVIOUS_KEYS=json.dumps([public_pem(private_pem("ES256", 2))]),
        CORS_ALLOW_CREDENTIALS=False,
    )
    assert findings(settings) == {}


def test_hs512_needs_a_64_byte_secret() -> None:
    found = findings(
        bare(
            JWT_ALGORITHM="HS512",
            ACCESS_TOKEN_SIGNING_KEY="a" * 40,
            REFRESH_TOKEN_SIGNING_KEY="b" * 64,
            CORS_ALLOW_CREDENTIALS=False,
        )
    )
    assert set(found) == {"ACCESS_TOKEN_SIGNING_KEY"}
