"""``WWW-Authenticate`` values: the CAE claims challenge and RFC 6750 errors.

The documented form (Microsoft identity platform, "claims challenge"):
``Bearer realm="", authorization_uri="...", error="insufficient_claims", claims="<base64>"``
where the claims are ``{"access_token":{"nbf":{"essential":true,"value":"<epoch>"}}}`` --
the client must come back with a token whose ``nbf`` is at least that time.
"""
from __future__ import annotations

import base64
import re
from typing import Any

import orjson

_PARAM = re.compile(r'([A-Za-z_]+)\s*=\s*"((?:[^"\\]|\\.)*)"')


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def claims_request(nbf: int) -> dict[str, Any]:
    return {"access_token": {"nbf": {"essential": True, "value": str(int(nbf))}}}


def claims_challenge(nbf: int, authorization_uri: str) -> str:
    claims = base64.b64encode(orjson.dumps(claims_request(nbf))).decode()
    return (f'Bearer realm="", authorization_uri="{_quote(authorization_uri)}", '
            f'error="insufficient_claims", claims="{claims}"')


def invalid_token(description: str) -> str:
    return f'Bearer realm="", error="invalid_token", error_description="{_quote(description)}"'


def no_token() -> str:
    return 'Bearer realm=""'  # RFC 6750 §3.1: no error code when no credentials were sent


def parse_challenge(value: str) -> dict[str, str]:
    """Parameters of a ``Bearer ...`` challenge (for clients and tests)."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise ValueError(f"not a Bearer challenge: {value!r}")
    return {k: re.sub(r"\\(.)", r"\1", v) for k, v in _PARAM.findall(rest)}


def decode_claims(b64: str) -> dict[str, Any]:
    out: dict[str, Any] = orjson.loads(base64.b64decode(b64 + "=" * (-len(b64) % 4)))
    return out
