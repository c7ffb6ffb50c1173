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

from vigil.notebook import analyze, ingest, kql, open_store, raw, settings_for, simulate_tenant, sql, table
from vigil.version import version as _version

__version__ = _version()

__all__ = ["__version__", "analyze", "ingest", "kql", "open_store", "raw", "settings_for", "simulate_tenant", "sql",
           "table"]
