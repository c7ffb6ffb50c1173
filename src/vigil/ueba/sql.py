"""Small SQL helpers shared by the UEBA modules."""
from __future__ import annotations

from typing import Any

from vigil.store import Store


def scalar(store: Store, sql: str, params: list[Any] | None = None) -> Any:
    """First column of the first row (None when no rows).

    Uses a relation, which runs and fetches in one call: ``execute().fetchone()`` leaves an
    unfinished result on the connection and DuckDB 2.0 then refuses the next ``con.sql``.
    """
    rel = store.con.sql(sql, params=params) if params else store.con.sql(sql)
    rows = rel.fetchall()
    return rows[0][0] if rows else None


def has_relation(store: Store, name: str) -> bool:
    """True when a table or view called ``name`` exists in the main schema."""
    return bool(scalar(
        store,
        "SELECT count(*) FROM (SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
        "AND table_name = ? UNION ALL SELECT view_name FROM duckdb_views() WHERE view_name = ? "
        "AND NOT internal)", [name, name]))
