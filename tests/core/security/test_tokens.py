"""JWTService: claims it issues, and every way decoding must refuse a token."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from jwt.algorithms import HMACAlgorithm

from app.core.config import Settings
from app.core.security import (
    ExpiredTokenError,
    JWTService,
    MalformedTokenError,
    MissingClaimError,
    TokenAlgorithmError,
    TokenAudienceError,
    TokenError,
    TokenIssuerError,
    TokenNotYetValidError,
    TokenSignatureError,
    UnknownKeyError,
    WrongTokenTypeError,
)
from tests.core.pem_keys import private_pem, public_pem

ISSUER = "token-test"
AUDIENCE = "token-test-client"
HS_ACCESS = "access-" + "a" * 64  # 64 bytes and more: long enough for HS512
HS_REFRESH = "refresh-" + "r" * 64
HS_OTHER = "other-" + "o" * 64
ALGORITHMS = ["HS256", "HS384", "HS512", "RS256", "ES256", "EdDSA"]
USER = uuid.UUID("00000000-0000-4000-8000-000000000001")
SESSION = uuid.UUID("00000000-0000-4000-8000-000000000002")


def keys_for(algorithm: str, index: int) -> str:
    if algorithm.startswith("HS"):
        return (HS_ACCESS, HS_REFRESH, HS_OTHER)[index]
    return private_pem(algorithm, index)


@pytest.fixture
def make_service() -> Callable[..., JWTService]:
    def build(algorithm: str = "HS256", **overrides: Any) -> JWTService:
        values: dict[str, Any] = {
            "PROJECT_NAME": "Token Test",
            "JWT_ALGORITHM": algorithm,
            "ACCESS_TOKEN_SIGNING_KEY": keys_for(algorithm, 0),
            "REFRESH_TOKEN_SIGNING_KEY": keys_for(algorithm, 1),
            **overrides,
        }
        settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
        return JWTService.from_settings(settings)

    return build


AT_JWT = "at+jwt"  # RFC 9068


def header_of(token: str) -> dict[str, Any]:
    header: dict[str, Any] = jwt.get_unverified_header(token)
    return header


def claims(**overrides: Any) -> dict[str, Any]:
    """Valid access claims; pass `name=None` to leave a claim out."""
    now = int(time.time())
    values: dict[str, Any] = {
        "sub": str(USER),
        "roles": ["user"],
        "sid": str(SESSION),
        "type": "access",
        "iat": now,
        "exp": now + 60,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "jti": "jti-1",
        **overrides,
    }
    return {name: value for name, value in values.items() if value is not None}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_with_secret(payload: dict[str, Any], secret: bytes, kid: str) -> str:
    """Sign by hand: PyJWT refuses to use a PEM key as an HMAC secret, an attacker does not."""
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    body = b64(json.dumps(payload).encode())
    signature = hmac.new(secret, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{b64(signature)}"


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_tokens_round_trip_with_every_claim(
    make_service: Callable[..., JWTService], algorithm: str
) -> None:
    service = make_service(algorithm, ACCESS_TOKEN_EXPIRE_MINUTES=7, REFRESH_TOKEN_EXPIRE_DAYS=3)
    before = int(time.time())
    access = service.create_access_token(USER, ["user", "admin"], SESSION)
    refresh = service.create_refresh_token(str(USER), ("user",), str(SESSION))

    decoded = service.decode_access_token(access)
    assert decoded["sub"] == str(USER)
    assert decoded["roles"] == ["user", "admin"]
    assert decoded["sid"] == str(SESSION)
    assert decoded["type"] == "access"
    assert decoded["iss"] == ISSUER
    assert decoded["aud"] == AUDIENCE
    assert before <= decoded["iat"] <= int(time.time())
    assert decoded["exp"] == decoded["iat"] + 7 * 60
    assert decoded["jti"]
    assert service.access_token_ttl_seconds == 7 * 60

    refreshed = service.decode_refresh_token(refresh)
    assert refreshed["type"] == "refresh"
    assert refreshed["exp"] == refreshed["iat"] + 3 * 86400
    assert header_of(access)["alg"] == algorithm
    assert header_of(access)["kid"] != header_of(refresh)["kid"]


def test_every_token_has_its_own_jti(make_service: Callable[..., JWTService]) -> None:
    service = make_service()
    tokens = [service.create_access_token(USER, [], SESSION) for _ in range(3)]
    assert len({service.decode_access_token(token)["jti"] for token in tokens}) == 3


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_wrong_signature_is_refused(
    make_service: Callable[..., JWTService], algorithm: str
) -> None:
    service = make_service(algorithm)
    kid = header_of(service.create_access_token(USER, [], SESSION))["kid"]
    forged = jwt.encode(
        claims(), keys_for(algorithm, 2), algorithm=algorithm, headers={"kid": kid, "typ": AT_JWT}
    )
    with pytest.raises(TokenSignatureError):
        service.decode_access_token(forged)


def test_tampered_payload_is_refused(make_service: Callable[..., JWTService]) -> None:
    service = make_service("ES256")
    header, _, signature = service.create_access_token(USER, ["user"], SESSION).split(".")
    escalated = b64(json.dumps(claims(roles=["admin"])).encode())
    with pytest.raises(TokenSignatureError):
        service.decode_access_token(f"{header}.{escalated}.{signature}")


@pytest.mark.parametrize("algorithm", ["HS256", "RS256"])
def test_alg_none_is_refused(make_service: Callable[..., JWTService], algorithm: str) -> None:
    service = make_service(algorithm)
    kid = header_of(service.create_access_token(USER, [], SESSION))["kid"]
    unsigned = jwt.encode(claims(), None, algorithm="none", headers={"kid": kid, "typ": AT_JWT})
    with pytest.raises(TokenAlgorithmError):
        service.decode_access_token(unsigned)
    with pytest.raises(TokenAlgorithmError):
        service.decode_access_token(unsigned.rstrip(".") + ".")


@pytest.mark.parametrize("algorithm", ["RS256", "ES256", "EdDSA"])
def test_hs256_signed_with_the_public_key_is_refused(
    make_service: Callable[..., JWTService], algorithm: str
) -> None:
    """The classic confusion: the public key (which anyone has) used as an HMAC secret."""
    service = make_service(algorithm)
    kid = header_of(service.create_access_token(USER, [], SESSION))["kid"]
    public = public_pem(keys_for(algorithm, 0))
    forged = hs256_with_secret(claims(), public.encode(), kid)
    with pytest.raises(TokenAlgorithmError):
        service.decode_access_token(forged)
    # And PyJWT itself would not accept a PEM public key as an HMAC secret either.
    with pytest.raises(jwt.InvalidKeyError):
        jwt.decode(forged, public, algorithms=["HS256"], audience=AUDIENCE)


def test_other_algorithm_of_the_same_family_is_refused(
    make_service: Callable[..., JWTService],
) -> None:
    service = make_service("HS512")
    kid = header_of(service.create_access_token(USER, [], SESSION))["kid"]
    weaker = jwt.encode(claims(), HS_ACCESS, algorithm="HS256", headers={"kid": kid, "typ": AT_JWT})
    with pytest.raises(TokenAlgorithmError):
        service.decode_access_token(weaker)


def forge_valid(service: JWTService, algorithm: str, **overrides: Any) -> str:
    """A token signed with the service's real access key, with the given claims."""
    kid = header_of(service.create_access_token(USER, [], SESSION))["kid"]
    return jwt.encode(
        claims(**overrides),
        keys_for(algorithm, 0),
        algorithm=algorithm,
        headers={"kid": kid, "typ": AT_JWT},
    )


