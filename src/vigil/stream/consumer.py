"""The Kafka consumer: micro-batches of messages into the store, offsets committed after the store.

One micro-batch closes after ``stream.batch_interval_s`` or ``stream.batch_max_events`` messages.
Its records go through the same ingest code as files (canonical rows, quarantine, raw kept,
de-duplication by record id), one transaction per format, each recording the micro-batch in
``stream_batches`` (so the analysis knows what is new, even after a crash). The group's offsets are
committed only after those transactions: a crash before the commit redelivers the messages, and
the idempotent store keeps nothing twice (at-least-once delivery + idempotent store = exactly once
in the store). Rebalances need nothing more: a partition is only ever handed over between batches,
when everything read from it is stored and committed.
"""
from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from vigil.errors import ConfigError, VigilError
from vigil.settings import Settings, StreamSettings
from vigil.sources import registry
from vigil.sources.ingest import Ingestor
from vigil.store import Store
from vigil.stream import tables
from vigil.stream.messages import BadMessage, Position, parse

log = logging.getLogger("vigil.stream")

Writer = Callable[[], AbstractContextManager[Store]]


class StreamError(VigilError):
    """The broker refused or failed (one line, naming the broker or topic)."""


def kafka_config(s: StreamSettings) -> dict[str, Any]:
    """librdkafka settings of the consumer (and of the output producer, minus the group keys)."""
    if not s.topics:
        raise ConfigError("stream.topics is empty: name the topics to consume")
    conf: dict[str, Any] = {
        "bootstrap.servers": s.brokers,
        "group.id": s.group_id,
        "enable.auto.commit": False,  # committed by us, after the store transaction
        "enable.auto.offset.store": False,
        "auto.offset.reset": s.auto_offset_reset,
        "session.timeout.ms": s.session_timeout_ms,
        # librdkafka's 3 s default heartbeat would let a shorter session time out between heartbeats
        "heartbeat.interval.ms": min(3000, max(100, s.session_timeout_ms // 3)),
        "security.protocol": s.security_protocol,
        "client.id": "vigil",
    }
    if s.instance_id:
        conf["group.instance.id"] = s.instance_id
    if s.security_protocol.startswith("SASL"):
        password = s.sasl_password.get_secret_value() if s.sasl_password else None
        if password is None and s.sasl_password_file:
            try:
                password = Path(s.sasl_password_file).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"cannot read the SASL password ({exc.strerror})",
                                  path=s.sasl_password_file) from None
        if not s.sasl_username or not password:
            raise ConfigError("stream.security_protocol is SASL: set stream.sasl_username and the password "
                              "($VIGIL_KAFKA_PASSWORD or stream.sasl_password_file)")
        conf.update({"sasl.mechanism": s.sasl_mechanism, "sasl.username": s.sasl_username,
                     "sasl.password": password})
    if s.ssl_ca_location:
        conf["ssl.ca.location"] = s.ssl_ca_location
    conf.update(s.options)
    return conf


def producer_config(s: StreamSettings) -> dict[str, Any]:
    conf = kafka_config(s)
    for key in ("group.id", "enable.auto.commit", "enable.auto.offset.store", "auto.offset.reset",
                "session.timeout.ms", "heartbeat.interval.ms", "group.instance.id"):
        conf.pop(key, None)
    conf["enable.idempotence"] = True
    return conf


@dataclass
class BatchResult:
    origin: str
    messages: int = 0
    records: int = 0
    stored: int = 0
    duplicate: int = 0
    quarantined: int = 0
    #: first and last broker timestamp (ms) of the batch's messages
    first_ts_ms: int | None = None
    last_ts_ms: int | None = None
    by_partition: dict[tuple[str, int], int] = field(default_factory=dict)  # next offset to commit
    #: canonical tables that received new rows (signins, activities, directory_events)
    targets: set[str] = field(default_factory=set)


def _ts(ms: int | None) -> datetime | None:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).replace(tzinfo=None) if ms else None


