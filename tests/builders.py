"""Build canonical rows for tests without going through a vendor format."""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Any

import orjson
import pyarrow as pa

from vigil.store import Store
from vigil.store.schema import EVENT_TABLES

_counter = 0


def _event_id(fmt: str, rid: str) -> str:
    return hashlib.md5(f"{fmt}|{rid}".encode()).hexdigest()[:16]


def row(table: str, **values: Any) -> dict[str, Any]:
    """A row of ``table`` with every column present; unspecified ones are None."""
    global _counter
    _counter += 1
    cols = EVENT_TABLES[table].column_names
    unknown = set(values) - set(cols)
    if unknown:
        raise KeyError(f"{table} has no column(s) {sorted(unknown)}")
    out: dict[str, Any] = {c: None for c in cols}
    out.update(source_format="test", source_record_id=f"rec-{_counter}",
               event_time=datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc))
    out.update(values)
    if out.get("event_id") is None:
        out["event_id"] = _event_id(out["source_format"], out["source_record_id"])
    if out.get("user_principal_name"):
        out["user_principal_name"] = out["user_principal_name"].lower()
    return out


def insert(store: Store, table: str, rows: list[dict[str, Any]]) -> None:
    """Insert rows (from :func:`row`) into a canonical table; JSON columns accept Python values."""
    spec = EVENT_TABLES[table]
    json_cols = {c.name for c in spec.columns if c.type.startswith("JSON")}
    prepared = []
    for r in rows:
        p = dict(r)
        for c in json_cols:
            if p.get(c) is not None and not isinstance(p[c], str):
                p[c] = orjson.dumps(p[c]).decode()
        if isinstance(p.get("event_time"), datetime) and p["event_time"].tzinfo is not None:
            p["event_time"] = p["event_time"].astimezone(timezone.utc).replace(tzinfo=None)
        prepared.append(p)
    names = spec.column_names
    arrow = pa.Table.from_pylist(prepared).select(names)
    store.con.register("_builder_rows", arrow)
    try:
        select = ", ".join(
            f'"{n}"::{spec.columns[i].type.replace(" NOT NULL", "")}' for i, n in enumerate(names)
        )
        store.con.execute(f'INSERT INTO "{table}" SELECT {select} FROM _builder_rows')
    finally:
        store.con.unregister("_builder_rows")
