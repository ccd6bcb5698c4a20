"""Signing keys: `python -m app.cli keys generate`, and what it is made of (app.cli.keygen)."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from app.cli.keygen import hmac_secret, pem_pair, private_key, write_new_file
from app.core.audit import audit_settings
from app.core.config import Settings
from tests.auth.conftest import bearer, signed_in
from tests.cli.conftest import SOUND_PRODUCTION, ClientFactory, CliRunner


def test_keys_generate_prints_a_secret_the_audit_accepts(run_cli: CliRunner) -> None:
    first, second = run_cli("keys", "generate"), run_cli("keys", "generate")
    assert first.returncode == second.returncode == 0
    access, refresh = first.stdout.strip(), second.stdout.strip()
    assert access != refresh
    assert len(access.encode()) >= 64  # enough for HS512
    values = {
        **SOUND_PRODUCTION,
        "ACCESS_TOKEN_SIGNING_KEY": access,
        "REFRESH_TOKEN_SIGNING_KEY": refresh,
        "JWT_ALGORITHM": "HS512",
    }
    settings = Settings(_env_file=None, **values)
    assert audit_settings(settings) == []


def test_keys_generate_writes_a_secret_file_only_its_owner_reads(
    run_cli: CliRunner, tmp_path: Path
) -> None:
    result = run_cli("keys", "generate", "--out", str(tmp_path / "keys"), "--name", "refresh")
    assert result.returncode == 0, result.stderr
    path = tmp_path / "keys" / "refresh.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "REFRESH_TOKEN_SIGNING_KEY_FILE=" in result.stdout


@pytest.mark.parametrize("algorithm", ["RS256", "ES256", "EdDSA"])
async def test_generated_key_pairs_sign_tokens_the_service_accepts(
    run_cli: CliRunner, make_client: ClientFactory, tmp_path: Path, algorithm: str
) -> None:
    out = tmp_path / "keys"
    for name in ("access", "refresh"):
        result = run_cli(
            "keys", "generate", "--algorithm", algorithm, "--out", str(out), "--name", name
        )
        assert result.returncode == 0, result.stderr
        assert stat.S_IMODE((out / f"{name}.pem").stat().st_mode) == 0o600
        assert stat.S_IMODE((out / f"{name}.pub.pem").stat().st_mode) == 0o644
    keys = {
        "ACCESS_TOKEN_SIGNING_KEY": (out / "access.pem").read_text(),
        "REFRESH_TOKEN_SIGNING_KEY": (out / "refresh.pem").read_text(),
    }
    assert (
        audit_settings(
            Settings(_env_file=None, **{**SOUND_PRODUCTION, **keys, "JWT_ALGORITHM": algorithm})
        )
        == []
    )
    async with make_client(JWT_ALGORITHM=algorithm, **keys) as client:
        session = await signed_in(client)
        me = await client.get("/api/auth/me", headers=bearer(session["access_token"]))
    assert me.status_code == 200


def test_keys_generate_never_overwrites_a_key(run_cli: CliRunner, tmp_path: Path) -> None:
    out = str(tmp_path / "keys")
    assert run_cli("keys", "generate", "--algorithm", "ES256", "--out", out).returncode == 0
    before = (tmp_path / "keys" / "access.pem").read_text()
    again = run_cli("keys", "generate", "--algorithm", "ES256", "--out", out)
    assert again.returncode == 1
    assert "exists" in again.stderr
    assert (tmp_path / "keys" / "access.pem").read_text() == before


# What `keys generate` is made of, called in process (app.cli.keygen alone).


def test_hmac_secrets_are_long_enough_for_hs512_and_never_repeat() -> None:
    secrets = {hmac_secret() for _ in range(20)}
    assert len(secrets) == 20
    for secret in secrets:
        assert len(base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))) == 64


@pytest.mark.parametrize(
    ("algorithm", "kind"),
    [
        ("RS256", rsa.RSAPrivateKey),
        ("ES256", ec.EllipticCurvePrivateKey),
        ("EdDSA", ed25519.Ed25519PrivateKey),
    ],
)
def test_a_key_pair_of_each_asymmetric_algorithm(algorithm: str, kind: type) -> None:
    key = private_key(algorithm)
    assert isinstance(key, kind)
    if isinstance(key, rsa.RSAPrivateKey):
        assert key.key_size == 3072
    if isinstance(key, ec.EllipticCurvePrivateKey):
        assert key.curve.name == "secp256r1"


def test_an_hmac_algorithm_has_no_key_pair() -> None:
    with pytest.raises(ValueError, match="HS256 has no key pair"):
        private_key("HS256")


def test_the_pem_pair_holds_the_key_and_its_public_half() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    private, public = pem_pair(key)
    assert private.startswith("-----BEGIN PRIVATE KEY-----")  # PKCS#8, unencrypted
    assert public.startswith("-----BEGIN PUBLIC KEY-----")
    loaded = serialization.load_pem_private_key(private.encode(), password=None)
    assert isinstance(loaded, ec.EllipticCurvePrivateKey)
    assert loaded.private_numbers() == key.private_numbers()
    public_key = serialization.load_pem_public_key(public.encode())
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    assert public_key.public_numbers() == key.public_key().public_numbers()


@pytest.mark.parametrize("umask", [0o000, 0o077])
@pytest.mark.parametrize("mode", [0o600, 0o644])
def test_a_new_file_gets_exactly_its_mode_whatever_the_umask(
    tmp_path: Path, umask: int, mode: int
) -> None:
    path = tmp_path / "key.pem"
    previous = os.umask(umask)
    try:
        write_new_file(path, "secret\n", mode)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert path.read_text() == "secret\n"


def test_an_existing_file_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    path.write_text("the old key")
    with pytest.raises(FileExistsError):
        write_new_file(path, "a new key", 0o600)
    assert path.read_text() == "the old key"
