"""BehaviorAnalytics: one row per sign-in and activity, incrementally.

Steps (all set-based):
1. ``from_day`` = earliest day with an event that has no BehaviorAnalytics row (anti-join);
   baselines and rows of ``from_day`` onwards are dropped (late data restarts there).
2. The events of those days are keyed and materialised once (``_ueba_ev``); their daily
   aggregates are appended to the baselines.
3. Per dimension, day-level flags come from the baselines (:mod:`vigil.ueba.insights`);
   "first time" is narrowed to the first event of the day (time, then event_id) with a
   window over the few candidate groups only.
4. Time-series signals: failure bursts (failed logons per user and clock hour) and
   uncommon high volume of one action (running count vs the 7-day daily mean).
5. One INSERT builds the JSON bags, InvestigationPriority and its reason.
"""
from __future__ import annotations

from typing import Any

import pyarrow as pa

from vigil.identity.tables import TABLES as IDENTITY_TABLES
from vigil.settings import UebaSettings
from vigil.store import Store, ident
from vigil.ueba import baseline
from vigil.ueba.events import EventSources, keyed_events_sql
from vigil.ueba.insights import DIMENSIONS, day_flags_sql, key_tables_sql, lookbacks
from vigil.ueba.priority import reason_sql, score_sql
from vigil.ueba.tables import UEBA_BEHAVIOR, UEBA_TABLES, behavior_view_sql

_US_PER_DAY = 86_400_000_000


def _pending_from_day(store: Store) -> int | None:
    """Earliest day holding a sign-in or activity without a BehaviorAnalytics row."""
    value = store.scalar("""
        SELECT min(event_time) FROM (
            SELECT event_id, event_time FROM signins UNION ALL SELECT event_id, event_time FROM activities) e
        WHERE NOT EXISTS (SELECT 1 FROM ueba_behavior b WHERE b.SourceRecordId = e.event_id)""")
    if value is None:
        return None
    day = f"CAST(floor({store.dialect.epoch_seconds('CAST(? AS TIMESTAMP)')} / 86400) AS INTEGER)"
    return int(store.scalar(f"SELECT {day}", [value]))


def _renamed_fingerprint(store: Store) -> str:
    """The current names of renamed accounts: when one changes, baselines keyed by the old name are rebuilt
    (a rename keeps one history under the latest name, never "first time" insights for a new UPN)."""
    agg = store.dialect.string_agg("identity_id || '=' || coalesce(name, '')", ",", order_by="identity_id")
    value = store.scalar(f"""SELECT md5(coalesce({agg}, '')) FROM identities WHERE identity_id IN (
        SELECT identity_id FROM identity_aliases WHERE kind IN ('upn', 'login', 'email')
        GROUP BY identity_id HAVING count(DISTINCT alias) > 1)""")
    return str(value or "")


def _reshape(store: Store) -> bool:
    """Make ueba_behavior the shape this vigil writes, and the BehaviorAnalytics view over it. A table of another
    shape (a store upgraded from one whose bags had other keys) is dropped: True, the rows are computed again."""
    schema = store.query(f"SELECT * FROM {UEBA_BEHAVIOR.name} LIMIT 0").schema
    have = [(f.name, pa.types.is_boolean(f.type)) for f in schema]
    want = [(c.name, c.type == "BOOLEAN") for c in UEBA_BEHAVIOR.columns]
    if have != want:
        store.execute(f"DROP TABLE {UEBA_BEHAVIOR.name}")
        store.ensure([UEBA_BEHAVIOR])
    store.execute(f"CREATE OR REPLACE VIEW BehaviorAnalytics AS {behavior_view_sql()}")
    return have != want


