"""Read directory files into user, group and membership records.

Formats (recognised from content, never from the file name alone):

* Graph JSON pages: ``users`` (optionally ``$expand=manager,memberOf``), ``groups``
  (optionally ``$expand=members``), ``directoryRoles`` (with ``members``), and
  ``groups/{id}/members`` pages (``directoryObjects``; the group id comes from the
  ``@odata.context`` / ``@odata.nextLink`` URL or the caller's ``group_id``).
* Sentinel ``IdentityInfo`` CSV exports (``AccountObjectId``, ``AccountUPN`` ...).
* The ``AADUserInfo`` custom-log CSV (``UserPrincipalName_s``, ``ObjectId_g`` ...).
* A plain CSV (``id, userPrincipalName, displayName, department, jobTitle, manager,
  groups, roles, accountEnabled, createdDateTime, userType``; groups/roles ``;``-separated
  or a JSON array).

Directory files are small (thousands of rows), so this is plain Python; the set-based
work (IdentityInfo, BlastRadius, peers) happens in SQL afterwards.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson

from vigil.errors import InputError, UnknownFormatError

_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_GROUP_MEMBERS_URL = re.compile(r"groups(?:/|\()'?([0-9a-fA-F-]{36})'?\)?/(?:transitive)?members", re.I)
_US_TIME = re.compile(
    r"^(\d{1,2})/(\d{1,2})/(\d{4}),?\s+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?\s*(AM|PM)?$", re.I
)


@dataclass
class Quarantined:
    line: int | None
    reason: str
    raw: str


@dataclass
class DirectoryBatch:
    """What one file yielded."""

    path: str
    kind: str
    users: list[dict[str, Any]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)
    memberships: list[dict[str, Any]] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)


def parse_time(value: Any) -> datetime | None:
    """ISO 8601 (Graph), or the US forms Sentinel exports use ("6/4/2021, 4:00:37.371 PM",
    "11/4/2020 21:11"). Graph's ``0001-01-01T00:00:00Z`` means "never" and gives None."""
    if value is None:
        return None
    text = str(value).strip()
    if not text or text.startswith("0001-01-01"):
        return None
    m = _US_TIME.match(text)
    if m:
        mo, d, y, h, mi, s, frac, ampm = m.groups()
        hour = int(h)
        if ampm:
            hour = hour % 12 + (12 if ampm.upper() == "PM" else 0)
        micro = int((frac or "0").ljust(6, "0"))
        return datetime(int(y), int(mo), int(d), hour, int(mi), int(s or 0), micro)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"unrecognised date/time {text!r}") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    return parsed


def parse_bool(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "enabled"):
        return True
    if text in ("false", "0", "no", "disabled"):
        return False
    if not text:
        return None
    raise ValueError(f"not a boolean: {value!r}")


def parse_list(value: Any) -> list[str]:
    """A JSON array, or a ``;``/``|``-separated list; empty for null/blank."""
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value if v not in (None, "")]
    text = str(value).strip()
    if not text:
        return []
    if text.startswith("["):
        try:
            loaded = orjson.loads(text)
        except orjson.JSONDecodeError:
            raise ValueError(f"not a JSON array: {text[:80]!r}") from None
        return [str(v) for v in loaded if v not in (None, "")]
    return [p.strip() for p in re.split(r"[;|]", text) if p.strip()]


