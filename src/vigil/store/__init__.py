"""The database layer: the :class:`Database` interface every stage uses, its DuckDB implementation
(:class:`Store`), the dialect it speaks, canonical tables, migrations, export."""
from vigil.store.db import Store, connect, open_store
from vigil.store.dialect import DUCKDB, Dialect, array, ident, in_list, literal
from vigil.store.engine import Database, transaction
from vigil.store.schema import Column, Table

__all__ = ["DUCKDB", "Column", "Database", "Dialect", "Store", "array", "connect", "ident", "in_list", "literal",
           "open_store", "transaction", "Table"]