def analyze(store: Store, settings: UebaSettings, src: EventSources, *, full: bool = False) -> dict[str, Any]:
    """Bring BehaviorAnalytics and the baselines up to date. Returns a summary."""
    store.ensure((*UEBA_TABLES, *IDENTITY_TABLES))
    reshaped = _reshape(store)
    fingerprint = baseline.settings_fingerprint(settings)
    names = _renamed_fingerprint(store)
    if full or reshaped or baseline.get_state(store, "settings") != fingerprint \
            or baseline.get_state(store, "inputs") != str(src.enriched) \
            or baseline.get_state(store, "renamed") != names:
        for table in ("ueba_user_daily", "ueba_tenant_daily", "ueba_active_daily", "ueba_behavior"):
            store.con.execute(f"DELETE FROM {table}")
        full = True
    from_day = _pending_from_day(store)
    if from_day is None:
        return dict(mode="up to date", rows_written=0, from_day=None,
                    rows_total=store.count("ueba_behavior"))
    baseline.truncate_from(store, from_day)
    con = store.con
    con.execute("DROP TABLE IF EXISTS _ueba_ev")
    con.execute(f"""CREATE TEMP TABLE _ueba_ev AS {keyed_events_sql(
        src, f"event_time >= make_timestamp({from_day}::BIGINT * {_US_PER_DAY})")}""")
    baseline.append_days(store, "_ueba_ev")
    for name, sql in zip(("_ueba_uid", "_ueba_vid", "_ueba_peer"), key_tables_sql(), strict=True):
        con.execute(f"DROP TABLE IF EXISTS {name}")
        con.execute(f"CREATE TEMP TABLE {name} AS {sql}")
    for d in DIMENSIONS:
        con.execute(f"DROP TABLE IF EXISTS _k_{d.name}")
        con.execute(f"CREATE TEMP TABLE _k_{d.name} AS {day_flags_sql(d.name, settings, from_day)}")
    _firsts(store)
    _timeseries(store, settings, from_day)
    _users(store, settings, from_day)
    con.execute(_insert_sql(settings, src))
    written = store.count("_ueba_ev")
    for t in ["_ueba_ev", "_ueba_first", "_ueba_ts", "_ueba_users", "_ueba_uid", "_ueba_vid", "_ueba_peer"] \
            + [f"_k_{d.name}" for d in DIMENSIONS]:
        con.execute(f"DROP TABLE IF EXISTS {t}")
    baseline.set_state(store, "settings", fingerprint)
    baseline.set_state(store, "inputs", str(src.enriched))
    baseline.set_state(store, "renamed", names)
    return dict(mode="full" if full else "incremental", from_day=from_day, rows_written=written,
                rows_total=store.count("ueba_behavior"))


def _firsts(store: Store) -> None:
    """Event ids that are the first of their day for (user, value) and for (tenant, value),
    restricted to groups whose day-level flag is set."""
    parts = []
    for d in DIMENSIONS:
        n = d.name
        parts.append(f"""
        SELECT event_id, '{n}' AS dim, 'user' AS scope FROM (
            SELECT e.event_id, row_number() OVER (PARTITION BY e.user_key, e.{n}, e.day
                                                  ORDER BY e.event_time, e.event_id) AS rn
            FROM _ueba_ev e JOIN _k_{n} k ON k.user_key = e.user_key AND k.value = e.{n} AND k.day = e.day
            WHERE k.first_user) WHERE rn = 1""")
        parts.append(f"""
        SELECT event_id, '{n}', 'tenant' FROM (
            SELECT e.event_id, row_number() OVER (PARTITION BY e.{n}, e.day ORDER BY e.event_time, e.event_id) AS rn
            FROM _ueba_ev e SEMI JOIN (SELECT DISTINCT value, day FROM _k_{n} WHERE first_tenant) k
                 ON k.value = e.{n} AND k.day = e.day) WHERE rn = 1""")
    cols = ", ".join(
        f"bool_or(dim = '{d.name}' AND scope = '{s}') AS f{s[0]}_{d.name}"
        for d in DIMENSIONS for s in ("user", "tenant"))
    store.con.execute("DROP TABLE IF EXISTS _ueba_first")
    store.con.execute(f"CREATE TEMP TABLE _ueba_first AS SELECT event_id, {cols} FROM ("
                      + " UNION ALL ".join(parts) + ") GROUP BY event_id")


