"""Microsoft Sentinel scheduled analytic rules as vigil detections (``vigil detections import-sentinel``).

A rule's KQL is translated once, at import, by the hunting engine (the same rewrites, extensions
and read-only checks as a hunt) and stored with the detections imported from other formats
(:mod:`vigil.detections.imported`, origin ``sentinel``), so ``vigil analyze`` runs it beside the
catalogue and its findings feed incidents like any detection's. What Sentinel does around the
query is kept:

* **queryPeriod**: each Sentinel table the query reads is cut to the period before *now*;
* **now**: ``now()`` / ``ago()`` are the newest event in the store (vigil analyses logs after
  the fact, so the wall clock would find nothing in yesterday's export);
* **trigger**: rows are findings only when their count passes ``triggerOperator`` /
  ``triggerThreshold``;
* **severity** becomes the level (High -> high, Medium -> medium, Low and Informational -> low);
  ``relevantTechniques`` the MITRE ids; the tactics go in the evidence;
* **entity mappings**: the Account entity's ``FullName`` (or ``Name`` + ``UPNSuffix``, or
  ``Name``) column is the user, ``AadUserId`` the user id; the IP entity's address goes in the
  evidence. A rule with no Account entity is refused: a detection is about a user.

``queryFrequency`` is recorded in the evidence; vigil runs the rule whenever detections run.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import duckdb_kql

from vigil.detections.imported import IMPORTED_DETECTIONS, Imported
from vigil.errors import InputError, QueryError
from vigil.hunt.adapter import _schema, _translate_error, ensure_views
from vigil.hunt.functions import with_prelude
from vigil.hunt.guard import check_kql
from vigil.hunt.kqlext import install as install_extensions
from vigil.hunt.rewrite import rewrite, watchlist_relation
from vigil.hunt.sentinel import SentinelContent, load_content
from vigil.hunt.watchlist import items_sql
from vigil.store import Store, literal

ORIGIN = "sentinel"
_LEVELS = {"High": "high", "Medium": "medium", "Low": "low", "Informational": "low"}
#: the Sentinel-named tables a rule may read, each cut to the rule's queryPeriod
_TABLES = ("SigninLogs", "AADNonInteractiveUserSignInLogs", "AADServicePrincipalSignInLogs",
           "AADManagedIdentitySignInLogs", "AuditLogs", "OfficeActivity", "BehaviorAnalytics", "IdentityInfo",
           "AADRiskyUsers", "AADUserRiskEvents", "SecurityAlert", "SecurityIncident")
_TIME_COLUMNS = ("TimeGenerated", "timestamp", "StartTime", "StartTimeUtc", "FirstSeen", "LastSeen",
                 "EndTime", "EndTimeUtc")
NOW_SQL = ("(SELECT max(t) FROM (SELECT max(event_time) AS t FROM signins UNION ALL "
           "SELECT max(event_time) FROM activities UNION ALL SELECT max(event_time) FROM directory_events))")


@dataclass(frozen=True)
class SentinelImport:
    rule: Imported
    content: SentinelContent
    columns: list[str]
    user_column: str

    def to_dict(self) -> dict[str, object]:
        return {"id": self.rule.id, "name": self.content.name, "level": self.rule.level,
                "severity": self.content.severity, "mitre": list(self.rule.mitre),
                "tactics": list(self.content.tactics), "user": self.user_column, "activity": self.rule.activity,
                "requires": list(self.rule.requires), "columns": self.columns, "path": self.rule.path}


def _slug(content: SentinelContent) -> str:
    key = content.id or re.sub(r"[^a-z0-9]+", "-", content.name.lower()).strip("-")
    return f"{ORIGIN}:{key}"


def _user_expr(content: SentinelContent, columns: list[str]) -> tuple[str, str | None, str]:
    """(user principal name expression, user id expression, what was used) from the Account entity."""
    def col(name: str) -> str:
        return f'q."{name}"'

    for m in content.entity_mappings:
        if m.entity_type.lower() != "account":
            continue
        f = {k.lower(): v for k, v in m.fields.items() if v in columns}
        uid = f"CAST({col(f['aaduserid'])} AS VARCHAR)" if "aaduserid" in f else None
        if "fullname" in f:
            return f"lower(CAST({col(f['fullname'])} AS VARCHAR))", uid, f["fullname"]
        if "name" in f and "upnsuffix" in f:
            return (f"lower(CAST({col(f['name'])} AS VARCHAR) || '@' || CAST({col(f['upnsuffix'])} AS VARCHAR))",
                    uid, f"{f['name']}@{f['upnsuffix']}")
        if "name" in f:
            return f"lower(CAST({col(f['name'])} AS VARCHAR))", uid, f["name"]
        if uid:
            return "NULL", uid, f["aaduserid"]
    missing = [v for m in content.entity_mappings if m.entity_type.lower() == "account" for v in m.fields.values()]
    if missing:
        raise InputError(f"{content.source}: the Account entity's columns {missing} are not in the query's output "
                         f"{columns}")
    raise InputError(f"{content.source}: no Account entity mapping: vigil detections are about a user")


def _ip_expr(content: SentinelContent, columns: list[str]) -> str:
    for m in content.entity_mappings:
        if m.entity_type.lower() == "ip":
            for ident, column in m.fields.items():
                if ident.lower() == "address" and column in columns:
                    return f'CAST(q."{column}" AS VARCHAR)'
    return "NULL"


def translate_rule(store: Store, content: SentinelContent) -> str:
    """The rule's query as DuckDB SQL over the store: now is the newest event, the Sentinel tables cut
    to queryPeriod, watchlists read in place."""
    if content.frequency is None or content.period is None:
        raise InputError(f"{content.source}: not a scheduled analytic rule (no queryFrequency / queryPeriod)")
    install_extensions()
    check_kql(content.query)
    ensure_views(store)
    rewritten = rewrite(content.query)
    check_kql(rewritten.text)
    schema = _schema(store)
    for alias in rewritten.watchlists:
        cols = [d[0] for d in store.con.sql(items_sql(store, alias) + " LIMIT 0").description]
        schema[watchlist_relation(alias)] = cols
    try:
        sql = duckdb_kql.to_sql(with_prelude(rewritten.text), schema=schema, allow_write=False,
                                query_now=datetime(1901, 1, 1))
    except duckdb_kql.KqlError as exc:
        raise _translate_error(exc, store) from None
    if sql.unbound:
        raise QueryError(f"declared query parameter with no value: {', '.join(sql.unbound)}")
    text = str(sql).replace("$kqlnow", NOW_SQL)
    if "$" in re.sub(r"'[^']*'", "", text):
        raise QueryError(f"{content.source}: the translated query keeps a parameter vigil cannot bind")
    seconds = int(content.period.total_seconds())
    pattern = re.compile(r'FROM "(' + "|".join(_TABLES) + r')"(?![\w."])')
    text = pattern.sub(lambda m: f'FROM (SELECT * FROM "{m.group(1)}" WHERE "TimeGenerated" > {NOW_SQL} - '
                                 f"INTERVAL '{seconds} seconds') AS \"{m.group(1)}\"", text)
    for alias in rewritten.watchlists:
        name = watchlist_relation(alias)
        text = text.replace(f'FROM "{name}"', f'FROM ({items_sql(store, alias)}) AS "{name}"')
    return text


def import_rule(store: Store, path: str | Path) -> SentinelImport:
    """Read, translate, check (run once) and store one Sentinel analytic rule; replaces a rule of the same id."""
    content = load_content(path)
    query = translate_rule(store, content)
    try:
        columns = [d[0] for d in store.con.sql(f"SELECT * FROM ({query}) AS q LIMIT 0").description]
    except duckdb.Error as exc:
        raise _translate_error(exc, store) from None
    user, user_id, used = _user_expr(content, columns)
    time_col = next((c for c in _TIME_COLUMNS if c in columns), None)
    when = f'TRY_CAST(q."{time_col}" AS TIMESTAMP)' if time_col else NOW_SQL
    event = 'CAST(q."event_id" AS VARCHAR)' if "event_id" in columns else (
        'CAST(q."_ItemId" AS VARCHAR)' if "_ItemId" in columns else "NULL")
    level = _LEVELS[content.severity]
    op = {"gt": ">", "lt": "<", "eq": "=", "ne": "<>"}[content.trigger_operator]
    facts = json.dumps({"rule": content.name, "rule_id": content.id, "severity": content.severity,
                        "tactics": list(content.tactics), "queryFrequency": str(content.frequency),
                        "queryPeriod": str(content.period), "trigger": f"{content.trigger_operator} "
                                                                      f"{content.trigger_threshold}"})
    reason = (f"'Sentinel analytic rule \"{content.name}\" matched ' || coalesce({user}, 'an account')"
              f" || coalesce(' from ' || {_ip_expr(content, columns)}, '')")
    finding = f"""
    WITH q AS ({query}), n AS (SELECT count(*) AS rows FROM q)
    SELECT {event} AS event_id, {user_id or 'NULL'} AS user_id, {user} AS user_principal_name,
           coalesce({when}, {NOW_SQL}) AS activity_time, {literal(level)} AS risk_level,
           {reason} AS reason,
           json_merge_patch(CAST({literal(facts)} AS JSON), json_object('row', to_json(q))) AS evidence
    FROM q, n WHERE n.rows {op} {content.trigger_threshold}"""
    try:
        store.con.sql(f"SELECT count(*) FROM ({finding}) AS f").fetchall()
    except duckdb.Error as exc:
        raise _translate_error(exc, store) from None
    requires = tuple(t for t in ("signins", "activities", "directory_events") if store.exists(t))
    rule = Imported(id=_slug(content), origin=ORIGIN, title=content.name,
                    description=content.description or content.name, level=level,
                    source_level=content.severity, mitre=content.techniques,
                    tags=tuple(content.tactics), logsource=", ".join(content.data_types),
                    activity="signin" if event != "NULL" else "user", requires=requires, sql=finding,
                    path=str(path))
    store.ensure([IMPORTED_DETECTIONS])
    with store.transaction():
        store.execute("DELETE FROM imported_detections WHERE id = ?", [rule.id])
        store.execute(
            "INSERT INTO imported_detections VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now()::TIMESTAMP)",
            [rule.id, rule.origin, rule.title, rule.description, rule.level, rule.source_level,
             json.dumps(list(rule.mitre)), json.dumps(list(rule.tags)), rule.logsource, rule.activity,
             json.dumps(list(rule.requires)), rule.sql, rule.path])
    return SentinelImport(rule, content, columns, used)
