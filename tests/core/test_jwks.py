"""`GET /.well-known/jwks.json`: the public keys that verify our tokens, over HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from tests.core.pem_keys import private_pem, public_pem

ClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]
ACCOUNT = {"email": "outside@example.com", "password": "correct horse battery staple"}
USER, SESSION = "0b7c7f5e-0000-4000-8000-000000000001", "0b7c7f5e-0000-4000-8000-000000000002"


def asymmetric(algorithm: str, **extra: Any) -> dict[str, Any]:
    return {
        "JWT_ALGORITHM": algorithm,
        "ACCESS_TOKEN_SIGNING_KEY": private_pem(algorithm),
        "REFRESH_TOKEN_SIGNING_KEY": private_pem(algorithm, 1),
        **extra,
    }


async def test_jwks_publishes_the_public_keys_that_verify_our_tokens(
    make_client: ClientFactory, app_of: Callable[[httpx.AsyncClient], Any]
) -> None:
    previous = public_pem(private_pem("RS256", 2))
    async with make_client(**asymmetric("RS256", ACCESS_TOKEN_PREVIOUS_KEYS=previous)) as client:
        response = await client.get("/.well-known/jwks.json")
        token = app_of(client).state.jwt_service.create_access_token(USER, ["user"], SESSION)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=300"
    keys = response.json()["keys"]
    assert len(keys) == 2  # access current + previous; refresh keys are never published
    assert all(key["kty"] == "RSA" and key["alg"] == "RS256" for key in keys)
    assert all("d" not in key and "p" not in key for key in keys)  # no private members

    # An independent verifier needs nothing but the JWKS.
    kid = jwt.get_unverified_header(token)["kid"]
    published = jwt.PyJWKSet.from_dict({"keys": keys})[kid]
    claims = jwt.decode(
        token, published, algorithms=["RS256"], audience="fastapi-service-core-client"
    )
    assert claims["sub"] == USER


async def test_jwks_for_eddsa_lists_okp_keys(make_client: ClientFactory) -> None:
    async with make_client(**asymmetric("EdDSA")) as client:
        keys = (await client.get("/.well-known/jwks.json")).json()["keys"]
    assert {(key["kty"], key["crv"]) for key in keys} == {("OKP", "Ed25519")}
    assert len({key["kid"] for key in keys}) == 1


@pytest.mark.parametrize("algorithm", ["RS256", "ES256", "EdDSA"])
@pytest.mark.parametrize("same_key", [False, True])
async def test_a_verifier_using_our_jwks_accepts_access_tokens_and_never_refresh_tokens(
    make_client: ClientFactory, algorithm: str, same_key: bool
) -> None:
    """An outside service verifying with PyJWT, our JWKS, iss and aud, as RFC 9068 tells it.

    `same_key`: even an operator who signs both kinds with one key is covered, since
    refresh tokens carry their own audience and type.
    """
    settings = asymmetric(algorithm)
    if same_key:
        settings["REFRESH_TOKEN_SIGNING_KEY"] = settings["ACCESS_TOKEN_SIGNING_KEY"]
    async with make_client(**settings) as client:
        await client.post("/api/auth/register", json=ACCOUNT)
        pair = (await client.post("/api/auth/login", json=ACCOUNT)).json()["data"]
        published = jwt.PyJWKSet.from_dict((await client.get("/.well-known/jwks.json")).json())

    def verify(token: str, key: jwt.PyJWK) -> dict[str, Any]:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            issuer="fastapi-service-core",
            audience="fastapi-service-core-client",
        )
        return claims

    access_header = jwt.get_unverified_header(pair["access_token"])
    assert access_header["typ"] == "at+jwt"
    assert (
        verify(pair["access_token"], published[access_header["kid"]])["sid"] == pair["session_id"]
    )
    # A verifier that ignores kid and tries every published key still refuses it.
    for key in published.keys:
        with pytest.raises(jwt.InvalidTokenError):
            verify(pair["refresh_token"], key)
    assert jwt.get_unverified_header(pair["refresh_token"])["typ"] != "at+jwt"


async def test_jwks_is_404_problem_for_hmac(client: httpx.AsyncClient) -> None:
    response = await client.get("/.well-known/jwks.json")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 404
    assert body["instance"] == "/.well-known/jwks.json"


# RFC 7518 6.2.2, 6.3.2 and RFC 8037 2: the members that hold private key material.
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
ASYMMETRIC = ["RS256", "ES256", "EdDSA"]


def _with_previous(algorithm: str) -> dict[str, Any]:
    return asymmetric(algorithm, ACCESS_TOKEN_PREVIOUS_KEYS=public_pem(private_pem(algorithm, 2)))


def _public_jwk(pem: str, algorithm: str) -> dict[str, Any]:
    """The public JWK of a public PEM key, as an independent tool writes it."""
    key: Any = serialization.load_pem_public_key(pem.encode())
    jwk: dict[str, Any] = json.loads(jwt.get_algorithm_by_name(algorithm).to_jwk(key))
    return jwk


def _material(jwk: dict[str, Any]) -> tuple[Any, ...]:
    """The members that identify a public key: modulus and exponent, or its curve points."""
    return tuple(jwk.get(member) for member in ("n", "e", "crv", "x", "y"))


@pytest.mark.parametrize("algorithm", ASYMMETRIC)
async def test_the_document_holds_the_current_and_previous_access_keys_and_no_other(
    make_client: ClientFactory, algorithm: str
) -> None:
    settings = _with_previous(algorithm)
    async with make_client(**settings) as client:
        response = await client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    published = {_material(key) for key in response.json()["keys"]}

    current = _public_jwk(public_pem(settings["ACCESS_TOKEN_SIGNING_KEY"]), algorithm)
    previous = _public_jwk(settings["ACCESS_TOKEN_PREVIOUS_KEYS"], algorithm)
    refresh = _public_jwk(public_pem(settings["REFRESH_TOKEN_SIGNING_KEY"]), algorithm)
    assert published == {_material(current), _material(previous)}
    assert _material(refresh) not in published


@pytest.mark.parametrize("algorithm", ASYMMETRIC)
async def test_no_key_carries_private_material(make_client: ClientFactory, algorithm: str) -> None:
    async with make_client(**_with_previous(algorithm)) as client:
        document = (await client.get("/.well-known/jwks.json")).json()
    assert set(document) == {"keys"}
    for key in document["keys"]:
        assert not PRIVATE_MEMBERS & set(key), key
        assert key["kid"]
        assert key["alg"] == algorithm
        loaded = jwt.PyJWK(key).key
        assert not hasattr(loaded, "private_bytes")  # a public key object, nothing to sign with
    assert len({key["kid"] for key in document["keys"]}) == len(document["keys"])
