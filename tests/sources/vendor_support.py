"""Helpers for the vendor adapter tests: ingest one file, read back canonical rows by record id."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from vigil.settings import Settings
from vigil.sources.ingest import IngestResult, ingest_paths
from vigil.store import Store

EVENT_TABLES = ("signins", "activities", "directory_events")


def stored_from(store: Store, source_file: Path) -> dict[tuple[str, str], int]:
    """Rows stored from one file, per (table, source_format): a format and its fallback twin write different tables."""
    out: dict[tuple[str, str], int] = {}
    for table in EVENT_TABLES:
        for r in store.query(f'SELECT source_format, count(*) AS n FROM "{table}" WHERE source_file = ? GROUP BY 1',
                             [str(source_file)]).to_pylist():
            out[(table, r["source_format"])] = int(r["n"])
    return out


def _quarantined_from(store: Store, source_file: Path) -> int:
    return int(store.scalar("SELECT count(*) FROM quarantine WHERE source_file = ?", [str(source_file)]) or 0)


def ingest_one(store: Store, settings: Settings, path: Path, fmt: str | None = None) -> IngestResult:
    """Ingest one file; fail on a file-level error, on counts that do not add up, or on counts the store
    contradicts (stored = new rows of this file in every event table, quarantined = its new quarantine rows)."""
    before = sum(stored_from(store, path).values()), _quarantined_from(store, path)
    results = ingest_paths(store, [path], settings, fmt=fmt)
    assert len(results) == 1
    result = results[0]
    assert result.error is None, result.error
    assert result.read == result.stored + result.duplicate + result.quarantined, result
    after = sum(stored_from(store, path).values()), _quarantined_from(store, path)
    assert (after[0] - before[0], after[1] - before[1]) == (result.stored, result.quarantined), result
    return result


def rows(store: Store, table: str, source_format: str) -> dict[str, dict[str, Any]]:
    """Stored rows of one adapter, keyed by source_record_id."""
    data = store.query(f'SELECT * FROM "{table}" WHERE source_format = ? ORDER BY event_time, event_id',
                       [source_format]).to_pylist()
    return {r["source_record_id"]: r for r in data}


def quarantine_reasons(store: Store, source_file: Path) -> list[str]:
    return [r["reason"] for r in store.query("SELECT reason FROM quarantine WHERE source_file = ? ORDER BY line",
                                             [str(source_file)]).to_pylist()]


def quarantined(store: Store, source_file: Path) -> list[tuple[str, str]]:
    """(source_format, reason) of one file's quarantined records, in file order."""
    return [(r["source_format"], r["reason"]) for r in store.query(
        "SELECT source_format, reason FROM quarantine WHERE source_file = ? ORDER BY line, byte_offset",
        [str(source_file)]).to_pylist()]
