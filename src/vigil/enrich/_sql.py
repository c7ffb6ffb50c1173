"""Small DuckDB helpers shared by enrich and sessions."""
from __future__ import annotations

from vigil.store import Store


def count(store: Store, table: str) -> int:
    """Row count that consumes its result (DuckDB 2.0 refuses relation queries after a half-read result)."""
    rows = store.con.execute(f'SELECT count(*) FROM "{table}"').fetchall()
    return int(rows[0][0])