@pytest.mark.parametrize("algorithm", ["HS256", "EdDSA"])
def test_forged_valid_claims_decode(
    make_service: Callable[..., JWTService], algorithm: str
) -> None:
    """Control for the tests below: the forging helper itself produces accepted tokens."""
    service = make_service(algorithm, PROJECT_NAME="Token Test")
    assert service.decode_access_token(forge_valid(service, algorithm))["jti"] == "jti-1"


def test_expired_token_is_refused(make_service: Callable[..., JWTService]) -> None:
    service = make_service()
    now = int(time.time())
    with pytest.raises(ExpiredTokenError):
        service.decode_access_token(forge_valid(service, "HS256", iat=now - 120, exp=now - 5))


def test_leeway_tolerates_small_clock_skew(make_service: Callable[..., JWTService]) -> None:
    service = make_service(JWT_LEEWAY_SECONDS=30)
    now = int(time.time())
    assert service.decode_access_token(forge_valid(service, "HS256", exp=now - 5))
    assert service.decode_access_token(forge_valid(service, "HS256", iat=now + 10))
    with pytest.raises(ExpiredTokenError):
        service.decode_access_token(forge_valid(service, "HS256", exp=now - 45))


@pytest.mark.parametrize("claim", ["iat", "nbf"])
def test_token_from_the_future_is_refused(
    make_service: Callable[..., JWTService], claim: str
) -> None:
    service = make_service()
    later = int(time.time()) + 120
    with pytest.raises(TokenNotYetValidError):
        service.decode_access_token(forge_valid(service, "HS256", **{claim: later}))


