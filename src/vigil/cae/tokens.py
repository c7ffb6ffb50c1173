"""Access tokens: the demo issuer (``vigil cae token``) and the validator the middleware uses.

Issuer: clients that declare the ``cp1`` client capability (``xms_cc``) can handle claims
challenges, so, as in Entra CAE, they may get long-lived tokens (up to 28 h); others get
short ones (1 h by default) because revocation reaches them only at expiry.

Validator: signature against the trusted JWKS (by ``kid``; ``none`` and HMAC algorithms are
refused), ``iss``, ``aud``, ``exp`` (required), ``nbf`` and ``iat`` with a clock leeway. SETs
(``typ: secevent+jwt``) are refused as access tokens (RFC 8417 §4.1 token confusion).
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from vigil.cae.keys import ALLOWED_ALGS, signing_key

MAX_LIFETIME_S = 28 * 3600


def has_cp1(claims: dict[str, Any]) -> bool:
    """``xms_cc`` lists client capabilities; values are case-insensitive, cp1 = CAE-capable."""
    cc = claims.get("xms_cc")
    if isinstance(cc, str):
        cc = [cc]
    return isinstance(cc, list) and any(isinstance(v, str) and v.lower() == "cp1" for v in cc)


def issue_token(keys: KeySet, *, issuer: str, audience: str, user_id: str, upn: str | None = None,
                session_id: str | None = None, device_id: str | None = None, cp1: bool = False,
                lifetime_s: int, now: float | None = None, not_before: int | None = None,
                extra: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    """Sign an access token; ``not_before`` satisfies a claims challenge's ``nbf`` request."""
    if not 60 <= lifetime_s <= MAX_LIFETIME_S:
        raise ValueError(f"token lifetime must be 60 s .. 28 h, not {lifetime_s} s")
    iat = int(now if now is not None else time.time())
    nbf = max(iat, not_before or 0)
    claims: dict[str, Any] = {
        "iss": issuer, "aud": audience, "sub": user_id, "oid": user_id,
        "iat": iat, "nbf": nbf, "exp": nbf + lifetime_s, "uti": uuid.uuid4().hex,
    }
    if upn:
        claims["upn"] = upn
    if session_id:
        claims["sid"] = session_id
    if device_id:
        claims["deviceid"] = device_id
    if cp1:
        claims["xms_cc"] = ["cp1"]
    claims.update(extra or {})
    key = signing_key(keys)
    header = {"alg": key.get("alg") or "ES256", "kid": key.kid, "typ": "JWT"}
    return jwt.encode(header, claims, keys, algorithms=ALLOWED_ALGS), claims


class TokenRejected(Exception):
    """An access token failed validation; ``description`` says which check and why."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


@dataclass
class TokenValidator:
    keys: KeySet
    issuer: str
    audience: str
    leeway_s: int = 30

    def __post_init__(self) -> None:
        self._registry = JWTClaimsRegistry(
            leeway=self.leeway_s,
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self.audience},
            exp={"essential": True},
        )

    def validate(self, token: str) -> dict[str, Any]:
        try:
            decoded = jwt.decode(token, self.keys, algorithms=ALLOWED_ALGS)
        except JoseError as exc:
            raise TokenRejected(f"signature or format: {exc.description or exc.error}") from None
        except (ValueError, TypeError) as exc:
            raise TokenRejected(f"malformed token: {exc}") from None
        if str(decoded.header.get("typ", "")).lower() in ("secevent+jwt", "application/secevent+jwt"):
            raise TokenRejected("a Security Event Token is not an access token")
        claims = dict(decoded.claims)
        try:
            self._registry.validate(claims)
        except JoseError as exc:
            raise TokenRejected(f"claims: {exc.description or exc.error}") from None
        iat = claims.get("iat")
        if isinstance(iat, bool) or not isinstance(iat, (int, float)):
            raise TokenRejected("claims: iat is required (revocation compares it with the event time)")
        if not (claims.get("oid") or claims.get("sub")):
            raise TokenRejected("claims: oid or sub is required")
        return claims


def issued_at(claims: dict[str, Any]) -> float:
    """When the token counts as issued: the later of iat and nbf (nbf answers a claims challenge)."""
    iat = float(claims.get("iat") or 0)
    nbf = claims.get("nbf")
    return max(iat, float(nbf)) if isinstance(nbf, (int, float)) and not isinstance(nbf, bool) else iat