class StreamConsumer:
    """Reads micro-batches from the topics and stores them; :meth:`step` is one micro-batch."""

    def __init__(self, settings: Settings, writer: Writer) -> None:
        self.settings = settings
        self.cfg = settings.stream
        self.writer = writer
        self.consumer: Any = None
        self.assigned: set[tuple[str, int]] = set()

    def open(self) -> None:
        try:
            from confluent_kafka import Consumer
        except ImportError:
            raise ConfigError("stream.enabled needs confluent-kafka: pip install 'vigil[kafka]'") from None
        self.consumer = Consumer(kafka_config(self.cfg), logger=log)
        self.consumer.subscribe(list(self.cfg.topics), on_assign=self._on_assign, on_revoke=self._on_revoke,
                                on_lost=self._on_revoke)

    def close(self) -> None:
        if self.consumer is not None:
            try:
                self.consumer.close()  # leaves the group at once: its partitions go to the others
            finally:
                self.consumer = None
                self.assigned.clear()

    def _on_assign(self, consumer: Any, partitions: list[Any]) -> None:
        self.assigned |= {(p.topic, p.partition) for p in partitions}
        log.info("assigned %s", ", ".join(f"{p.topic}[{p.partition}]" for p in partitions) or "nothing")

    def _on_revoke(self, consumer: Any, partitions: list[Any]) -> None:
        # nothing to flush: a micro-batch is stored and committed before the next consume, where this runs
        self.assigned -= {(p.topic, p.partition) for p in partitions}
        log.info("revoked %s", ", ".join(f"{p.topic}[{p.partition}]" for p in partitions) or "nothing")

    def read(self) -> list[Any]:
        """One micro-batch of messages (waits up to batch_interval_s; may be empty)."""
        from confluent_kafka import KafkaError

        msgs = self.consumer.consume(num_messages=self.cfg.batch_max_events, timeout=self.cfg.batch_interval_s)
        out = []
        for m in msgs:
            err = m.error()
            if err is None:
                out.append(m)
            elif err.code() == KafkaError._PARTITION_EOF:
                continue
            elif err.fatal() or not err.retriable():
                raise StreamError(f"kafka {m.topic() or self.cfg.brokers}: {err.str()}")
            else:
                log.warning("kafka %s: %s (retrying)", m.topic(), err.str())
        return out

    def store(self, msgs: list[Any]) -> BatchResult:
        """Store one micro-batch (records, quarantine, positions); the offsets are committed after."""
        res = BatchResult(origin=f"kafka:{uuid.uuid4().hex[:16]}", messages=len(msgs))
        if not msgs:
            return res
        positions = []
        for m in msgs:
            at = Position(m.topic(), m.partition(), m.offset())
            positions.append((at, m.value()))
            res.by_partition[(at.topic, at.partition)] = max(res.by_partition.get((at.topic, at.partition), 0),
                                                             at.offset + 1)
            kind, ts = m.timestamp()
            if kind and ts > 0:
                res.first_ts_ms = ts if res.first_ts_ms is None else min(res.first_ts_ms, ts)
                res.last_ts_ms = ts if res.last_ts_ms is None else max(res.last_ts_ms, ts)
        parsed = parse(positions, self.cfg.max_message_bytes)
        res.records = parsed.count
        with self.writer() as store:
            tables.ensure(store)
            ing = Ingestor(store, self.settings)
            for fmt, texts in parsed.records.items():
                def pending(counts: Any, fmt: str = fmt) -> None:
                    store.con.execute("INSERT OR REPLACE INTO stream_batches VALUES (?, ?, ?, ?, ?, NULL)",
                                      [res.origin, fmt, counts.read, counts.stored, tables.now()])

                spec = registry.get(fmt)
                r = ing.ingest_records(spec, texts, res.origin, before_commit=pending)
                if r.stored:
                    res.targets.add(spec.target)
                res.stored += r.stored
                res.duplicate += r.duplicate
                res.quarantined += r.quarantined
            with store.transaction():
                self._quarantine(store, res.origin, parsed.bad)
                res.quarantined += len(parsed.bad)
                self._positions(store, res, msgs, parsed.bad)
        return res

    def commit(self, res: BatchResult) -> None:
        from confluent_kafka import TopicPartition

        if res.by_partition:
            offsets = [TopicPartition(t, p, o) for (t, p), o in sorted(res.by_partition.items())]
            self.consumer.commit(offsets=offsets, asynchronous=False)

    @staticmethod
    def _quarantine(store: Store, origin: str, bad: list[BadMessage]) -> None:
        if not bad:
            return
        now = tables.now()
        store.con.executemany(
            "INSERT INTO quarantine VALUES (?, ?, NULL, ?, ?, ?, ?, ?)",
            [(origin, f"kafka:{b.at.topic}/{b.at.partition}", b.record, b.at.offset, b.describe()[:1000], b.raw, now)
             for b in bad])
        for b in bad[:5]:
            log.warning("quarantined %s", b.describe())

    def _positions(self, store: Store, res: BatchResult, msgs: list[Any], bad: list[BadMessage]) -> None:
        counts: dict[tuple[str, int], int] = {}
        newest: dict[tuple[str, int], int] = {}
        for m in msgs:
            key = (m.topic(), m.partition())
            counts[key] = counts.get(key, 0) + 1
            kind, ts = m.timestamp()
            if kind and ts > 0:
                newest[key] = max(newest.get(key, 0), ts)
        quarantined: dict[tuple[str, int], int] = {}
        for b in bad:
            key = (b.at.topic, b.at.partition)
            quarantined[key] = quarantined.get(key, 0) + 1
        now = tables.now()
        group = self.cfg.group_id
        rows = []
        for key in sorted(set(res.by_partition) | self.assigned):
            nxt = res.by_partition.get(key)
            high = self._high(key)
            rows.append((group, key[0], key[1], nxt, high, counts.get(key, 0), quarantined.get(key, 0),
                         _ts(newest.get(key)), now, key in self.assigned))
        store.con.executemany(
            "INSERT INTO stream_partitions VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?) "
            "ON CONFLICT (group_id, topic, \"partition\") DO UPDATE SET "
            "committed_offset = coalesce(excluded.committed_offset, stream_partitions.committed_offset), "
            "high_watermark = coalesce(excluded.high_watermark, stream_partitions.high_watermark), "
            "messages = coalesce(stream_partitions.messages, 0) + excluded.messages, "
            "quarantined = coalesce(stream_partitions.quarantined, 0) + excluded.quarantined, "
            "last_message_time = coalesce(excluded.last_message_time, stream_partitions.last_message_time), "
            "updated_at = excluded.updated_at, assigned = excluded.assigned", rows)
        store.con.execute(
            "UPDATE stream_partitions SET lag = greatest(high_watermark - committed_offset, 0) WHERE group_id = ?",
            [group])
        store.con.execute(
            "UPDATE stream_partitions SET assigned = false WHERE group_id = ? AND assigned AND NOT list_contains(?, "
            "topic || '/' || \"partition\")", [group, [f"{t}/{p}" for t, p in self.assigned]])

    def _high(self, key: tuple[str, int]) -> int | None:
        from confluent_kafka import TopicPartition

        try:  # from the last fetch response: no broker round trip per batch
            _low, high = self.consumer.get_watermark_offsets(TopicPartition(*key), cached=True)
        except Exception:  # not fetched yet
            return None
        return int(high) if high is not None and high >= 0 else None
