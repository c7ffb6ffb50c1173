"""Outputs as they happen: new or updated incidents and user-risk changes to a Kafka topic.

Messages are JSON, keyed by incident id or user id (so one key's changes stay in order on one
partition): ``{"type": "incident.created" | "incident.updated", "incident": {...}}`` as the webhook
sends, and ``{"type": "risk.changed", "user": {riskyUsers row}}``. A version is published once: an
incident version is recorded in ``incident_deliveries`` under the URL ``kafka://<topic>`` (as a
webhook delivery is), a risk version in ``stream_risk_deliveries``, each only after the broker
acknowledged it (at least once; consumers de-duplicate by key and version).
"""
from __future__ import annotations

import logging
from typing import Any

import orjson

from vigil.incidents import output
from vigil.settings import StreamSettings
from vigil.store import Store, Table
from vigil.store.schema import C
from vigil.stream.tables import now

log = logging.getLogger("vigil.stream")

RISK_DELIVERIES = Table(
    "stream_risk_deliveries",
    doc="User-risk versions published to the output topic (one row per user: the last version sent).",
    primary_key=("topic", "user_id", "source"),
    columns=(
        C("topic", "VARCHAR NOT NULL", "output topic"),
        C("user_id", "VARCHAR NOT NULL", "riskyUsers.id"),
        C("source", "VARCHAR NOT NULL", "riskyUsers.source"),
        C("version", "VARCHAR NOT NULL", "riskLevel|riskState|riskDetail|riskLastUpdatedDateTime"),
        C("sent_at", "TIMESTAMP NOT NULL", "when the broker acknowledged it"),
    ),
)

_RISK_VERSION = ("concat_ws('|', riskLevel, riskState, riskDetail, "
                 "CAST(riskLastUpdatedDateTime AS VARCHAR))")


def _dumps(obj: Any) -> bytes:
    return orjson.dumps(obj, default=str, option=orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z)


class OutputTopic:
    """A producer to ``stream.output_topic``; :meth:`publish` sends what changed since the last call."""

    def __init__(self, cfg: StreamSettings, producer: Any = None) -> None:
        from vigil.stream.consumer import producer_config

        if not cfg.output_topic:
            raise ValueError("stream.output_topic is not set")
        self.topic = cfg.output_topic
        if producer is None:
            from confluent_kafka import Producer

            producer = Producer(producer_config(cfg), logger=log)
        self.producer = producer

    def _send(self, items: list[tuple[str, bytes]]) -> set[int]:
        """Produce and wait for acknowledgements; the indexes the broker acknowledged."""
        acked: set[int] = set()
        errors: list[str] = []

        def report(i: int) -> Any:
            def cb(err: Any, _msg: Any) -> None:
                if err is None:
                    acked.add(i)
                else:
                    errors.append(str(err))
            return cb

        for i, (key, value) in enumerate(items):
            self.producer.produce(self.topic, value=value, key=key.encode(), on_delivery=report(i))
            self.producer.poll(0)
        self.producer.flush(30)
        if errors:
            log.warning("output topic %s: %d messages not acknowledged (%s); they are sent again next time",
                        self.topic, len(errors), errors[0])
        return acked

    def publish(self, store: Store) -> dict[str, int]:
        store.ensure([RISK_DELIVERIES])
        url = f"kafka://{self.topic}"
        incidents = output.pending(store, url) if store.exists("incidents") else []
        risks = store.query(
            f"""SELECT r.*, {_RISK_VERSION} AS _version FROM "riskyUsers" r
                LEFT JOIN stream_risk_deliveries d ON d.topic = ? AND d.user_id = r.id AND d.source = r.source
                WHERE d.version IS DISTINCT FROM {_RISK_VERSION} ORDER BY r.riskLastUpdatedDateTime, r.id""",
            [self.topic]).to_pylist() if store.exists("riskyUsers") else []
        items = [(row["incident_id"], _dumps({"type": "incident.updated" if updated else "incident.created",
                                             "incident": row})) for row, _v, updated in incidents]
        items += [(str(r["id"]), _dumps({"type": "risk.changed",
                                         "user": {k: v for k, v in r.items() if k != "_version"}})) for r in risks]
        if not items:
            return {"incidents": 0, "risk_changes": 0}
        acked = self._send(items)
        t = now()
        with store.transaction():
            for i, (row, version, _updated) in enumerate(incidents):
                if i in acked:
                    store.con.execute("INSERT OR REPLACE INTO incident_deliveries VALUES (?, ?, ?, ?, 1, NULL)",
                                      [url, row["incident_id"], version, t])
            n = len(incidents)
            for j, r in enumerate(risks):
                if n + j in acked:
                    store.con.execute("INSERT OR REPLACE INTO stream_risk_deliveries VALUES (?, ?, ?, ?, ?)",
                                      [self.topic, r["id"], r["source"], r["_version"], t])
        return {"incidents": sum(1 for i in range(len(incidents)) if i in acked),
                "risk_changes": sum(1 for j in range(len(risks)) if len(incidents) + j in acked)}

    def close(self) -> None:
        self.producer.flush(10)
