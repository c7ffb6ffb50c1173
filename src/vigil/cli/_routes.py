"""What ``vigil ingest`` does with a file no log format recognises: a collector's folder also holds directory
listings, Identity Protection risk and conditional-access policies. Directory and risk files are taken by
their own readers; policies are named with the command that loads them (loading replaces the stored set, so
it is never done implicitly); anything else is skipped with the reason. Every file gets one account.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from vigil.errors import VigilError

if TYPE_CHECKING:
    from vigil.store import Store

# other readers load a whole file: larger unrecognised files are not probed
PROBE_LIMIT = 64 * 1024 * 1024


@dataclass
class Routed:
    taken_as: str | None = None
    table: str | None = None
    stored: int = 0
    quarantined: int = 0
    skipped: str | None = None


def _ca_policies(path: Path) -> int:
    """Graph conditionalAccessPolicy objects in a JSON file (a `value` page, an array or one object)."""
    try:
        doc: Any = orjson.loads(path.read_bytes().lstrip(b"\xef\xbb\xbf"))
    except (OSError, orjson.JSONDecodeError):
        return 0
    items = doc.get("value", [doc]) if isinstance(doc, dict) else doc if isinstance(doc, list) else []
    return sum(1 for i in items if isinstance(i, dict) and "conditions" in i and "grantControls" in i)


def route(store: Store, path: Path, reason: str) -> Routed:
    """Take ``path`` with the reader that recognises it, or say why it is skipped (``reason``: why no log
    format took it)."""
    from vigil.risk import vendor
    from vigil.ueba.directory import ingest_directory
    from vigil.ueba.directory_read import read_directory_file

    if path.stat().st_size > PROBE_LIMIT:
        return Routed(skipped=reason)
    if vendor.recognises(path):
        r = vendor.import_file(store, path)
        return Routed("Entra ID Protection risk", "riskDetections, riskyUsers", r.detections + r.users,
                      r.quarantined)
    policies = _ca_policies(path)
    if policies:
        return Routed(skipped=f"{policies} conditional-access policies: load them with `vigil policy load "
                              f"--policies {path}` (it replaces the stored set)")
    try:
        batch = read_directory_file(path)
    except VigilError:
        return Routed(skipped=reason)
    if not (batch.users or batch.groups or batch.memberships):
        return Routed(skipped=reason)
    summary = ingest_directory(store, [path])
    f = summary["files"][0]
    return Routed(f"directory ({f['format']})", "IdentityInfo", f["users"] + f["groups"] + f["memberships"],
                  f["quarantined"])
