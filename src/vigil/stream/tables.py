"""The stream's own tables: micro-batches awaiting analysis, partition positions and lag, status."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from vigil.store import Store, Table
from vigil.store.schema import C

STREAM_BATCHES = Table(
    "stream_batches",
    doc="One row per micro-batch and format stored from Kafka, written in the transaction that stores its "
        "records; `analyzed_at` is set once the analysis has taken them in (null: pending, also after a crash).",
    primary_key=("origin", "source_format"),
    columns=(
        C("origin", "VARCHAR NOT NULL", "the micro-batch id, also the stored records' source_file (kafka:<id>)"),
        C("source_format", "VARCHAR NOT NULL", "format of these records"),
        C("received", "BIGINT NOT NULL", "records received"),
        C("stored", "BIGINT NOT NULL", "new records stored"),
        C("stored_at", "TIMESTAMP NOT NULL", "when the transaction committed"),
        C("analyzed_at", "TIMESTAMP", "when the incremental analysis took them in"),
    ),
)

STREAM_PARTITIONS = Table(
    "stream_partitions",
    doc="Per consumer group and partition: the committed position, the broker's high watermark and the lag.",
    primary_key=("group_id", "topic", "partition"),
    columns=(
        C("group_id", "VARCHAR NOT NULL", "consumer group"),
        C("topic", "VARCHAR NOT NULL", "topic"),
        C("partition", "INTEGER NOT NULL", "partition"),
        C("committed_offset", "BIGINT", "next offset to read (everything before it is stored)"),
        C("high_watermark", "BIGINT", "offset after the newest message the broker had (last fetch)"),
        C("lag", "BIGINT", "messages behind: high_watermark - committed_offset"),
        C("messages", "BIGINT", "messages read so far"),
        C("quarantined", "BIGINT", "messages or records quarantined so far"),
        C("last_message_time", "TIMESTAMP", "broker timestamp of the newest message read"),
        C("updated_at", "TIMESTAMP", "when this row last changed"),
        C("assigned", "BOOLEAN", "whether this service currently holds the partition"),
    ),
)

STREAM_TABLES = (STREAM_BATCHES, STREAM_PARTITIONS)


def now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def ensure(store: Store) -> None:
    store.ensure(STREAM_TABLES)


def status_rows(store: Store) -> dict[str, Any]:
    """Partitions (with lag) and micro-batches awaiting analysis; what `vigil status`, the API and the UI show."""
    if not store.exists("stream_partitions"):
        return {"partitions": [], "pending_batches": 0, "batches": 0}
    parts = store.query(
        "SELECT group_id, topic, \"partition\", committed_offset, high_watermark, lag, messages, quarantined, "
        "last_message_time, updated_at, assigned FROM stream_partitions ORDER BY group_id, topic, \"partition\""
    ).to_pylist()
    pending, batches, last_stored, last_analyzed = store.rows(
        "SELECT count(DISTINCT origin) FILTER (WHERE analyzed_at IS NULL), count(DISTINCT origin), max(stored_at), "
        "max(analyzed_at) FROM stream_batches")[0]
    return {"partitions": parts, "pending_batches": int(pending or 0), "batches": int(batches or 0),
            "last_stored_at": last_stored, "last_analyzed_at": last_analyzed,
            "total_lag": sum(int(p["lag"] or 0) for p in parts if p["assigned"])}
