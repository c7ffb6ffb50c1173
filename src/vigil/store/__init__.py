"""The DuckDB store: canonical tables, migrations, export."""
from vigil.store.db import Store, open_store
from vigil.store.schema import Column, Table

__all__ = ["Column", "Store", "Table", "open_store"]
