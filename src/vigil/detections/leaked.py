"""The leaked-credential list: hashes only, never plaintext passwords.

Accepted lines (``#`` starts a comment, blank lines ignored):

* ``<userPrincipalName>,<sha256 hex>`` — CSV; the hash is ``sha256(lower(upn) + ":" + password)``
  as breach-notification services and vigil's simulator write it. The UPN is the account's
  address (not a secret); the credential hash is kept as evidence for whoever can check it
  against the current password hash (vigil cannot: logs never carry passwords).
* ``{"userPrincipalName": ..., "sha256": ..., "leaked_at": ...}`` — the same as JSON lines.
* ``<sha256 hex>`` alone — ``sha256(lower(upn))``: an account-level list for those who will not
  share addresses; matched by hashing every UPN in the store.

The file is loaded into the temporary table ``leaked_credentials(upn_sha256, upn,
credential_sha256, leaked_at, line)``; a malformed line fails the run naming file and line.
"""
from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pyarrow as pa

from vigil.errors import InputError
from vigil.store import Store

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")


def _parse_time(value: object, where: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        t = datetime.fromisoformat(str(value))
    except ValueError:
        raise InputError(f"leaked_at {value!r} is not an ISO 8601 time", path=where) from None
    return t.replace(tzinfo=None) if t.tzinfo is None else t.astimezone(UTC).replace(tzinfo=None)


def parse(path: Path) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for n, raw in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        line = raw.strip()
        where = f"{path}:{n}"
        if not line or line.startswith("#"):
            continue
        upn: str | None = None
        cred: str | None = None
        leaked_at = None
        if line.startswith("{"):
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise InputError(f"not valid JSON ({exc})", path=where) from None
            upn = obj.get("userPrincipalName") or obj.get("upn")
            cred = obj.get("sha256") or obj.get("credential_sha256")
            leaked_at = _parse_time(obj.get("leaked_at"), where)
            if not upn:
                raise InputError("JSON line has no userPrincipalName", path=where)
        elif "," in line:
            upn, _, cred = (p.strip() for p in line.partition(","))
        elif _HEX64.match(line):
            rows.append({"upn_sha256": line.lower(), "upn": None, "credential_sha256": None,
                         "leaked_at": None, "line": n})
            continue
        else:
            raise InputError("expected 'upn,sha256', a JSON object or a 64-hex sha256(upn)", path=where)
        if cred is not None and not _HEX64.match(str(cred)):
            raise InputError(f"credential hash {str(cred)[:20]!r} is not 64 hex digits (plaintext refused)",
                             path=where)
        upn = str(upn).strip().lower()
        rows.append({"upn_sha256": hashlib.sha256(upn.encode()).hexdigest(), "upn": upn,
                     "credential_sha256": str(cred).lower() if cred else None, "leaked_at": leaked_at,
                     "line": n})
    return rows


def load_into(store: Store, path: str | None) -> str | None:
    """Create the temp table from ``path``; return why it is absent when no list is configured."""
    store.con.execute("drop table if exists temp.leaked_credentials")
    if not path:
        return "no leaked-credential list configured (detections.leaked_credentials_path)"
    p = Path(path)
    if not p.is_file():
        raise InputError("leaked-credential list not found", path=str(p))
    rows = parse(p)
    schema = pa.schema([("upn_sha256", pa.string()), ("upn", pa.string()), ("credential_sha256", pa.string()),
                        ("leaked_at", pa.timestamp("us")), ("line", pa.int64())])
    table = pa.Table.from_pylist(rows, schema=schema)
    store.con.register("_leaked_rows", table)
    try:
        store.con.execute("create temp table leaked_credentials as select * from _leaked_rows")
    finally:
        store.con.unregister("_leaked_rows")
    return None


def match_note(store: Store) -> str | None:
    """Say so when a list matches no account of the store (e.g. bare sha256(upn:password) lines)."""
    rows = store.con.execute("""
        select count(*), count(upn),
          count(*) filter (where upn_sha256 in (select sha256(lower(user_principal_name)) from
                           (select distinct user_principal_name from signins where user_principal_name is not null)))
        from leaked_credentials""").fetchall()
    entries, with_upn, matched = (int(x) for x in rows[0])
    if entries and not matched:
        return (f"none of the {entries} leaked-credential entries names an account seen in the sign-ins"
                + ("" if with_upn else "; bare hashes are read as sha256(lower(upn)) — a list of "
                   "sha256(upn:password) needs the address: write 'upn,hash' lines"))
    return None
