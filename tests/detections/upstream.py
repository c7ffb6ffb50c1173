"""Contract-shaped upstream tables for detection, risk and incident tests.

The enrichment, sessions and UEBA areas own these relations (docs/architecture.md, "Table
contracts"); tests here create them as plain tables with exactly the contract columns so
detections can be tested alone. ``insert`` fills unspecified columns with NULL.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pyarrow as pa

from vigil.store import Store
from vigil.store.schema import ACTIVITIES, SIGNINS

_GEO = [
    ("geo_country", "VARCHAR"), ("geo_state", "VARCHAR"), ("geo_city", "VARCHAR"),
    ("geo_latitude", "DOUBLE"), ("geo_longitude", "DOUBLE"), ("geo_accuracy_km", "DOUBLE"),
    ("geo_source", "VARCHAR"), ("asn_number", "INTEGER"), ("as_org", "VARCHAR"), ("ip_class", "VARCHAR"),
    ("is_corporate_egress", "BOOLEAN"), ("egress_name", "VARCHAR"), ("threat_intel", "VARCHAR"),
    ("ua_family", "VARCHAR"), ("ua_major", "VARCHAR"), ("ua_os_family", "VARCHAR"),
    ("ua_device_family", "VARCHAR"), ("ua_class", "VARCHAR"),
]
# the identity stage's keys (docs/identity.md); rows that give none get the views' own fallback
_IDENTITY = [("identity_id", "VARCHAR"), ("person_id", "VARCHAR")]

UPSTREAM: dict[str, list[tuple[str, str]]] = {
    "signins_enriched": [(c.name, c.type.replace(" NOT NULL", "")) for c in SIGNINS.columns]
    + _GEO + [("location_is_stale", "BOOLEAN")] + _IDENTITY,
    "activities_enriched": [(c.name, c.type.replace(" NOT NULL", "")) for c in ACTIVITIES.columns] + _GEO
    + _IDENTITY,
    "egress_points": [("kind", "VARCHAR"), ("value", "VARCHAR"), ("name", "VARCHAR"), ("origin", "VARCHAR"),
                      ("status", "VARCHAR"), ("distinct_users", "BIGINT"), ("evidence", "JSON")],
    "sessions": [(n, t) for n, t in (
        ("session_key", "VARCHAR"), ("session_id", "VARCHAR"), ("user_id", "VARCHAR"),
        ("user_principal_name", "VARCHAR"), ("inferred", "BOOLEAN"), ("stitch_method", "VARCHAR"),
        ("first_time", "TIMESTAMP"), ("last_time", "TIMESTAMP"), ("root_event_id", "VARCHAR"),
        ("root_time", "TIMESTAMP"), ("root_ip", "VARCHAR"), ("root_country", "VARCHAR"), ("root_city", "VARCHAR"),
        ("root_latitude", "DOUBLE"), ("root_longitude", "DOUBLE"), ("root_device_id", "VARCHAR"),
        ("root_os", "VARCHAR"), ("root_browser", "VARCHAR"), ("root_user_agent", "VARCHAR"),
        ("root_mfa", "BOOLEAN"), ("root_ip_class", "VARCHAR"), ("event_count", "BIGINT"),
        ("signin_count", "BIGINT"), ("activity_count", "BIGINT"), ("hop_count", "BIGINT"),
        ("countries", "JSON"), ("ips", "JSON"))],
    "event_sessions": [("event_id", "VARCHAR"), ("event_table", "VARCHAR"), ("session_key", "VARCHAR"),
                       ("link_method", "VARCHAR")],
    "session_hops": [("session_key", "VARCHAR"), ("event_id", "VARCHAR"), ("hop_time", "TIMESTAMP"),
                     ("hop_kind", "VARCHAR"), ("from_value", "VARCHAR"), ("to_value", "VARCHAR")],
    "travel": [(n, t) for n, t in (
        ("user_id", "VARCHAR"), ("user_principal_name", "VARCHAR"), ("from_event_id", "VARCHAR"),
        ("to_event_id", "VARCHAR"), ("from_time", "TIMESTAMP"), ("to_time", "TIMESTAMP"), ("from_ip", "VARCHAR"),
        ("to_ip", "VARCHAR"), ("from_country", "VARCHAR"), ("to_country", "VARCHAR"), ("from_city", "VARCHAR"),
        ("to_city", "VARCHAR"), ("from_latitude", "DOUBLE"), ("from_longitude", "DOUBLE"),
        ("to_latitude", "DOUBLE"), ("to_longitude", "DOUBLE"), ("distance_km", "DOUBLE"),
        ("adjusted_distance_km", "DOUBLE"), ("elapsed_s", "DOUBLE"), ("speed_kmh", "DOUBLE"),
        ("same_session", "BOOLEAN"), ("session_key", "VARCHAR"), ("from_ip_class", "VARCHAR"),
        ("to_ip_class", "VARCHAR"), ("to_failed", "BOOLEAN"), ("verdict", "VARCHAR"), ("reason", "VARCHAR"))],
    "session_hijacks": [(n, t) for n, t in (
        ("finding_id", "VARCHAR"), ("session_key", "VARCHAR"), ("user_id", "VARCHAR"),
        ("user_principal_name", "VARCHAR"), ("detected_time", "TIMESTAMP"), ("kind", "VARCHAR"),
        ("severity", "VARCHAR"), ("reason", "VARCHAR"), ("root_event_id", "VARCHAR"),
        ("evidence_event_ids", "JSON"), ("ip", "VARCHAR"), ("country", "VARCHAR"), ("user_agent", "VARCHAR"))],
    "BehaviorAnalytics": [(n, t) for n, t in (
        ("TenantId", "VARCHAR"), ("SourceRecordId", "VARCHAR"), ("TimeGenerated", "TIMESTAMP"),
        ("TimeProcessed", "TIMESTAMP"), ("ActivityType", "VARCHAR"), ("ActionType", "VARCHAR"),
        ("UserName", "VARCHAR"), ("UserPrincipalName", "VARCHAR"), ("EventSource", "VARCHAR"),
        ("SourceIPAddress", "VARCHAR"), ("SourceIPLocation", "VARCHAR"), ("SourceDevice", "VARCHAR"),
        ("UsersInsights", "JSON"), ("DevicesInsights", "JSON"), ("ActivityInsights", "JSON"),
        ("InvestigationPriority", "INTEGER"))],
}

_TIME_COLS = {"event_time", "first_time", "last_time", "root_time", "hop_time", "from_time", "to_time",
              "detected_time", "TimeGenerated", "TimeProcessed", "token_issued_at"}


def create_upstream(store: Store, only: list[str] | None = None) -> None:
    for name, cols in UPSTREAM.items():
        if only is not None and name not in only:
            continue
        body = ", ".join(f'"{c}" {t}' for c, t in cols)
        store.con.execute(f'create table if not exists "{name}" ({body})')


def _utc(value: Any) -> Any:
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] in "T ":
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def insert(store: Store, table: str, rows: list[dict[str, Any]]) -> None:
    """Insert rows into an upstream (or canonical) table; JSON columns accept Python values."""
    if not rows:
        return
    if table in UPSTREAM:
        create_upstream(store, [table])
    cols = [(r[0], r[1]) for r in store.con.execute(
        "select column_name, data_type from information_schema.columns where table_name = ? "
        "order by ordinal_position", [table]).fetchall()]
    names = [c for c, _ in cols]
    unknown = {k for r in rows for k in r} - set(names)
    if unknown:
        raise KeyError(f"{table} has no column(s) {sorted(unknown)}")
    prepared = []
    for r in rows:
        p: dict[str, Any] = {}
        if table.endswith("_enriched"):  # as the enriched views do before the identity stage has run
            own = r.get("user_principal_name") or r.get("user_id")
            r = {"identity_id": own, "person_id": own, **r}
        for c, t in cols:
            v = r.get(c)
            if t == "JSON" and v is not None and not isinstance(v, str):
                v = orjson.dumps(v).decode()
            elif c in _TIME_COLS or t.startswith("TIMESTAMP"):
                v = _utc(v)
            elif v is not None and t in ("VARCHAR", "JSON") and not isinstance(v, str):
                v = str(v)
            p[c] = v
        prepared.append(p)
    arrow = pa.Table.from_pylist(prepared)
    store.con.register("_upstream_rows", arrow)
    try:
        select = ", ".join(f'"{c}"::{t}' for c, t in cols)
        store.con.execute(f'insert into "{table}" select {select} from _upstream_rows')
    finally:
        store.con.unregister("_upstream_rows")
