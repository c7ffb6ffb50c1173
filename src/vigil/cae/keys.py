"""Signing keys (tokens of the demo issuer, SETs) and trusted JWKS.

The private JWKS is created on first use with ``O_EXCL`` (two processes starting together
cannot write two different keys) and mode 0600. Only the public half is ever served.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet

from vigil.errors import ConfigError

SIGNING_ALG = "ES256"
ALLOWED_ALGS = ["ES256", "ES384", "RS256", "RS384", "RS512", "PS256", "EdDSA"]


def _generate() -> KeySet:
    key = ECKey.generate_key("P-256", parameters={"use": "sig", "alg": SIGNING_ALG}, auto_kid=True)
    return KeySet([key])


def load_or_create_signing_keys(path: str | Path) -> KeySet:
    p = Path(path)
    if not p.exists():
        data = orjson.dumps(_generate().as_dict(private=True))
        try:
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it first: use theirs
        except OSError as exc:
            raise ConfigError(f"cannot create the signing key file ({exc.strerror})", path=str(p)) from None
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
    keys = load_jwks(p)
    if not any(k.is_private for k in keys):
        raise ConfigError("signing key file holds no private key", path=str(p))
    return keys


def load_jwks(path: str | Path) -> KeySet:
    p = Path(path)
    try:
        data = orjson.loads(p.read_bytes())
    except FileNotFoundError:
        raise ConfigError("JWKS file not found", path=str(p)) from None
    except orjson.JSONDecodeError as exc:
        raise ConfigError(f"not valid JSON ({exc})", path=str(p)) from None
    return jwks_from_dict(data, where=str(p))


def jwks_from_dict(data: Any, *, where: str = "jwks") -> KeySet:
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list) or not data["keys"]:
        raise ConfigError(f"{where}: a JWKS needs a non-empty 'keys' array")
    for i, k in enumerate(data["keys"]):
        if not isinstance(k, dict) or not k.get("kid"):
            raise ConfigError(f"{where}: keys[{i}].kid is required (keys are selected by kid)")
    try:
        return KeySet.import_key_set(data)  # type: ignore[arg-type]  # checked above
    except (JoseError, ValueError, TypeError) as exc:
        raise ConfigError(f"{where}: not a usable JWKS ({exc})") from None


def public_jwks(keys: KeySet) -> dict[str, Any]:
    return dict(keys.as_dict(private=False))


def signing_key(keys: KeySet) -> Any:
    """The first private key (the one new tokens and SETs are signed with)."""
    for k in keys:
        if k.is_private:
            return k
    raise ConfigError("no private key to sign with")
