"""vigil: open-source identity threat detection and response.

The Python API (every query returns a ``pyarrow.Table``)::

    import vigil
    store = vigil.open_store("tenant.duckdb")
    vigil.ingest(store, ["exports/"])
    vigil.analyze(store)
    vigil.sql(store, "select * from incidents order by priority desc")
    vigil.kql(store, "BehaviorAnalytics | where InvestigationPriority >= 7")
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vigil.notebook import analyze, ingest, kql, open_store, raw, settings_for, simulate_tenant, sql, table

__all__ = ["__version__", "analyze", "ingest", "kql", "open_store", "raw", "settings_for", "simulate_tenant", "sql",
           "table"]


def __getattr__(name: str) -> Any:
    # resolved on first use: importing any ``vigil.*`` module imports this package first, and the notebook API
    # pulls in DuckDB, Arrow and every stage (~0.7 s), which `vigil --help` and light commands never need
    if name == "__version__":
        from vigil.version import version

        return version()
    if name in __all__:
        from vigil import notebook

        return getattr(notebook, name)
    raise AttributeError(f"module 'vigil' has no attribute {name!r}")
