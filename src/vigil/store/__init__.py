"""The database layer: the :class:`Database` interface every stage uses, its DuckDB implementation
(:class:`Store`), the dialect it speaks, canonical tables, migrations, export."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vigil.store.dialect import DUCKDB, Dialect, array, ident, in_list, literal
from vigil.store.engine import Database, transaction
from vigil.store.schema import Column, Table

if TYPE_CHECKING:
    from vigil.store.db import Store, connect, open_store

__all__ = ["DUCKDB", "Column", "Database", "Dialect", "Store", "array", "connect", "ident", "in_list", "literal",
           "open_store", "transaction", "Table"]


def __getattr__(name: str) -> Any:
    # the DuckDB implementation (and Arrow, numpy) loads on first use: modules that only need the dialect or
    # the schema, and `vigil --help`, do not pay for it
    if name in ("Store", "connect", "open_store"):
        from vigil.store import db

        return getattr(db, name)
    raise AttributeError(f"module 'vigil.store' has no attribute {name!r}")