def test_wrong_issuer_is_refused(make_service: Callable[..., JWTService]) -> None:
    service = make_service()
    with pytest.raises(TokenIssuerError):
        service.decode_access_token(forge_valid(service, "HS256", iss="someone-else"))


@pytest.mark.parametrize("audience", ["someone-else-client", ["token-test-client", "other"]])
def test_wrong_audience_is_refused(
    make_service: Callable[..., JWTService], audience: object
) -> None:
    service = make_service()
    with pytest.raises(TokenAudienceError):
        service.decode_access_token(forge_valid(service, "HS256", aud=audience))


def test_issuer_and_audience_follow_the_project_name(
    make_service: Callable[..., JWTService],
) -> None:
    issued = make_service(PROJECT_NAME="Shop API").create_access_token(USER, [], SESSION)
    payload = jwt.decode(issued, options={"verify_signature": False})
    assert payload["iss"] == "shop-api"
    assert payload["aud"] == "shop-api-client"


@pytest.mark.parametrize(
    "claim", ["sub", "roles", "sid", "type", "exp", "iat", "iss", "aud", "jti"]
)
def test_missing_claim_is_refused(make_service: Callable[..., JWTService], claim: str) -> None:
    service = make_service()
    with pytest.raises(MissingClaimError) as caught:
        service.decode_access_token(forge_valid(service, "HS256", **{claim: None}))
    assert claim in str(caught.value)


@pytest.mark.parametrize(
    "overrides",
    [{"roles": "admin"}, {"roles": [1]}, {"sub": 5}, {"sid": ""}, {"jti": ["x"]}],
)
def test_claims_of_the_wrong_type_are_refused(
    make_service: Callable[..., JWTService], overrides: dict[str, Any]
) -> None:
    service = make_service()
    with pytest.raises(MalformedTokenError):
        service.decode_access_token(forge_valid(service, "HS256", **overrides))


@pytest.mark.parametrize("algorithm", ["HS256", "ES256"])
def test_refresh_token_is_not_an_access_token_and_reverse(
    make_service: Callable[..., JWTService], algorithm: str
) -> None:
    service = make_service(algorithm)
    access = service.create_access_token(USER, [], SESSION)
    refresh = service.create_refresh_token(USER, [], SESSION)
    with pytest.raises(WrongTokenTypeError):
        service.decode_access_token(refresh)
    with pytest.raises(WrongTokenTypeError):
        service.decode_refresh_token(access)


def test_type_claim_separates_tokens_even_with_one_shared_key(
    make_service: Callable[..., JWTService],
) -> None:
    service = make_service(REFRESH_TOKEN_SIGNING_KEY=HS_ACCESS)
    refresh = service.create_refresh_token(USER, [], SESSION)
    assert (
        header_of(refresh)["kid"]
        == header_of(service.create_access_token(USER, [], SESSION))["kid"]
    )
    with pytest.raises(WrongTokenTypeError):
        service.decode_access_token(refresh)


@pytest.mark.parametrize("algorithm", ["HS256", "RS256"])
def test_unknown_or_missing_kid_is_refused(
    make_service: Callable[..., JWTService], algorithm: str
) -> None:
    service = make_service(algorithm)
    key = keys_for(algorithm, 0)
    with pytest.raises(UnknownKeyError):
        service.decode_access_token(
            jwt.encode(
                claims(), key, algorithm=algorithm, headers={"kid": "not-our-key", "typ": AT_JWT}
            )
        )
    with pytest.raises(UnknownKeyError):
        service.decode_access_token(
            jwt.encode(claims(), key, algorithm=algorithm, headers={"typ": AT_JWT})
        )


