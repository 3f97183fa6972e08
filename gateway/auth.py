"""Who is calling, and which integration they may read (README "Security": "Tenancy: GATEWAY_AUTH").

An :class:`Authenticator` turns a request's headers into a :class:`Caller`, or raises
:class:`~gateway.errors.Unauthenticated` (HTTP 401) or :class:`~gateway.errors.Forbidden` (403).
``create_app`` builds one with :func:`authenticator_for`; the context getter asks it once per
request, before anything about the schema is revealed.

- :class:`NoAuth` (``GATEWAY_AUTH=none``) trusts the caller: the integration is the
  ``X-Integration-Id`` header, else ``KOMBO_INTEGRATION_ID``, else the sandbox's default.
- :class:`JwtAuth` (``GATEWAY_AUTH=jwt``) verifies ``Authorization: Bearer <JWT>`` with PyJWT and
  takes the integration from one claim of the verified token, never from a header. The accepted
  algorithm follows from the configured key alone (HS256 for a secret; RS256 or ES256 for a public
  key), so neither ``alg: none`` nor an HS256 token "signed" with the public key can pass.

Messages say what was wrong with a token, never echo it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from gateway.config import MIN_SECRET_BYTES, SettingsError
from gateway.errors import BadUserInput, Forbidden, Unauthenticated

if TYPE_CHECKING:
    from jwt.types import Options

    from gateway.config import Settings

__all__ = [
    "JWT_LEEWAY_SECONDS",
    "MIN_RSA_KEY_BITS",
    "MIN_SECRET_BYTES",
    "Authenticator",
    "Caller",
    "JwtAuth",
    "NoAuth",
    "authenticator_for",
    "public_key_algorithm",
]

log = logging.getLogger(__name__)

JWT_LEEWAY_SECONDS = 30
"""Clock skew tolerated on ``exp``, ``nbf`` and ``iat`` between the token's issuer and us."""

MIN_RSA_KEY_BITS = 2048

_INTEGRATION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9:_\-.]{0,199}$")


def validate_integration_id(value: str, source: str) -> str:
    """An integration id as Kombo shapes them (``tool:XXXX``); anything else is refused early."""
    if not _INTEGRATION_ID.match(value):
        raise BadUserInput(f"{source} is not a valid Kombo integration id")
    return value


_INTEGRATION_HEADER = "x-integration-id"


@dataclass(frozen=True, slots=True)
class Caller:
    """The verified (or, without auth, declared) caller of one request."""

    integration_id: str | None
    """The integration this request reads; None when nothing names one (NoAuth only)."""
    subject: str | None = None
    """The token's ``sub`` claim, for logs; None without auth or when the token has none."""
    expires_at: float | None = None
    """When the token stops being accepted (its ``exp`` plus the leeway), in seconds since the
    epoch: a subscription ends then (``UNAUTHENTICATED``). None without auth."""


class Authenticator(Protocol):
    """Turns request headers into a :class:`Caller`, or refuses the request."""

    def authenticate(self, headers: Mapping[str, str]) -> Caller:
        """The caller behind ``headers`` (lower-case names, or a case-insensitive mapping such as
        Starlette's ``Headers``). Raises ``Unauthenticated`` or ``Forbidden``."""
        ...


class NoAuth:
    """``GATEWAY_AUTH=none``: the caller names its integration, or gets the default one."""

    def __init__(self, default_integration: str | None) -> None:
        self._default_integration = default_integration

    def authenticate(self, headers: Mapping[str, str]) -> Caller:
        """The ``X-Integration-Id`` header (validated), else the configured default."""
        header = headers.get(_INTEGRATION_HEADER)
        if header is None:
            return Caller(self._default_integration)
        return Caller(validate_integration_id(header.strip(), "X-Integration-Id"))


