"""The Kafka consumer against a real broker: Event Hubs batches and NDJSON stored, bad messages quarantined
with topic / partition / offset, offsets committed after the store, redelivery stores nothing twice."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from tests.stream.broker import Tansu
from vigil.settings import Settings, load_settings
from vigil.store import Store, open_store
from vigil.stream import tables
from vigil.stream.consumer import StreamConsumer

DIAG = {"time": "2026-01-05T09:00:00Z", "category": "SignInLogs", "tenantId": "t1", "properties": {
    "id": "sig-1", "createdDateTime": "2026-01-05T09:00:00Z", "userPrincipalName": "Ann@contoso.com",
    "userId": "u-ann", "ipAddress": "81.2.69.142", "appDisplayName": "Office 365",
    "status": {"errorCode": 0}, "location": {"countryOrRegion": "GB"}}}


def _diag(i: int) -> dict[str, Any]:
    rec = orjson.loads(orjson.dumps(DIAG))
    rec["properties"]["id"] = f"sig-{i}"
    return rec


def _settings(tmp_path: Path, broker: Tansu, topic: str, group: str) -> Settings:
    return load_settings(overrides={
        "store.path": str(tmp_path / "s.duckdb"), "stream.enabled": True, "stream.brokers": broker.bootstrap,
        "stream.topics": [topic], "stream.group_id": group, "stream.session_timeout_ms": 2000,
        "stream.batch_interval_s": 0.5}, environ={})


def _consumer(s: Settings, store: Store) -> StreamConsumer:
    @contextmanager
    def writer() -> Iterator[Store]:
        yield store

    c = StreamConsumer(s, writer)
    c.open()
    return c


def _drain(c: StreamConsumer, want: int, tries: int = 40) -> list[Any]:
    got: list[Any] = []
    for _ in range(tries):  # Tansu: joining the group takes session.timeout.ms / 2
        got += c.read()
        if len(got) >= want:
            break
    return got


def test_batches_stored_bad_quarantined_offsets_committed(tmp_path: Path, broker: Tansu, topic: str) -> None:
    p = broker.producer()
    p.produce(topic, orjson.dumps({"records": [_diag(1), _diag(2), _diag(3)]}), partition=0)  # Event Hubs batch
    p.produce(topic, b"\n".join(orjson.dumps(_diag(i)) for i in (4, 5)), partition=1)  # NDJSON
    p.produce(topic, b"{not json", partition=1)
    p.produce(topic, orjson.dumps({"records": [{"unknown": 1}, _diag(6)]}), partition=0)
    p.flush(10)
    s = _settings(tmp_path, broker, topic, "g1")
    with open_store(s.store.path) as store:
        c = _consumer(s, store)
        try:
            msgs = _drain(c, 4)
            assert len(msgs) == 4
            res = c.store(msgs)
            c.commit(res)
        finally:
            c.close()
        assert (res.stored, res.quarantined) == (6, 2)
        assert store.scalar("SELECT count(*) FROM signins") == 6
        assert store.scalar("SELECT count(*) FROM signins WHERE source_file = ?", [res.origin]) == 6
        reasons = [r[0] for r in store.rows("SELECT reason FROM quarantine ORDER BY reason")]
        assert any(r.startswith(f"kafka {topic}[1]@1: message is not JSON") for r in reasons), reasons
        assert any(r.startswith(f"kafka {topic}[0]@1 record 1: no format recognises") for r in reasons), reasons
        assert broker.committed("g1", topic, 2) == [2, 2]
        st = tables.status_rows(store)
        assert st["pending_batches"] == 1
        assert {(r["partition"], r["committed_offset"]) for r in st["partitions"]} == {(0, 2), (1, 2)}


def test_redelivery_stores_nothing_twice(tmp_path: Path, broker: Tansu, topic: str) -> None:
    p = broker.producer()
    for i in range(10):
        p.produce(topic, orjson.dumps(_diag(i)), partition=i % 2)
    p.flush(10)
    s = _settings(tmp_path, broker, topic, "g2")
    with open_store(s.store.path) as store:
        c = _consumer(s, store)
        try:
            first = c.store(_drain(c, 10))  # stored, then "crashed" before the commit
        finally:
            c.close()
        assert first.stored == 10
        c = _consumer(s, store)
        try:
            again = c.store(_drain(c, 10))
            c.commit(again)
        finally:
            c.close()
        assert (again.messages, again.stored, again.duplicate) == (10, 0, 10)
        assert store.scalar("SELECT count(*) FROM signins") == 10
        assert broker.committed("g2", topic, 2) == [5, 5]


def test_static_membership_is_the_consumers_only() -> None:
    from vigil.stream.consumer import kafka_config, producer_config

    s = load_settings(overrides={"stream.topics": ["t"], "stream.instance_id": "vigil-1"}, environ={}).stream
    assert kafka_config(s)["group.instance.id"] == "vigil-1"
    assert "group.instance.id" not in producer_config(s)  # a consumer property: librdkafka warns a producer given it
    assert "group.instance.id" not in kafka_config(s.model_copy(update={"instance_id": None}))