@pytest.mark.parametrize("algorithm", ["HS256", "RS256", "EdDSA"])
def test_rotated_out_key_verifies_while_listed(
    make_service: Callable[..., JWTService], algorithm: str
) -> None:
    old = make_service(algorithm)
    old_access = old.create_access_token(USER, [], SESSION)
    old_refresh = old.create_refresh_token(USER, [], SESSION)
    old_access_key, old_refresh_key = keys_for(algorithm, 0), keys_for(algorithm, 1)
    if not algorithm.startswith("HS"):  # a public key is enough to keep verifying
        old_access_key = public_pem(old_access_key)

    rotated = make_service(
        algorithm,
        ACCESS_TOKEN_SIGNING_KEY=keys_for(algorithm, 2),
        REFRESH_TOKEN_SIGNING_KEY=keys_for(algorithm, 2)[::-1]
        if algorithm.startswith("HS")
        else private_pem(algorithm, 3),
        ACCESS_TOKEN_PREVIOUS_KEYS=json.dumps([old_access_key]),
        REFRESH_TOKEN_PREVIOUS_KEYS=json.dumps([old_refresh_key]),
    )
    assert rotated.decode_access_token(old_access)["sub"] == str(USER)
    assert rotated.decode_refresh_token(old_refresh)["sid"] == str(SESSION)
    new_access = rotated.create_access_token(USER, [], SESSION)
    assert header_of(new_access)["kid"] != header_of(old_access)["kid"]
    assert rotated.decode_access_token(new_access)

    dropped = make_service(algorithm, ACCESS_TOKEN_SIGNING_KEY=keys_for(algorithm, 2))
    with pytest.raises(UnknownKeyError):
        dropped.decode_access_token(old_access)
    with pytest.raises(UnknownKeyError):  # the old service never trusted the new key
        old.decode_access_token(new_access)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "ey.ey.ey", "x" * 5000])
def test_garbage_is_malformed(make_service: Callable[..., JWTService], garbage: str) -> None:
    with pytest.raises(MalformedTokenError):
        make_service().decode_access_token(garbage)


def test_errors_never_contain_the_token(make_service: Callable[..., JWTService]) -> None:
    service = make_service()
    refresh = service.create_refresh_token(USER, [], SESSION)
    expired = forge_valid(service, "HS256", exp=int(time.time()) - 60)
    unsigned = jwt.encode(claims(), None, algorithm="none", headers={"kid": "k"})
    for token, decode in [
        (refresh, service.decode_access_token),
        (expired, service.decode_access_token),
        (unsigned, service.decode_access_token),
        (refresh[:-4] + "AAAA", service.decode_refresh_token),
    ]:
        with pytest.raises(TokenError) as caught:
            decode(token)
        assert isinstance(caught.value, ValueError)
        assert caught.value.reason
        for part in token.split("."):
            if part:
                assert part not in str(caught.value)


@pytest.mark.parametrize("typ", [None, "JWT", "refresh+jwt"])
def test_access_token_without_the_at_jwt_type_is_refused(
    make_service: Callable[..., JWTService], typ: str | None
) -> None:
    service = make_service("EdDSA")
    kid = header_of(service.create_access_token(USER, [], SESSION))["kid"]
    headers = {"kid": kid} if typ is None else {"kid": kid, "typ": typ}
    token = jwt.encode(claims(), keys_for("EdDSA", 0), algorithm="EdDSA", headers=headers)
    if typ is None:  # PyJWT adds typ JWT unless told otherwise
        assert header_of(token)["typ"] == "JWT"
    with pytest.raises(WrongTokenTypeError):
        service.decode_access_token(token)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_access_and_refresh_tokens_are_typed_and_addressed_apart(
    make_service: Callable[..., JWTService], algorithm: str
) -> None:
    service = make_service(algorithm)
    access = service.create_access_token(USER, [], SESSION)
    refresh = service.create_refresh_token(USER, [], SESSION)
    assert (header_of(access)["typ"], header_of(refresh)["typ"]) == ("at+jwt", "refresh+jwt")
    access_aud = jwt.decode(access, options={"verify_signature": False})["aud"]
    refresh_aud = jwt.decode(refresh, options={"verify_signature": False})["aud"]
    assert (access_aud, refresh_aud) == (AUDIENCE, ISSUER)


def test_the_header_of_our_tokens_is_parsed_once_per_key_not_per_token(
    make_service: Callable[..., JWTService], monkeypatch: pytest.MonkeyPatch
) -> None:
    service = make_service()
    users = [str(uuid.uuid4()) for _ in range(3)]
    tokens = [service.create_access_token(user, ["user"], "s") for user in users]
    parsed: list[str] = []
    unverified_header = jwt.get_unverified_header

    def counting(token: str) -> dict[str, Any]:
        parsed.append(token)
        return unverified_header(token)

    monkeypatch.setattr(jwt, "get_unverified_header", counting)
    assert [service.decode_access_token(token)["sub"] for token in tokens] == users
    assert parsed == tokens[:1]