def user_key(object_id: str | None, upn: str | None) -> str | None:
    return object_id or (upn.lower() if upn else None)


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def read_directory_file(path: str | Path, *, group_id: str | None = None) -> DirectoryBatch:
    """Parse one directory file. Raises UnknownFormatError when nothing recognises it."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror})", path=str(p)) from None
    text = data.decode("utf-8-sig", errors="replace")
    head = text.lstrip()[:1]
    if head in ("{", "["):
        try:
            doc = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise InputError(f"not valid JSON ({exc})", path=str(p)) from None
        return _read_graph(str(p), doc, group_id)
    return _read_csv(str(p), text)


# --------------------------------------------------------------------------- Graph JSON

def _graph_kind(doc: Any, items: list[Any]) -> str:
    context = str(doc.get("@odata.context", "")) if isinstance(doc, dict) else ""
    next_link = str(doc.get("@odata.nextLink", "")) if isinstance(doc, dict) else ""
    if _GROUP_MEMBERS_URL.search(context) or _GROUP_MEMBERS_URL.search(next_link):
        return "members"
    for marker, kind in (("#users", "users"), ("#groups", "groups"), ("#directoryRoles", "roles"),
                         ("#directoryObjects", "members")):
        if marker in context:
            return kind
    first = next((i for i in items if isinstance(i, dict)), {})
    otype = str(first.get("@odata.type", ""))
    if otype.endswith(".group") or "groupTypes" in first or "securityEnabled" in first:
        return "groups"
    if otype.endswith(".directoryRole") or "roleTemplateId" in first:
        return "roles"
    if otype.endswith(".user") or "userPrincipalName" in first:
        return "users"
    return "unknown"


def _read_graph(path: str, doc: Any, group_id: str | None) -> DirectoryBatch:
    if isinstance(doc, dict) and isinstance(doc.get("value"), list):
        items: list[Any] = doc["value"]
    elif isinstance(doc, list):
        items = doc
    else:
        raise UnknownFormatError("JSON without a Graph 'value' array", path=path)
    kind = _graph_kind(doc, items)
    batch = DirectoryBatch(path, f"graph_{kind}")
    if kind == "unknown":
        raise UnknownFormatError("JSON 'value' items are neither users, groups, roles nor members", path=path)
    if kind == "members":
        gid = group_id
        for link in (doc.get("@odata.context"), doc.get("@odata.nextLink")) if isinstance(doc, dict) else ():
            m = _GROUP_MEMBERS_URL.search(str(link or ""))
            gid = gid or (m.group(1) if m else None)
        if gid is None:
            m = _GUID.search(Path(path).name)
            gid = m.group(0) if m else None
        if gid is None:
            raise InputError(
                "groups/{id}/members page without a group id: pass --group ID, or keep the "
                "@odata.nextLink, or put the group id in the file name", path=path)
        for i, item in enumerate(items):
            _member(batch, f"value[{i}]", item, gid, None, "group")
        return batch
    for i, item in enumerate(items):
        where = f"value[{i}]"
        if not isinstance(item, dict):
            batch.quarantined.append(Quarantined(None, f"{where}: not a JSON object", orjson.dumps(item).decode()))
            continue
        if kind == "users":
            _graph_user(batch, where, item)
        else:
            _graph_group(batch, where, item, "role" if kind == "roles" else "group")
    return batch


def _graph_user(batch: DirectoryBatch, where: str, item: dict[str, Any]) -> None:
    raw = orjson.dumps(item).decode()
    oid, upn = _clean(item.get("id")), _clean(item.get("userPrincipalName"))
    if upn is None:  # guests listed with identities[] only (user-list example 8)
        for ident in item.get("identities") or []:
            if isinstance(ident, dict) and ident.get("signInType") == "userPrincipalName":
                upn = _clean(ident.get("issuerAssignedId"))
    if oid is None and upn is None:
        batch.quarantined.append(Quarantined(None, f"{where}: user has neither id nor userPrincipalName", raw))
        return
    try:
        created = parse_time(item.get("createdDateTime"))
        activity = item.get("signInActivity") or {}
        last = parse_time(activity.get("lastSignInDateTime")) if isinstance(activity, dict) else None
        enabled = parse_bool(item.get("accountEnabled"))
    except ValueError as exc:
        batch.quarantined.append(Quarantined(None, f"{where}: {exc}", raw))
        return
    manager = item.get("manager")
    manager_ref = None
    if isinstance(manager, dict):
        manager_ref = _clean(manager.get("id")) or _clean(manager.get("userPrincipalName"))
    groups: list[str] = []
    roles: list[str] = []
    for j, m in enumerate(item.get("memberOf") or []):
        if not isinstance(m, dict):
            continue
        otype = str(m.get("@odata.type", ""))
        name = _clean(m.get("displayName"))
        gid = _clean(m.get("id")) or name
        if gid is None:
            batch.quarantined.append(Quarantined(None, f"{where}.memberOf[{j}]: no id or displayName", raw))
            continue
        rkind = "role" if otype.endswith("directoryRole") else "group"
        (roles if rkind == "role" else groups).append(name or gid)
        batch.memberships.append(dict(group_id=gid, group_name=name, kind=rkind,
                                      member_key=user_key(oid, upn), source_file=batch.path))
    batch.users.append(dict(
        object_id=oid, upn=upn.lower() if upn else None, display_name=_clean(item.get("displayName")),
        given_name=_clean(item.get("givenName")), surname=_clean(item.get("surname")),
        mail=_clean(item.get("mail")), department=_clean(item.get("department")),
        job_title=_clean(item.get("jobTitle")), company_name=_clean(item.get("companyName")),
        manager=manager_ref, account_enabled=enabled, created=created, user_type=_clean(item.get("userType")),
        on_prem_sid=_clean(item.get("onPremisesSecurityIdentifier")), city=_clean(item.get("city")),
        state=_clean(item.get("state")), country=_clean(item.get("country")) or _clean(item.get("usageLocation")),
        last_sign_in=last, groups=groups or None, roles=roles or None, change_source="Graph", observed_at=None,
    ))


def _graph_group(batch: DirectoryBatch, where: str, item: dict[str, Any], kind: str) -> None:
    gid, name = _clean(item.get("id")), _clean(item.get("displayName"))
    if gid is None:
        batch.quarantined.append(Quarantined(None, f"{where}: {kind} without id", orjson.dumps(item).decode()))
        return
    batch.groups.append(dict(group_id=gid, group_name=name, kind=kind,
                             security_enabled=item.get("securityEnabled"), mail_enabled=item.get("mailEnabled"),
                             source_file=batch.path))
    for j, member in enumerate(item.get("members") or []):
        _member(batch, f"{where}.members[{j}]", member, gid, name, kind)


def _member(batch: DirectoryBatch, where: str, item: Any, gid: str, name: str | None, kind: str) -> None:
    raw = orjson.dumps(item).decode()
    if not isinstance(item, dict):
        batch.quarantined.append(Quarantined(None, f"{where}: not a JSON object", raw))
        return
    otype = str(item.get("@odata.type", "#microsoft.graph.user"))
    if not otype.endswith(".user"):  # nested groups, devices, service principals are not people
        return
    key = user_key(_clean(item.get("id")), _clean(item.get("userPrincipalName")))
    if key is None:
        batch.quarantined.append(Quarantined(None, f"{where}: member has neither id nor userPrincipalName", raw))
        return
    batch.memberships.append(dict(group_id=gid, group_name=name, kind=kind, member_key=key, source_file=batch.path))
    if item.get("userPrincipalName") or item.get("displayName"):
        _graph_user(batch, where, {k: v for k, v in item.items() if k != "memberOf"})


# --------------------------------------------------------------------------- CSV

# canonical field -> accepted header spellings (compared lower-cased, without " [UTC]")
_CSV_ALIASES: dict[str, tuple[str, ...]] = {
    "object_id": ("accountobjectid", "objectid_g", "objectid", "id", "userid", "object_id"),
    "upn": ("accountupn", "userprincipalname_s", "userprincipalname", "upn", "user_principal_name"),
    "display_name": ("accountdisplayname", "displayname_s", "displayname", "display_name", "name"),
    "given_name": ("givenname", "givenname_s", "given_name"),
    "surname": ("surname", "surname_s"),
    "mail": ("mailaddress", "mail_s", "mail", "email"),
    "department": ("department", "department_s"),
    "job_title": ("jobtitle", "jobtitle_s", "job_title", "title"),
    "company_name": ("companyname", "companyname_s", "company"),
    "manager": ("manager", "manager_s", "managerupn", "manager_upn"),
    "account_enabled": ("isaccountenabled", "accountenabled_b", "accountenabled", "enabled", "account_enabled"),
    "created": ("accountcreationtime", "extensionproperty_createddatetime_s", "createddatetime", "created"),
    "user_type": ("usertype", "usertype_s", "user_type"),
    "on_prem_sid": ("accountsid", "onpremisessecurityidentifier_s", "onpremisessecurityidentifier"),
    "city": ("city", "city_s"),
    "state": ("state", "state_s"),
    "country": ("country", "country_s", "usagelocation_s"),
    "groups": ("groupmembership", "groups", "memberof"),
    "roles": ("assignedroles", "roles", "directoryroles"),
    "observed_at": ("timegenerated",),
}


def _norm_header(h: str) -> str:
    return h.replace("[UTC]", "").strip().lower().replace(" ", "")


def _read_csv(path: str, text: str) -> DirectoryBatch:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise InputError("empty file", path=path) from None
    cols = [_norm_header(h) for h in header]
    if "accountobjectid" in cols or "accountupn" in cols:
        kind, source = "identityinfo_csv", "IdentityInfo"
    elif "userprincipalname_s" in cols or "objectid_g" in cols:
        kind, source = "aaduserinfo_csv", "AADUserInfo"
    elif {"userprincipalname", "upn", "id", "objectid"} & set(cols):
        kind, source = "directory_csv", "CSV"
    else:
        raise UnknownFormatError(
            "CSV header has no user identifier (AccountObjectId/AccountUPN, UserPrincipalName_s, "
            "userPrincipalName or id)", path=path)
    index: dict[str, int] = {}
    for canon, names in _CSV_ALIASES.items():
        for name in names:
            if name in cols:
                index[canon] = cols.index(name)
                break
    batch = DirectoryBatch(path, kind)
    line = 1
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        raw = ",".join(cells)
        if len(cells) != len(header):
            why = f"line {line}: {len(cells)} cells, header has {len(header)}"
            batch.quarantined.append(Quarantined(line, why, raw))
            continue

        def get(canon: str, row: list[str] = cells) -> str | None:
            i = index.get(canon)
            return _clean(row[i]) if i is not None else None

        field_name = "?"
        try:
            rec: dict[str, Any] = {k: get(k) for k in _CSV_ALIASES}
            for field_name in ("account_enabled",):
                rec[field_name] = parse_bool(rec[field_name])
            for field_name in ("created", "observed_at"):
                rec[field_name] = parse_time(rec[field_name])
            for field_name in ("groups", "roles"):
                rec[field_name] = parse_list(rec[field_name]) or None
        except ValueError as exc:
            col = header[index[field_name]] if field_name in index else field_name
            batch.quarantined.append(Quarantined(line, f"line {line}, column {col}: {exc}", raw))
            continue
        if rec["object_id"] is None and rec["upn"] is None:
            batch.quarantined.append(Quarantined(line, f"line {line}: row has neither object id nor UPN", raw))
            continue
        rec["upn"] = rec["upn"].lower() if rec["upn"] else None
        rec.update(change_source=source, last_sign_in=None)
        batch.users.append(rec)
        oid = rec["object_id"]
        for kind_name, names in (("group", rec["groups"]), ("role", rec["roles"])):
            for n in names or []:
                batch.memberships.append(dict(group_id=n, group_name=n, kind=kind_name,
                                              member_key=user_key(oid, rec["upn"]), source_file=path))
    return batch
