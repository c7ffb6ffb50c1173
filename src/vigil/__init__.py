"""vigil: open-source identity threat detection and response.

The notebook-facing API lives in :mod:`vigil.api_py` and is re-exported here::

    import vigil
    store = vigil.open_store("vigil.duckdb")
    vigil.ingest(store, "SigninLogs.json")
    table = vigil.query(store, "select * from signins limit 5")   # pyarrow.Table
"""
from __future__ import annotations

__version__ = "0.1.0"