def test_an_access_token_is_verified_once_then_remembered_until_it_expires(
    make_service: Callable[..., JWTService], monkeypatch: pytest.MonkeyPatch
) -> None:
    service = make_service()
    token = service.create_access_token("user-1", ["user"], "s")
    verified: list[str] = []
    decode = jwt.PyJWT.decode

    def counting(codec: jwt.PyJWT, token: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        verified.append(token)
        return decode(codec, token, *args, **kwargs)

    monkeypatch.setattr(jwt.PyJWT, "decode", counting)
    first = service.decode_access_token(token)
    assert service.decode_access_token(token) == first
    assert verified == [token]

    expiry = first["exp"]
    monkeypatch.setattr(time, "time", lambda: float(expiry))
    with pytest.raises(ExpiredTokenError):
        service.decode_access_token(token)


def test_a_refused_token_is_not_remembered(make_service: Callable[..., JWTService]) -> None:
    service = make_service()
    token = service.create_access_token("user-1", ["user"], "s")
    head, payload, signature = token.split(".")
    forged = f"{head}.{payload}.{signature[:-4]}AAAA"
    for _ in range(2):
        with pytest.raises(TokenSignatureError):
            service.decode_access_token(forged)


def test_an_hmac_secret_is_vetted_once_not_per_token(
    make_service: Callable[..., JWTService], monkeypatch: pytest.MonkeyPatch
) -> None:
    """PyJWT re-checks an HMAC secret (not PEM, SSH, DER or JWK) on every call."""
    service = make_service()
    vetted: list[bytes] = []
    prepare_key = HMACAlgorithm.prepare_key

    def counting(algorithm: HMACAlgorithm, key: str | bytes) -> bytes:
        vetted.append(key if isinstance(key, bytes) else key.encode())
        return prepare_key(algorithm, key)

    monkeypatch.setattr(HMACAlgorithm, "prepare_key", counting)
    for number in range(5):
        access = service.create_access_token(f"user-{number}", ["user"], "s")
        refresh = service.create_refresh_token(f"user-{number}", ["user"], "s")
        assert service.decode_access_token(access)["sub"] == f"user-{number}"
        assert service.decode_refresh_token(refresh)["sub"] == f"user-{number}"
    # One check per secret: the access key and the refresh key.
    assert len(vetted) == 2
    assert len(set(vetted)) == 2


_GOOD = base64.urlsafe_b64encode(b'{"sub":"0123456789abcdef"}').rstrip(b"=")
SEGMENTS = [
    _GOOD,
    _GOOD + b"=",  # padding PyJWT accepts only where the length allows it
    _GOOD[:-2] + b"==",
    _GOOD[:-1] + b"=",
    _GOOD + b"===",
    _GOOD[:-3] + b"=",
    b"!!!!",
    _GOOD[:8] + b"+/" + _GOOD[10:],  # base64, not base64url
    _GOOD[:8] + b" " + _GOOD[9:],
    _GOOD[:8] + b"\xff" + _GOOD[9:],
    _GOOD[:-1],  # an impossible length
    b"QR",  # trailing bits set: not the canonical encoding of b"A" (QQ)
    b"QQ",
    b"",
    b"=",
    b"==",
]


@pytest.mark.parametrize("segment", SEGMENTS)
def test_our_base64url_check_decides_as_pyjwt_does(segment: bytes) -> None:
    """`_Segments` (one bytes.translate) accepts and refuses exactly what PyJWT's loop does."""
    from jwt.api_jws import PyJWS

    from app.core.security.tokens import _Segments

    def outcome(decode: Callable[[bytes, str], bytes]) -> bytes | str:
        try:
            return decode(segment, "payload")
        except jwt.DecodeError as e:
            return f"refused: {e}"

    assert outcome(_Segments._decode_base64url_segment) == outcome(PyJWS._decode_base64url_segment)


def test_a_token_with_a_character_outside_base64url_is_malformed(
    make_service: Callable[..., JWTService],
) -> None:
    service = make_service()
    header, payload, signature = service.create_access_token(
        user_id=uuid.uuid4(), roles=["user"], session_id=uuid.uuid4()
    ).split(".")
    with pytest.raises(MalformedTokenError):
        service.decode_access_token(f"{header}.{payload[:5]}*{payload[6:]}.{signature}")
