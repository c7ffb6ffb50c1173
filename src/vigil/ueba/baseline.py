"""Persisted daily baselines and the incremental bookkeeping.

Every insight of an event on day ``D`` reads only baseline rows of days ``< D`` (plus
earlier events of day ``D`` itself, for "first time"), so analysing a new day appends
that day's daily rows and computes that day's BehaviorAnalytics rows without touching
history. When events arrive for a day already analysed (late data), analysis restarts
from that day: its rows and every later day's are deleted and recomputed. A change of
the UEBA settings recomputes everything (their fingerprint is kept in ``ueba_state``).
"""
from __future__ import annotations

import hashlib

from vigil.settings import UebaSettings
from vigil.store import Store
from vigil.ueba.events import DIMS

BASELINE_DIMS = DIMS + ("activity_type",)


def settings_fingerprint(settings: UebaSettings) -> str:
    return hashlib.md5(settings.model_dump_json().encode()).hexdigest()[:16]


def get_state(store: Store, key: str) -> str | None:
    value = store.scalar("SELECT value FROM ueba_state WHERE key = ?", [key])
    return None if value is None else str(value)


def set_state(store: Store, key: str, value: str) -> None:
    store.con.execute("INSERT OR REPLACE INTO ueba_state VALUES (?, ?)", [key, value])


def truncate_from(store: Store, from_day: int) -> None:
    """Forget baselines and BehaviorAnalytics rows (ueba_behavior) of ``from_day`` and later."""
    con = store.con
    for table in ("ueba_user_daily", "ueba_tenant_daily", "ueba_active_daily"):
        con.execute(f"DELETE FROM {table} WHERE day >= ?", [from_day])
    con.execute("DELETE FROM ueba_behavior WHERE TimeGenerated >= make_timestamp(?::BIGINT * 86400000000)",
                [from_day])


def append_days(store: Store, events_table: str) -> None:
    """Add the daily aggregates of every event in ``events_table`` (the days being analysed)."""
    con = store.con
    per_dim = " UNION ALL ".join(
        f"SELECT user_key, '{d}' AS dim, {d} AS value, day, count(*) AS n FROM {events_table} "
        f"WHERE {d} IS NOT NULL AND user_key IS NOT NULL GROUP BY user_key, {d}, day"
        for d in BASELINE_DIMS
    )
    con.execute(f"INSERT INTO ueba_user_daily {per_dim}")
    con.execute(f"""
        INSERT INTO ueba_tenant_daily
        SELECT dim, value, day, count(*) AS users, sum(n) AS n FROM ueba_user_daily
        WHERE day >= (SELECT min(day) FROM {events_table}) GROUP BY dim, value, day""")
    con.execute(f"""
        INSERT INTO ueba_active_daily
        SELECT user_key, day, count(*) FROM {events_table} WHERE user_key IS NOT NULL GROUP BY user_key, day""")
