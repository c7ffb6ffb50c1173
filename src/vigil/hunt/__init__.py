"""KQL hunting over the store (duckdb-kql behind vigil's adapter): ``run_hunt(store, kql)``."""
from __future__ import annotations

from vigil.hunt.adapter import run_hunt, run_sql, translate

__all__ = ["run_hunt", "run_sql", "translate"]
