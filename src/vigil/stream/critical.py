"""The CAE fast lane: critical directory events revoke within a second, whatever the analysis is doing.

The main path stores a micro-batch and then analyses it, holding the store's write lock for seconds at
a time under load. A password reset or a disabled account should not wait for that. This lane reads the
same topics in its own consumer group (``<group_id>.cae``), keeps only audit records (the formats that
write ``directory_events``), maps them in a scratch in-memory store with the same ingest code, and records
their critical events in the service's CAE journal (in-memory index, middleware, SETs) at once. The main
path records the same events again under the same keys (nothing twice); this lane only makes them early,
so its offsets are committed automatically: a message it misses is still revoked by the main path.
"""
from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from vigil.cae import stage as cae_stage
from vigil.settings import Settings
from vigil.sources import registry
from vigil.sources.ingest import Ingestor
from vigil.store import open_store
from vigil.stream.consumer import kafka_config
from vigil.stream.messages import Position, parse

if TYPE_CHECKING:
    from vigil.cae.service import CaeService

log = logging.getLogger("vigil.stream")

#: bytes every record of a format writing directory_events contains (Entra audit as Log Analytics, diagnostic
#: settings, Graph and portal export; Okta's system log): messages without any are not parsed here at all,
#: which keeps this lane's cost a fraction of the main path's (tests/stream/test_runner.py checks the formats)
AUDIT_HINTS = (b"AuditLogs", b"nitiatedBy", b"TargetResources", b"ActorUserPrincipalName", b'"eventType"')


def may_hold_audit(value: bytes | None) -> bool:
    if not value:
        return False
    return any(h in value for h in AUDIT_HINTS)


class CriticalLane:
    def __init__(self, settings: Settings, cae: CaeService) -> None:
        self.settings = settings
        self.cae = cae
        self.stop_event = threading.Event()
        self.revoked = 0
        self.last_error: str | None = None
        self._thread = threading.Thread(target=self._loop, name="vigil-stream-cae", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self.stop_event.set()
        self._thread.join(timeout)

    def _loop(self) -> None:
        from confluent_kafka import Consumer

        cfg = self.settings.stream
        conf = kafka_config(cfg)
        conf.update({"group.id": f"{cfg.group_id}.cae", "enable.auto.commit": True,
                     "enable.auto.offset.store": True, "client.id": "vigil-cae"})
        scratch = open_store(":memory:")
        consumer: Any = None
        try:
            while not self.stop_event.is_set():
                try:
                    if consumer is None:
                        consumer = Consumer(conf, logger=log)
                        consumer.subscribe(list(cfg.topics))
                    msgs = consumer.consume(num_messages=cfg.batch_max_events, timeout=0.1)
                    self.revoked += self.step(scratch, [m for m in msgs if m.error() is None])
                    self.last_error = None
                except Exception as exc:  # the main path still revokes; retried after a pause
                    self.last_error = f"{type(exc).__name__}: {exc}"
                    log.exception("CAE fast lane failed; retrying")
                    if consumer is not None:
                        consumer.close()
                        consumer = None
                    self.stop_event.wait(2.0)
        finally:
            if consumer is not None:
                consumer.close()
            scratch.close()

    def step(self, scratch: Any, msgs: list[Any]) -> int:
        """Map the messages' audit records in ``scratch`` and record their critical events; how many were new."""
        if not msgs:
            return 0
        parsed = parse([(Position(m.topic(), m.partition(), m.offset()), m.value()) for m in msgs
                        if may_hold_audit(m.value())],
                       self.settings.stream.max_message_bytes, targets={"directory_events"})
        if not parsed.records:
            return 0
        for table in ("directory_events", "raw_records", "raw_blocks", "ingest_runs", "quarantine"):
            scratch.con.execute(f"DELETE FROM {table}")
        ing = Ingestor(scratch, self.settings)
        for fmt, texts in parsed.records.items():
            ing.ingest_records(registry.get(fmt), texts, "kafka:cae")
        new = cae_stage.record_critical(scratch, self.settings, self.cae)
        if new:
            log.info("CAE fast lane: %d revocations", len(new))
        return len(new)
