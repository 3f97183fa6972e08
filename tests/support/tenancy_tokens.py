"""Test identity providers: keys generated per run, tokens minted as a real issuer would, and the
forged tokens an attacker would try (``alg: none``, HS256 keyed with the public key)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

AUDIENCE = "kombo-gateway-tests"
ISSUER = "https://auth.tests.example/"
CLAIM = "kombo_integration_id"


@dataclass(frozen=True)
class Issuer:
    """Signs tokens with one key; ``gateway_env`` configures a gateway to trust exactly it."""

    algorithm: str
    signing_key: Any
    gateway_env: dict[str, str]
    public_pem: str | None = None

    def claims(self, integration: str | None, **overrides: Any) -> dict[str, Any]:
        """Valid claims for ``integration``; ``overrides`` replace them (``None`` removes one)."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": "user-42",
            "iat": now,
            "exp": now + 300,
            "aud": AUDIENCE,
            "iss": ISSUER,
            CLAIM: integration,
        }
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not None}

    def token(self, integration: str | None, **overrides: Any) -> str:
        """A token this issuer signs, for ``integration``, with ``overrides`` applied."""
        return jwt.encode(self.claims(integration, **overrides), self.signing_key, self.algorithm)

    def impostor(self) -> Issuer:
        """An issuer with a fresh key of the same kind: its signatures do not verify here."""
        return make_issuer(self.algorithm)


def make_issuer(algorithm: str) -> Issuer:
    """A fresh key pair (or secret) for ``algorithm``: HS256, RS256 or ES256."""
    if algorithm == "HS256":
        secret = secrets.token_urlsafe(48)
        return Issuer(algorithm, secret, {"GATEWAY_JWT_SECRET": secret})
    private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    if algorithm == "RS256":
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif algorithm == "ES256":
        private = ec.generate_private_key(ec.SECP256R1())
    else:
        raise ValueError(algorithm)
    pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return Issuer(algorithm, private, {"GATEWAY_JWT_PUBLIC_KEY": pem}, public_pem=pem)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segment(value: dict[str, Any]) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode())


def unsigned_token(claims: dict[str, Any], alg: str = "none") -> str:
    """``alg: none``: no signature at all (PyJWT will not mint one, so we do)."""
    return f"{_segment({'alg': alg, 'typ': 'JWT'})}.{_segment(claims)}."


def hs256_keyed_with(key: bytes, claims: dict[str, Any]) -> str:
    """The key-confusion attack: HS256 "signed" with the verifier's *public* key as the secret
    (PyJWT refuses to mint it, so we do), hoping the verifier lets the token pick HMAC."""
    signing_input = f"{_segment({'alg': 'HS256', 'typ': 'JWT'})}.{_segment(claims)}"
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def with_claims_swapped(token: str, claims: dict[str, Any]) -> str:
    """``token``'s header and signature around another payload: a tampered token."""
    header, _payload, signature = token.split(".")
    return f"{header}.{_segment(claims)}.{signature}"
