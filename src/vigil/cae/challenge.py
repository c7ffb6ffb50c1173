"""``WWW-Authenticate`` values: the CAE claims challenge and RFC 6750 errors.

The documented form (Microsoft identity platform, "claims challenge"):
``Bearer realm="", authorization_uri="...", error="insufficient_claims", claims="<base64>"``
where the claims are ``{"access_token":{"nbf":{"essential":true,"value":"<epoch>"}}}`` --
the client must come back with a token whose ``nbf`` is at least that time.

Header hygiene: every value is built by :func:`challenge`, so it is an RFC 9110 token or
quoted-string whatever the text (a hostile ``kid``, issuer or revocation reason): CR/LF and other
control characters removed, non-ASCII escaped, length capped.
"""
from __future__ import annotations

import base64
import re
from typing import Any

import orjson

_PARAM = re.compile(r'([A-Za-z_]+)\s*=\s*"((?:[^"\\]|\\.)*)"')
#: RFC 9110 §5.6.2 token characters
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_CONTROLS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]+")
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]+")
#: longest text put in one header parameter (a hostile kid or reason can be any length)
MAX_PARAM_CHARS = 300


def ascii_text(text: str, limit: int = MAX_PARAM_CHARS) -> str:
    """``text`` made safe for a header: control characters (CR, LF, NUL, ...) become one space,
    non-ASCII (lone surrogates included) is escaped (``\\xe9``, ``\\u2019``), and the result is cut
    at ``limit`` characters."""
    text = _CONTROLS.sub(" ", text).encode("ascii", "backslashreplace").decode("ascii")
    return text if len(text) <= limit else text[:limit - 3] + "..."


def quoted(text: str, limit: int = MAX_PARAM_CHARS) -> str:
    """``text`` as an RFC 9110 quoted-string (ASCII only, see :func:`ascii_text`)."""
    return '"' + ascii_text(text, limit).replace("\\", "\\\\").replace('"', '\\"') + '"'


def token(value: str) -> str:
    """``value`` if it is an RFC 9110 token, else ValueError (our own constants only: never user text)."""
    if not _TOKEN.match(value):
        raise ValueError(f"not an HTTP token: {value!r}")
    return value


def challenge(scheme: str, **params: str) -> str:
    """A ``WWW-Authenticate`` challenge: ``scheme`` and its parameters, every value a quoted-string.
    Every challenge vigil writes goes through here."""
    return " ".join([token(scheme), ", ".join(f"{token(k)}={quoted(v)}" for k, v in params.items())]).strip()


def header_bytes(value: bytes) -> bytes:
    """Last line of defence for any header value on its way out: control bytes (CR, LF) become a space."""
    return _CONTROL_BYTES.sub(b" ", value)


def body_text(text: str) -> str:
    """``text`` for a JSON body: Unicode kept, lone surrogates (unencodable) escaped."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def claims_request(nbf: int) -> dict[str, Any]:
    return {"access_token": {"nbf": {"essential": True, "value": str(int(nbf))}}}


def claims_challenge(nbf: int, authorization_uri: str) -> str:
    claims = base64.b64encode(orjson.dumps(claims_request(nbf))).decode()
    return challenge("Bearer", realm="", authorization_uri=authorization_uri, error="insufficient_claims",
                     claims=claims)


def invalid_token(description: str, realm: str = "") -> str:
    return challenge("Bearer", realm=realm, error="invalid_token", error_description=description)


def no_token(realm: str = "") -> str:
    return challenge("Bearer", realm=realm)  # RFC 6750 §3.1: no error code when no credentials were sent


def parse_challenge(value: str) -> dict[str, str]:
    """Parameters of a ``Bearer ...`` challenge (for clients and tests)."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise ValueError(f"not a Bearer challenge: {value!r}")
    return {k: re.sub(r"\\(.)", r"\1", v) for k, v in _PARAM.findall(rest)}


def decode_claims(b64: str) -> dict[str, Any]:
    out: dict[str, Any] = orjson.loads(base64.b64decode(b64 + "=" * (-len(b64) % 4)))
    return out
