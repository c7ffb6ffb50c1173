"""What ``vigil ingest`` does with a file no log format recognises: a collector's folder also holds directory
listings, Identity Protection risk, conditional-access policies and named locations. Each is taken by its
own reader: directory and risk files one by one; the policies and named locations of one run together, as
the tenant's set (`vigil policy load` with them: the stored set is replaced, and the row says so). Anything
else is skipped with one short note. Every file gets one account.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import re

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


def _graph_items(path: Path) -> list[dict[str, Any]]:
    """The objects of a Graph JSON file (a `value` page, an array or one object); none if it is not JSON."""
    try:
        doc: Any = orjson.loads(path.read_bytes().lstrip(b"\xef\xbb\xbf"))
    except (OSError, orjson.JSONDecodeError):
        return []
    items = doc.get("value", [doc]) if isinstance(doc, dict) else doc if isinstance(doc, list) else []
    return [i for i in items if isinstance(i, dict)]


def _policy_kind(path: Path) -> str | None:
    """``policies`` (Graph conditionalAccessPolicy objects), ``locations`` (namedLocation objects) or None."""
    items = _graph_items(path)
    if items and all("conditions" in i and "grantControls" in i for i in items):
        return "policies"
    if items and all("displayName" in i and ("ipRanges" in i or "countriesAndRegions" in i
                                             or str(i.get("@odata.type", "")).endswith("NamedLocation"))
                     for i in items):
        return "locations"
    return None


#: files a simulator or a collector leaves beside the logs, and what they are for
_NOT_LOGS = (
    ({"campaign_id", "malicious", "record_id"}, "the simulator's ground-truth labels (`vigil evaluate --labels FILE`)"),
    ({"scenario", "home_ip"}, "the simulator's scenario list (not a log)"),
)


def _note(path: Path, reason: str) -> str:
    """One short line on why a file is not read."""
    keys = set(re.findall(r"[\w@.]+", reason.partition("first record has keys: ")[2]))
    for marks, what in _NOT_LOGS:
        if marks <= keys:
            return what
    if any(re.fullmatch(r"[0-9a-fA-F]{64}", k) for k in keys):
        return "a leaked-credential hash list (`detections.leaked_credentials_path` in the settings)"
    if path.suffix.lower() in (".md", ".yaml", ".yml", ".pdf", ".html", ".png", ".jpg", ".py", ".sh"):
        return f"not a log ({path.suffix.lower()[1:]} file)"
    return reason


def _policy_set(store: Store, settings: Any, policies: list[Path], locations: list[Path]) -> dict[Path, Routed]:
    """Load the policies and named locations found in one run as the tenant's set (see the module)."""
    from vigil.locations.named import NamedLocations, load_named_locations
    from vigil.policy import tables
    from vigil.policy.evaluate import PolicySet
    from vigil.policy.parse import load_policies

    lenient = settings.policy.allow_unresolved_locations
    try:
        locs = NamedLocations()
        for f in locations:
            for loc in load_named_locations(f):
                locs.by_id[loc.id] = loc
        if not locations:
            locs = tables.load_locations(store)
        pol = load_policies(*policies) if policies else tables.stored_policies(store)
        ps = PolicySet(pol, locs, mfa_trusted_ips=settings.policy.mfa_trusted_ips, allow_unresolved=lenient)
        tables.save(store, ps, locations_only=not policies)
    except VigilError as exc:
        hint = " (`vigil policy load --allow-unresolved` takes them anyway)" if "not loaded" in str(exc) else ""
        return {f: Routed(skipped=f"not loaded: {exc}{hint}") for f in (*policies, *locations)}
    out: dict[Path, Routed] = {}
    for f in policies:
        n = len(load_policies(f))
        out[f] = Routed(f"conditional access ({n} of {len(ps.policies)})", "ca_policies", n)
    for f in locations:
        n = len(load_named_locations(f))
        out[f] = Routed(f"named locations ({n} of {len(locs)})", "named_locations", n)
    return out


def route_all(store: Store, settings: Any, unknown: list[tuple[Path, str]]) -> dict[Path, Routed]:
    """Route each file no log format took (with ``reason``, why not) to its reader, or skip it with a note."""
    out: dict[Path, Routed] = {}
    found: dict[str, list[Path]] = {"policies": [], "locations": []}
    for path, reason in unknown:
        kind = _policy_kind(path) if path.stat().st_size <= PROBE_LIMIT else None
        if kind:
            found[kind].append(path)
        else:
            out[path] = route(store, path, _note(path, reason))
    if found["policies"] or found["locations"]:
        out.update(_policy_set(store, settings, found["policies"], found["locations"]))
    return out


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