def _timeseries(store: Store, s: UebaSettings, from_day: int) -> None:
    """Failure bursts and uncommon high volume, for the candidate groups only."""
    v = int(s.volume_days)
    store.con.execute("DROP TABLE IF EXISTS _ueba_ts")
    store.con.execute(f"""
    CREATE TEMP TABLE _ueba_ts AS
    WITH fail_hist AS (
        SELECT user_key, day,
               coalesce(sum(n) OVER (PARTITION BY user_key ORDER BY day RANGE BETWEEN {v} PRECEDING AND 1 PRECEDING), 0)
                   / {v} AS fail_avg
        FROM ueba_user_daily WHERE dim = 'activity_type' AND value = 'FailedLogOn' AND day >= {from_day - v - 1}),
    fails AS (
        SELECT e.event_id, e.user_key, e.day,
               row_number() OVER (PARTITION BY e.user_key, date_trunc('hour', e.event_time)
                                  ORDER BY e.event_time, e.event_id) AS rn
        FROM _ueba_ev e WHERE e.activity_type = 'FailedLogOn'),
    burst AS (
        SELECT f.event_id, f.rn AS burst_n, NULL::BIGINT AS vol_n, NULL::DOUBLE AS vol_avg
        FROM fails f JOIN fail_hist h ON h.user_key = f.user_key AND h.day = f.day
        WHERE f.rn >= {int(s.failure_burst_min)} AND f.rn > {float(s.volume_factor)} * h.fail_avg),
    vol_groups AS (
        SELECT user_key, value, day, v7 / {v} AS avg_day FROM _k_action
        WHERE n >= {int(s.volume_min)} AND n > {float(s.volume_factor)} * v7 / {v}),
    vol AS (
        SELECT event_id, NULL::BIGINT AS burst_n, rn AS vol_n, avg_day AS vol_avg FROM (
            SELECT e.event_id, g.avg_day, row_number() OVER (PARTITION BY e.user_key, e.action, e.day
                                                            ORDER BY e.event_time, e.event_id) AS rn
            FROM _ueba_ev e JOIN vol_groups g ON g.user_key = e.user_key AND g.value = e.action AND g.day = e.day)
        WHERE rn >= {int(s.volume_min)} AND rn > {float(s.volume_factor)} * avg_day)
    SELECT event_id, max(burst_n) AS burst_n, max(vol_n) AS vol_n, max(vol_avg) AS vol_avg
    FROM (SELECT * FROM burst UNION ALL SELECT * FROM vol) GROUP BY event_id""")


def _users(store: Store, s: UebaSettings, from_day: int) -> None:
    """Per (user, day): first day ever seen, previous active day (dormancy), directory facts."""
    store.con.execute("DROP TABLE IF EXISTS _ueba_users")
    store.con.execute(f"""
    CREATE TEMP TABLE _ueba_users AS
    WITH a AS (
        SELECT user_key, day, lag(day) OVER (PARTITION BY user_key ORDER BY day) AS prev_day,
               min(day) OVER (PARTITION BY user_key) AS first_day
        FROM ueba_active_daily),
    ii AS (SELECT user_key, min(AccountObjectId) AS oid, min(AccountDisplayName) AS name,
                  min(AccountCreationTime) AS created, min(BlastRadius) AS blast, min(AccountName) AS account
           FROM IdentityInfo GROUP BY user_key)
    SELECT a.user_key, a.day, a.first_day, a.prev_day, ii.oid, ii.name, ii.created, ii.blast, ii.account,
           (a.day - a.first_day < {int(s.learning_days)}) AS in_learning,
           (a.prev_day IS NOT NULL AND a.prev_day < a.day - {int(s.dormant_days)}) AS dormant
    FROM a LEFT JOIN ii ON ii.user_key = a.user_key
    WHERE a.day >= {from_day}""")


def _flag_cols() -> str:
    cols = []
    for d in DIMENSIONS:
        n = d.name
        k = f"k_{n}"
        live = f"(e.{n} IS NOT NULL AND NOT coalesce(u.in_learning, false))"
        cols += [
            f"e.{n} AS v_{n}",
            f"CASE WHEN e.{n} IS NULL THEN NULL ELSE {live} AND coalesce(f.fu_{n}, false) END AS fu_{n}",
            f"CASE WHEN e.{n} IS NULL THEN NULL ELSE {live} AND {k}.uncommon_user END AS uu_{n}",
            f"CASE WHEN e.{n} IS NULL THEN NULL ELSE {live} AND {k}.uncommon_peers END AS up_{n}",
            f"CASE WHEN e.{n} IS NULL THEN NULL ELSE {live} AND coalesce(f.ft_{n}, false) END AS ft_{n}",
            f"CASE WHEN e.{n} IS NULL THEN NULL ELSE {live} AND {k}.uncommon_tenant END AS ut_{n}",
            f"{k}.uv AS nuv_{n}", f"{k}.ut AS nut_{n}", f"{k}.peers AS peers_{n}", f"{k}.peers_used AS pu_{n}",
        ]
    return ",\n           ".join(cols)


