"""API tokens: created once, shown once, stored as a SHA-256 hash in ``api_tokens``.

A token reads ``vgl_<token_id>_<secret>``: ``token_id`` (12 hex) finds the row, the
secret carries 256 bits of randomness, and the row keeps only SHA-256 of the whole
token. Hashing without a salt or a slow KDF is fine here because the secret is random,
not a password; the comparison is constant-time (:func:`hmac.compare_digest`).
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb

from vigil.errors import AuthError, InputError
from vigil.store.schema import C, Table

ROLES = ("reader", "admin")
_TOKEN_RE = re.compile(r"^vgl_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,63}$")

API_TOKENS = Table(
    "api_tokens",
    doc="API tokens of `vigil serve` (hash only; the token itself is shown once at creation).",
    primary_key=("token_id",),
    columns=(
        C("token_id", "VARCHAR NOT NULL", "public id, also the token's second part"),
        C("name", "VARCHAR NOT NULL", "who or what the token is for"),
        C("role", "VARCHAR NOT NULL", "reader | admin"),
        C("token_hash", "VARCHAR NOT NULL", "hex SHA-256 of the whole token"),
        C("created_at", "TIMESTAMP NOT NULL", "creation time, UTC"),
        C("created_by", "VARCHAR", "who created it (cli, or the admin token's name)"),
        C("revoked_at", "TIMESTAMP", "when it was revoked; null while valid"),
    ),
)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's id, name and role, and how it was presented."""

    token_id: str
    name: str
    role: str
    via: str = "bearer"  # bearer | cookie

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(API_TOKENS.ddl())


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def create_token(con: duckdb.DuckDBPyConnection, name: str, role: str,
                 created_by: str = "cli") -> tuple[dict[str, Any], str]:
    """Create a token; return its row (without hash) and the token, which is never stored."""
    if role not in ROLES:
        raise InputError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if not _NAME_RE.match(name):
        raise InputError("token name must be 1-64 characters: letters, digits, space, . _ @ -")
    ensure_table(con)
    token_id = secrets.token_hex(6)
    token = f"vgl_{token_id}_{secrets.token_urlsafe(32)}"
    created = _now()
    con.execute(
        "insert into api_tokens values (?, ?, ?, ?, ?, ?, null)",
        [token_id, name, role, _hash(token), created, created_by],
    )
    info = {"token_id": token_id, "name": name, "role": role, "created_at": created,
            "created_by": created_by, "revoked_at": None}
    return info, token


def list_tokens(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    ensure_table(con)
    rel = con.sql("select token_id, name, role, created_at, created_by, revoked_at "
                  "from api_tokens order by created_at, token_id")
    cols = rel.columns
    return [dict(zip(cols, r, strict=True)) for r in rel.fetchall()]


def revoke_token(con: duckdb.DuckDBPyConnection, ident: str) -> dict[str, Any]:
    """Revoke the token whose id (or unique name) is ``ident``."""
    ensure_table(con)
    rows = con.execute(
        "select token_id, name, role, revoked_at from api_tokens where token_id = ? or name = ?",
        [ident, ident],
    ).fetchall()
    if not rows:
        raise InputError(f"no API token with id or name {ident!r}")
    if len(rows) > 1:
        ids = ", ".join(r[0] for r in rows)
        raise InputError(f"name {ident!r} matches several tokens ({ids}); revoke by token_id")
    token_id, name, role, revoked = rows[0]
    if revoked is None:
        revoked = _now()
        con.execute("update api_tokens set revoked_at = ? where token_id = ?", [revoked, token_id])
    return {"token_id": token_id, "name": name, "role": role, "revoked_at": revoked}


#: a token's row as verification needs it: (name, role, token_hash, revoked_at)
TokenRow = tuple[str, str, str, Any]


def token_id_of(presented: str) -> str:
    """The id part of a well-formed token, else :class:`AuthError` (never echoing the input)."""
    m = _TOKEN_RE.match(presented)
    if m is None:
        raise AuthError("malformed API token (expected vgl_<id>_<secret>)")
    return m.group(1)


def check(presented: str, row: TokenRow | None, via: str = "bearer") -> Principal:
    """Verify ``presented`` against its row (None: unknown id); constant-time hash comparison."""
    token_id = token_id_of(presented)
    # Compare against a dummy hash when the id is unknown so timing does not reveal which ids exist.
    stored = row[2] if row else "0" * 64
    ok = hmac.compare_digest(_hash(presented), stored)
    if row is None or not ok:
        raise AuthError("unknown API token")
    if row[3] is not None:
        raise AuthError("API token has been revoked")
    return Principal(token_id=token_id, name=row[0], role=row[1], via=via)


def load_rows(con: duckdb.DuckDBPyConnection) -> dict[str, TokenRow]:
    """Every token's verification row by id (hashes only)."""
    ensure_table(con)
    rows = con.execute("select token_id, name, role, token_hash, revoked_at from api_tokens").fetchall()
    return {r[0]: (r[1], r[2], r[3], r[4]) for r in rows}


def verify_token(con: duckdb.DuckDBPyConnection, presented: str, via: str = "bearer") -> Principal:
    """Return the principal of a valid, unrevoked token, else raise :class:`AuthError`.

    The message never repeats the token."""
    token_id = token_id_of(presented)
    rows = con.execute(
        "select name, role, token_hash, revoked_at from api_tokens where token_id = ?", [token_id]
    ).fetchall()
    return check(presented, rows[0] if rows else None, via)


def count_tokens(con: duckdb.DuckDBPyConnection, role: str | None = None) -> int:
    ensure_table(con)
    if role:
        r = con.execute("select count(*) from api_tokens where revoked_at is null and role = ?",
                        [role]).fetchall()
    else:
        r = con.execute("select count(*) from api_tokens where revoked_at is null").fetchall()
    return int(r[0][0])
