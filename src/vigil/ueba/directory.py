"""Directory ingestion: files -> directory_* tables -> ``IdentityInfo``.

Re-ingesting a file replaces what that file contributed (idempotent). IdentityInfo is
rebuilt from all directory rows in SQL: per user, the newest non-null value of each
field wins, memberships are unioned, and BlastRadius comes from the org tree (transitive
reports through ``Manager``) and assigned roles.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa

from vigil.errors import InputError, VigilError
from vigil.store import Store
from vigil.store.schema import QUARANTINE, Table
from vigil.ueba.directory_read import DirectoryBatch, read_directory_file, user_key
from vigil.ueba.tables import DIRECTORY_GROUPS, DIRECTORY_MEMBERSHIPS, DIRECTORY_USERS, IDENTITY_INFO

# Built-in roles that reach the whole tenant; holding one makes the blast radius High.
PRIVILEGED_ROLES = (
    "Global Administrator", "Company Administrator", "Privileged Role Administrator",
    "Privileged Authentication Administrator", "Security Administrator", "Conditional Access Administrator",
    "Exchange Administrator", "SharePoint Administrator", "Application Administrator",
    "Cloud Application Administrator", "User Administrator", "Hybrid Identity Administrator",
    "Intune Administrator", "Authentication Administrator",
)
HIGH_REPORTS = 50  # transitive reports that make a manager's blast radius High


def ingest_directory(store: Store, paths: Iterable[str | Path], *, group_id: str | None = None) -> dict[str, Any]:
    """Read directory files into the store and rebuild IdentityInfo. Returns a summary."""
    store.ensure((DIRECTORY_USERS, DIRECTORY_MEMBERSHIPS, DIRECTORY_GROUPS, IDENTITY_INFO))
    files: list[dict[str, Any]] = []
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    for path in paths:
        ingest_id = uuid.uuid4().hex[:16]
        try:
            batch = read_directory_file(path, group_id=group_id)
        except VigilError as exc:
            # A whole file that cannot be read is quarantined too, so `vigil quarantine` shows it.
            _quarantine(store, ingest_id, str(path), None, [(None, str(exc), None)], now)
            files.append(dict(file=str(path), format=None, error=str(exc), users=0, groups=0,
                              memberships=0, quarantined=1))
            continue
        _write_batch(store, batch, now)
        _quarantine(store, ingest_id, batch.path, batch.kind,
                    [(q.line, q.reason, q.raw) for q in batch.quarantined], now)
        files.append(dict(file=batch.path, format=batch.kind, users=len(batch.users), groups=len(batch.groups),
                          memberships=len(batch.memberships), quarantined=len(batch.quarantined)))
    rebuilt = build_identity_info(store, now)
    return dict(files=files, identities=rebuilt,
                quarantined=sum(f["quarantined"] for f in files),
                failed_files=[f["file"] for f in files if f.get("error")])


def _arrow(table: Table, rows: list[dict[str, Any]]) -> pa.Table:
    cols = table.column_names
    json_cols = {c.name for c in table.columns if c.type.startswith("JSON")}
    data: dict[str, list[Any]] = {c: [] for c in cols}
    for r in rows:
        for c in cols:
            v = r.get(c)
            data[c].append(orjson.dumps(v).decode() if c in json_cols and v is not None else v)
    return pa.table(data) if rows else pa.table({c: pa.array([], pa.string()) for c in cols})


def _insert(store: Store, table: Table, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    arrow = _arrow(table, rows)
    store.con.register("_dir_rows", arrow)
    try:
        select = ", ".join(f'{store.ident(c.name)}::{c.type.replace(" NOT NULL", "")}' for c in table.columns)
        store.execute(f"INSERT INTO {store.ident(table.name)} SELECT {select} FROM _dir_rows")
    finally:
        store.con.unregister("_dir_rows")


def _write_batch(store: Store, batch: DirectoryBatch, now: datetime) -> None:
    con = store.con
    for t in (DIRECTORY_USERS, DIRECTORY_MEMBERSHIPS, DIRECTORY_GROUPS):
        con.execute(f"DELETE FROM {store.ident(t.name)} WHERE source_file = ?", [batch.path])
    users = []
    for u in batch.users:
        users.append(dict(u, user_key=user_key(u["object_id"], u["upn"]), source_file=batch.path,
                          observed_at=u.get("observed_at") or now))
    _insert(store, DIRECTORY_USERS, users)
    _insert(store, DIRECTORY_GROUPS, batch.groups)
    _insert(store, DIRECTORY_MEMBERSHIPS, batch.memberships)


def _quarantine(store: Store, ingest_id: str, path: str, fmt: str | None,
                items: list[tuple[int | None, str, str | None]], now: datetime) -> None:
    if not items:
        return
    store.ensure((QUARANTINE,))
    store.con.executemany(
        "INSERT INTO quarantine (ingest_id, source_file, source_format, line, byte_offset, reason, raw, "
        "quarantined_at) VALUES (?, ?, ?, ?, NULL, ?, ?, ?)",
        [[ingest_id, path, fmt, line, reason, (raw or "")[:65536], now] for line, reason, raw in items],
    )


_FIELDS = ("display_name", "given_name", "surname", "mail", "department", "job_title", "company_name",
           "manager", "account_enabled", "created", "user_type", "on_prem_sid", "city", "state", "country",
           "change_source")


def build_identity_info(store: Store, now: datetime | None = None) -> int:
    """Rebuild IdentityInfo from the directory_* tables; returns the number of identities."""
    store.ensure((DIRECTORY_USERS, DIRECTORY_MEMBERSHIPS, DIRECTORY_GROUPS, IDENTITY_INFO))
    now = now or datetime.now(timezone.utc).replace(tzinfo=None)
    d = store.dialect
    latest = ",\n    ".join(
        f"{d.arg_max(f, 'observed_at')} FILTER (WHERE {f} IS NOT NULL) AS {f}" for f in _FIELDS)
    roles = ", ".join(d.literal(r.lower()) for r in PRIVILEGED_ROLES)
    con = store.con
    for column in IDENTITY_INFO.columns[-2:]:   # added after the table first shipped: stores made before lack them
        con.execute(f'ALTER TABLE IdentityInfo ADD COLUMN IF NOT EXISTS "{column.name}" {column.type}')
    con.execute("DELETE FROM IdentityInfo")
    con.execute(f"""
    INSERT INTO IdentityInfo
    WITH RECURSIVE upn_to_id AS (   -- a record keyed by UPN belongs to the object id another record gives it
        SELECT upn, min(object_id) AS object_id FROM directory_users
        WHERE upn IS NOT NULL AND object_id IS NOT NULL GROUP BY upn
    ),
    u AS (
        SELECT coalesce(d.object_id, m.object_id, d.upn) AS k, d.*
        FROM directory_users d LEFT JOIN upn_to_id m ON d.object_id IS NULL AND m.upn = d.upn
    ),
    people AS (
        SELECT k AS user_key, min(object_id) AS object_id,
               {d.arg_max('upn', 'observed_at')} FILTER (WHERE upn IS NOT NULL) AS upn,
            {latest},
            max(observed_at) AS observed_at
        FROM u GROUP BY k
    ),
    edges AS (
        SELECT DISTINCT coalesce(m2.object_id, e.member_key) AS user_key, e.kind,
               coalesce(e.group_name, g.group_name, e.group_id) AS name
        FROM directory_memberships e
        LEFT JOIN upn_to_id m2 ON m2.upn = e.member_key
        LEFT JOIN (SELECT group_id, max(group_name) AS group_name FROM directory_groups GROUP BY group_id) g
               ON g.group_id = e.group_id
    ),
    agg AS (
        SELECT user_key,
               to_json(list(name ORDER BY name) FILTER (WHERE kind = 'group')) AS groups,
               to_json(list(name ORDER BY name) FILTER (WHERE kind = 'role')) AS roles,
               count(*) FILTER (WHERE kind = 'role' AND lower(name) IN ({roles})) AS privileged,
               {d.string_agg('name', ', ', order_by='name')} FILTER (WHERE kind = 'role' AND lower(name) IN ({roles}))
                   AS privileged_names,
               count(*) FILTER (WHERE kind = 'role') AS role_count,
               to_json(list(name ORDER BY name) FILTER (WHERE kind = 'role' AND lower(name) IN ({roles})))
                   AS privileged_roles
        FROM edges GROUP BY user_key
    ),
    mgr AS (  -- manager given as object id or UPN -> the manager's user_key
        SELECT p.user_key, coalesce(byid.user_key, byupn.user_key) AS manager_key
        FROM people p
        LEFT JOIN people byid ON byid.object_id = p.manager
        LEFT JOIN people byupn ON byupn.upn = lower(p.manager)
        WHERE p.manager IS NOT NULL
    ),
    tree(manager_key, report_key, depth) AS (
        SELECT manager_key, user_key, 1 FROM mgr WHERE manager_key IS NOT NULL
        UNION ALL  -- one manager per user: no duplicate paths (and `reports` counts DISTINCT); Spark needs ALL
        SELECT m.manager_key, t.report_key, t.depth + 1
        FROM tree t JOIN mgr m ON m.user_key = t.manager_key
        WHERE t.depth < 32 AND m.manager_key IS NOT NULL   -- depth cap: manager cycles must not loop
    ),
    reports AS (
        SELECT manager_key AS user_key, count(DISTINCT report_key) AS transitive,
               count(DISTINCT report_key) FILTER (WHERE depth = 1) AS direct
        FROM tree GROUP BY manager_key
    ),
    has_tree AS (SELECT count(*) > 0 AS yes FROM mgr WHERE manager_key IS NOT NULL)
    SELECT p.observed_at, p.object_id, p.upn, p.display_name,
           split_part(p.upn, '@', 1), nullif(split_part(p.upn, '@', 2), ''),
           p.given_name, p.surname, p.mail, p.department, p.job_title, p.company_name,
           coalesce(mp.upn, p.manager),
           coalesce(a.groups, '[]')::JSON, coalesce(a.roles, '[]')::JSON,
           p.created, p.account_enabled, p.user_type, p.on_prem_sid, p.city, p.state, p.country,
           CASE WHEN coalesce(a.privileged, 0) > 0 OR coalesce(r.transitive, 0) >= {HIGH_REPORTS}
                     OR (ht.yes AND m.manager_key IS NULL AND coalesce(r.direct, 0) > 0) THEN 'High'
                WHEN coalesce(a.role_count, 0) > 0 OR coalesce(r.direct, 0) > 0 THEN 'Medium'
                ELSE 'Low' END,
           concat_ws('; ',
               CASE WHEN a.privileged > 0 THEN 'privileged role: ' || a.privileged_names END,
               CASE WHEN a.role_count > coalesce(a.privileged, 0) THEN
                   (a.role_count - coalesce(a.privileged, 0)) || ' other directory role(s)' END,
               CASE WHEN r.transitive > 0 THEN r.direct || ' direct / ' || r.transitive || ' transitive reports' END,
               CASE WHEN ht.yes AND m.manager_key IS NULL AND coalesce(r.direct, 0) > 0 THEN 'top of the org tree' END,
               CASE WHEN NOT ht.yes THEN 'no Manager data in the directory: org-tree position unknown' END,
               CASE WHEN ht.yes AND coalesce(a.role_count, 0) = 0 AND r.transitive IS NULL
                    THEN 'no roles, no reports' END),
           p.change_source,
           CASE WHEN p.on_prem_sid IS NOT NULL THEN 'Hybrid' ELSE 'AzureActiveDirectory' END,
           coalesce(p.upn, p.user_key),   -- the UEBA user key: UPN (what every log carries), else object id
           CASE WHEN coalesce(a.privileged, 0) > 0 THEN '["Sensitive"]' ELSE '[]' END::JSON,
           coalesce(a.privileged_roles, '[]')::JSON
    FROM people p
    CROSS JOIN has_tree ht
    LEFT JOIN agg a ON a.user_key = p.user_key
    LEFT JOIN reports r ON r.user_key = p.user_key
    LEFT JOIN mgr m ON m.user_key = p.user_key
    LEFT JOIN people mp ON mp.user_key = m.manager_key
    """)
    return store.count("IdentityInfo")


def directory_summary(store: Store) -> dict[str, Any]:
    if not store.exists("IdentityInfo"):
        raise InputError("no directory ingested yet; run `vigil directory ingest PATH`")
    rows = store.query(
        'SELECT BlastRadius, count(*) AS n FROM IdentityInfo GROUP BY 1 ORDER BY 1').to_pylist()
    return dict(identities=store.count("IdentityInfo"),
                blast_radius={r["BlastRadius"]: r["n"] for r in rows})
