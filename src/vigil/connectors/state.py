"""Connector checkpoints and status in the store (``connector_state``).

A checkpoint is written by :func:`save_checkpoint` inside the transaction that stores the
records it covers, so after a crash the store holds either both or neither. Status (last
poll, last error) is written on its own: it describes attempts, not data.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import orjson

from vigil.store import Store, Table
from vigil.store.schema import C

CONNECTOR_STATE = Table(
    "connector_state",
    doc="One row per connector stream: its checkpoint (committed with the records it covers) and status.",
    primary_key=("connector", "stream"),
    columns=(
        C("connector", "VARCHAR NOT NULL", "graph | okta | o365"),
        C("stream", "VARCHAR NOT NULL", "what it pulls (signins, directoryAudits, logs, Audit.Exchange ...)"),
        C("checkpoint", "VARCHAR", "JSON: where the next poll starts (next link, high-water time)"),
        C("records", "BIGINT", "records received so far (stored + duplicate + quarantined)"),
        C("stored", "BIGINT", "new records stored so far"),
        C("last_record_time", "TIMESTAMP", "newest event time received"),
        C("last_poll_at", "TIMESTAMP", "when the last poll started"),
        C("last_success_at", "TIMESTAMP", "when a poll last finished without error"),
        C("last_error", "VARCHAR", "one-line error of the last failed poll (null after a success)"),
        C("last_error_at", "TIMESTAMP", "when"),
    ),
)


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def ensure(store: Store) -> None:
    store.ensure([CONNECTOR_STATE])


def load_checkpoint(store: Store, connector: str, stream: str) -> dict[str, Any] | None:
    if "connector_state" not in store.tables():
        return None
    text = store.scalar("SELECT checkpoint FROM connector_state WHERE connector = ? AND stream = ?",
                        [connector, stream])
    return orjson.loads(text) if text else None


def save_checkpoint(store: Store, connector: str, stream: str, checkpoint: dict[str, Any] | None, *,
                    received: int = 0, stored: int = 0, newest: datetime | None = None) -> None:
    """Inside the caller's transaction: the checkpoint and the counts of the records it covers."""
    store.con.execute(
        "INSERT INTO connector_state (connector, stream, checkpoint, records, stored, last_record_time) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (connector, stream) DO UPDATE SET "
        "checkpoint = excluded.checkpoint, records = coalesce(connector_state.records, 0) + excluded.records, "
        "stored = coalesce(connector_state.stored, 0) + excluded.stored, "
        "last_record_time = greatest(connector_state.last_record_time, excluded.last_record_time)",
        [connector, stream, orjson.dumps(checkpoint).decode() if checkpoint is not None else None,
         received, stored, newest])


def mark(store: Store, connector: str, stream: str, *, started: datetime | None = None,
         error: str | None = None, success: bool = False) -> None:
    """Status of an attempt: a poll started, failed (one-line error) or succeeded."""
    now = _now()
    store.con.execute(
        "INSERT INTO connector_state (connector, stream, records, stored) VALUES (?, ?, 0, 0) "
        "ON CONFLICT (connector, stream) DO NOTHING", [connector, stream])
    if started is not None:
        store.con.execute("UPDATE connector_state SET last_poll_at = ? WHERE connector = ? AND stream = ?",
                          [started, connector, stream])
    if error is not None:
        store.con.execute("UPDATE connector_state SET last_error = ?, last_error_at = ? "
                          "WHERE connector = ? AND stream = ?", [error[:1000], now, connector, stream])
    elif success:
        store.con.execute("UPDATE connector_state SET last_success_at = ?, last_error = NULL "
                          "WHERE connector = ? AND stream = ?", [now, connector, stream])


def status_rows(store: Store) -> list[dict[str, Any]]:
    """Every stream's status with its lag behind the source (now - newest record received), seconds."""
    if "connector_state" not in store.tables():
        return []
    rows = store.query(
        "SELECT connector, stream, records, stored, last_record_time, last_poll_at, last_success_at, last_error, "
        "last_error_at, epoch(now()::TIMESTAMP - last_record_time) AS lag_s, checkpoint "
        "FROM connector_state ORDER BY connector, stream").to_pylist()
    for r in rows:
        cp = r.pop("checkpoint")
        r["resuming"] = bool(cp and orjson.loads(cp).get("next_link"))
    return rows