class JwtAuth:
    """``GATEWAY_AUTH=jwt``: a bearer JWT verified against one key and one algorithm.

    ``exp`` is required; ``aud`` and ``iss`` are required and checked when configured. The
    integration is the string in ``integration_claim``; an ``X-Integration-Id`` header may repeat
    it, and is ``Forbidden`` when it names another.
    """

    def __init__(
        self,
        *,
        secret: str | None = None,
        public_key: str | None = None,
        audience: str | None = None,
        issuer: str | None = None,
        integration_claim: str = "kombo_integration_id",
        leeway: float = JWT_LEEWAY_SECONDS,
    ) -> None:
        if (secret is None) == (public_key is None):
            raise ValueError("JwtAuth needs exactly one of a secret or a public key")
        self._key: Any
        if secret is not None:
            if len(secret.encode()) < MIN_SECRET_BYTES:
                raise ValueError(f"an HS256 secret needs at least {MIN_SECRET_BYTES} bytes")
            self._key = secret.encode()
            self._algorithm = "HS256"
        else:
            assert public_key is not None
            self._key = _load_public_key(public_key)
            self._algorithm = public_key_algorithm(public_key)
        self._audience = audience
        self._issuer = issuer
        self._integration_claim = integration_claim
        self._leeway = leeway
        required = ["exp"]
        if audience is not None:
            required.append("aud")
        if issuer is not None:
            required.append("iss")
        self._options: Options = {
            "require": required,
            "verify_aud": audience is not None,
            "verify_iss": issuer is not None,
            "enforce_minimum_key_length": True,
        }

    @property
    def algorithms(self) -> tuple[str, ...]:
        """The allow-list: exactly the one algorithm the configured key is for."""
        return (self._algorithm,)

    @classmethod
    def from_settings(cls, settings: Settings) -> JwtAuth:
        """The verifier ``settings`` describes. ``Settings.from_env`` has checked that there is
        exactly one key, and the secret's length; a public key that is no usable RS256 or ES256
        key raises :class:`~gateway.config.SettingsError` naming ``GATEWAY_JWT_PUBLIC_KEY``."""
        if settings.jwt_public_key is not None:
            try:
                public_key_algorithm(settings.jwt_public_key)
            except ValueError as exc:
                raise SettingsError(f"GATEWAY_JWT_PUBLIC_KEY {exc}") from None
        return cls(
            secret=settings.jwt_secret,
            public_key=settings.jwt_public_key,
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            integration_claim=settings.jwt_integration_claim,
        )

    def authenticate(self, headers: Mapping[str, str]) -> Caller:
        """Verify the bearer token; the integration is its claim. See the class docstring."""
        claims = self._verified_claims(_bearer_token(headers.get("authorization")))
        integration = claims.get(self._integration_claim)
        if integration is None:
            raise _refused(
                f"The bearer token has no '{self._integration_claim}' claim naming the integration."
            )
        if not isinstance(integration, str):
            raise _refused(f"The bearer token's '{self._integration_claim}' claim is not a string.")
        try:
            validate_integration_id(integration, "claim")
        except BadUserInput:
            raise _refused(
                f"The bearer token's '{self._integration_claim}' claim is not a valid Kombo "
                "integration id."
            ) from None

        header = headers.get(_INTEGRATION_HEADER)
        if header is not None and header.strip() != integration:
            log.info("refused a request whose X-Integration-Id disagrees with its token")
            raise Forbidden(
                "The X-Integration-Id header names another integration than the bearer token "
                "grants; send the token's own, or omit the header."
            )
        subject = claims.get("sub")
        exp = claims.get("exp")
        expires_at = float(exp) + self._leeway if isinstance(exp, int | float) else None
        return Caller(integration, subject if isinstance(subject, str) else None, expires_at)

    def _verified_claims(self, token: str) -> dict[str, Any]:
        import jwt  # PyJWT and cryptography: ~9 MB a worker, loaded in jwt mode only

        try:
            return jwt.decode(
                token,
                self._key,
                algorithms=list(self.algorithms),
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options=self._options,
            )
        except jwt.ExpiredSignatureError:
            message = "The bearer token has expired."
        except jwt.InvalidSignatureError:
            message = "The bearer token's signature does not verify."
        except jwt.InvalidAlgorithmError:
            message = (
                "The bearer token is signed with an algorithm this gateway does not accept "
                f"(it accepts {', '.join(self.algorithms)})."
            )
        except jwt.InvalidAudienceError:
            message = "The bearer token is not meant for this gateway (wrong audience, 'aud')."
        except jwt.InvalidIssuerError:
            message = "The bearer token comes from an issuer this gateway does not trust ('iss')."
        except jwt.MissingRequiredClaimError as exc:
            message = f"The bearer token has no '{exc.claim}' claim, which this gateway requires."
        except jwt.ImmatureSignatureError:
            message = "The bearer token is not valid yet ('nbf' or 'iat' is in the future)."
        except jwt.DecodeError:
            message = "The bearer token is malformed: not a JWT, or a claim has the wrong type."
        except jwt.PyJWTError:
            message = "The bearer token is invalid."
        raise _refused(message)


def authenticator_for(settings: Settings, default_integration: str | None) -> Authenticator:
    """The authenticator ``settings.auth`` names; ``default_integration`` serves ``none``."""
    if settings.auth == "jwt":
        return JwtAuth.from_settings(settings)
    return NoAuth(default_integration)


def public_key_algorithm(pem: str) -> str:
    """The one algorithm a PEM public key verifies: ``RS256`` (RSA, at least 2048 bits) or
    ``ES256`` (EC on P-256). Raises ``ValueError`` saying why for anything else."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    key = _load_public_key(pem)
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_KEY_BITS:
            raise ValueError(
                f"is a {key.key_size}-bit RSA key; at least {MIN_RSA_KEY_BITS} bits are required"
            )
        return "RS256"
    if isinstance(key, ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise ValueError(f"is an EC key on {key.curve.name}; ES256 needs P-256 (secp256r1)")
        return "ES256"
    raise ValueError(f"is a {type(key).__name__}; expected an RSA (RS256) or EC P-256 (ES256) key")


def _load_public_key(pem: str) -> Any:
    from cryptography.hazmat.primitives import serialization

    try:
        return serialization.load_pem_public_key(pem.encode())
    except (ValueError, TypeError, UnicodeError):
        raise ValueError(
            "is not a PEM public key (expected '-----BEGIN PUBLIC KEY-----' ...)"
        ) from None


def _bearer_token(authorization: str | None) -> str:
    if authorization is None or not authorization.strip():
        raise _refused("Authentication required: send 'Authorization: Bearer <JWT>'.")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _refused("The Authorization header must be 'Bearer <JWT>'.")
    return token.strip()


def _refused(message: str) -> Unauthenticated:
    log.info("refused a request: %s", message)
    return Unauthenticated(message)
