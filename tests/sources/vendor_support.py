"""Helpers for the vendor adapter tests: ingest one file, read back canonical rows by record id."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from vigil.settings import Settings
from vigil.sources.ingest import IngestResult, ingest_paths
from vigil.store import Store


def ingest_one(store: Store, settings: Settings, path: Path, fmt: str | None = None) -> IngestResult:
    """Ingest one file; fail on a file-level error or on counts that do not add up."""
    results = ingest_paths(store, [path], settings, fmt=fmt)
    assert len(results) == 1
    result = results[0]
    assert result.error is None, result.error
    assert result.read == result.stored + result.duplicate + result.quarantined, result
    return result


def rows(store: Store, table: str, source_format: str) -> dict[str, dict[str, Any]]:
    """Stored rows of one adapter, keyed by source_record_id."""
    data = store.query(f'SELECT * FROM "{table}" WHERE source_format = ? ORDER BY event_time, event_id',
                       [source_format]).to_pylist()
    return {r["source_record_id"]: r for r in data}


def quarantine_reasons(store: Store, source_file: Path) -> list[str]:
    return [r["reason"] for r in store.query("SELECT reason FROM quarantine WHERE source_file = ? ORDER BY line",
                                             [str(source_file)]).to_pylist()]