def _joins() -> str:
    return "\n    ".join(
        f"LEFT JOIN _k_{d.name} k_{d.name} ON k_{d.name}.user_key = e.user_key AND k_{d.name}.value = e.{d.name}"
        f" AND k_{d.name}.day = e.day" for d in DIMENSIONS)


def _activity_flags() -> list[str]:
    """ActivityInsights' keys as typed columns, in ueba_behavior's order (the view folds them into the bag)."""
    cols = [f"{col}_{d.name}" for d in DIMENSIONS for col in ("fu", "uu", "up", "ft", "ut")]
    return cols + ["v_app", "high_volume", "high_volume"]  # App, UncommonHighVolumeOf{Actions,Operations}


def _insert_sql(s: UebaSettings, src: EventSources) -> str:
    lbs = ", ".join(f"{lookbacks(d.name, s)[0]} AS lb_{d.name}" for d in DIMENSIONS)
    vendor = ("CASE WHEN e.source_format ILIKE '%okta%' THEN 'Okta' WHEN e.source_format ILIKE '%gws%' "
              "OR e.source_format ILIKE '%google%' THEN 'Google' WHEN e.source_format ILIKE '%cloudtrail%' "
              "OR e.source_format ILIKE '%aws%' THEN 'Amazon' ELSE 'Microsoft' END")
    select = [
        "event_time", "now()::TIMESTAMP", "event_id", "tenant_id", "activity_type", "v_action",
        "CASE WHEN vendor = 'Microsoft' THEN CASE WHEN event_table = 'signins' THEN 'Azure AD' ELSE 'Office 365' END "
        "ELSE vendor END",
        "vendor",
        "coalesce(source_table, CASE WHEN event_table = 'signins' THEN 'SigninLogs' ELSE 'OfficeActivity' END)",
        "coalesce(account, split_part(user_principal_name, '@', 1), user_id)",
        "coalesce(user_principal_name, user_key)",
        "ip", "v_country", "coalesce(device_name, v_device)",
        # UsersInsights
        "coalesce(name, user_display_name)", "coalesce(oid, user_id)", "dormant",
        f"(created IS NOT NULL AND created > event_time - INTERVAL {int(s.new_account_days)} DAY)", "blast",
        # DevicesInsights
        "v_browser", "device_family", "os", "coalesce(ua_family, v_browser)", "v_isp", "threat_intel",
        *_activity_flags(),
        "score", reason_sql(src.note), "in_learning", "user_key", "event_table",
    ]
    if len(select) != len(UEBA_BEHAVIOR.columns):
        raise AssertionError("the BehaviorAnalytics insert and ueba_behavior's columns disagree")
    values = ",\n           ".join(select)
    return f"""
    INSERT INTO ueba_behavior ({", ".join(ident(c) for c in UEBA_BEHAVIOR.column_names)})
    WITH x AS (
    SELECT e.event_id, e.event_time, e.event_table, e.tenant_id, e.activity_type, e.source_table, e.ip,
           e.user_key, e.user_id, e.user_principal_name, e.user_display_name, e.device_name, e.os, e.device_family,
           e.ua_family, e.threat_intel, {vendor} AS vendor,
           coalesce(u.in_learning, false) AS in_learning, u.first_day, u.dormant, u.oid, u.name, u.created, u.blast,
           u.account,
           {int(s.learning_days)} AS learning, {int(s.uncommon_by_user_days)} AS uw, {int(s.volume_days)} AS vw,
           {lbs},
           coalesce(ts.burst_n IS NOT NULL AND NOT coalesce(u.in_learning, false), false) AS failure_burst,
           coalesce(ts.vol_n IS NOT NULL AND NOT coalesce(u.in_learning, false), false) AS high_volume,
           ts.burst_n, ts.vol_n, ts.vol_avg,
           {_flag_cols()}
    FROM _ueba_ev e
    LEFT JOIN _ueba_users u ON u.user_key = e.user_key AND u.day = e.day
    LEFT JOIN _ueba_first f ON f.event_id = e.event_id
    LEFT JOIN _ueba_ts ts ON ts.event_id = e.event_id
    {_joins()}
    ),
    y AS (SELECT *, {score_sql()} AS score FROM x)
    SELECT {values}
    FROM y
    """
