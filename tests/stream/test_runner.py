"""Micro-batches end to end inside one process: broker -> store -> incremental analysis -> CAE, output topic,
listeners; and a batch stored before a crash is analysed after the restart."""
from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from tests.stream.broker import Tansu
from vigil.cae.service import CaeService
from vigil.settings import Settings, load_settings
from vigil.simulate import simulate_tenant
from vigil.store import Store, open_store
from vigil.stream.runner import MicroBatch, StreamRunner


def _settings(tmp_path: Path, broker: Tansu, topic: str, out: str | None = None) -> Settings:
    db = tmp_path / "s.duckdb"
    return load_settings(overrides={
        "store.path": str(db), "cae.state_path": f"{db}.cae.sqlite", "cae.keys_path": f"{db}.keys.json",
        "stream.enabled": True, "stream.brokers": broker.bootstrap, "stream.topics": [topic],
        "stream.group_id": f"g-{uuid.uuid4().hex[:6]}", "stream.session_timeout_ms": 2000,
        "stream.batch_interval_s": 0.5, "stream.output_topic": out}, environ={})


def _produce(broker: Tansu, topic: str, sim: Path) -> int:
    p = broker.producer()
    n = 0
    for name in ("SigninLogs.json", "AADNonInteractiveUserSignInLogs.json", "AuditLogs.json",
                 "OfficeActivity_ManagementAPI.json"):
        lines = (sim / name).read_bytes().splitlines()
        for i in range(0, len(lines), 50):  # NDJSON messages of 50 records
            p.produce(topic, b"\n".join(lines[i:i + 50]))
            n += len(lines[i:i + 50])
    p.flush(30)
    return n


def _read_topic(broker: Tansu, topic: str, want: int) -> list[dict[str, Any]]:
    from confluent_kafka import Consumer

    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": f"r-{uuid.uuid4().hex[:6]}",
                  "auto.offset.reset": "earliest", "session.timeout.ms": 2000})
    c.subscribe([topic])
    out: list[dict[str, Any]] = []
    try:
        for _ in range(60):
            for m in c.consume(500, timeout=0.5):
                if m.error() is None:
                    out.append(orjson.loads(m.value()))
            if len(out) >= want:
                break
    finally:
        c.close()
    return out


def test_micro_batches_analysed_published_and_revoked(tmp_path: Path, broker: Tansu, topic: str) -> None:
    sim = tmp_path / "sim"
    simulate_tenant(sim, users=6, days=3, seed=3)
    sent = _produce(broker, topic, sim)
    out_topic = f"out-{uuid.uuid4().hex[:6]}"
    broker.create_topic(out_topic)
    s = _settings(tmp_path, broker, topic, out_topic)
    seen: list[MicroBatch] = []
    cae = CaeService(s)
    with open_store(s.store.path) as store:
        @contextmanager
        def writer() -> Iterator[Store]:
            yield store

        runner = StreamRunner(s, writer, cae=cae, listeners=[seen.append])
        runner.consumer.open()
        from vigil.stream.outputs import OutputTopic

        runner.output = OutputTopic(s.stream)
        try:
            for _ in range(60):
                runner.step()
                if runner.stats["messages"] and sum(b.stored + b.duplicate for b in seen) + \
                        store.scalar("SELECT count(*) FROM quarantine") >= sent:
                    break
        finally:
            runner.consumer.close()
            runner.output.close()
        stored = store.scalar("SELECT (SELECT count(*) FROM signins) + (SELECT count(*) FROM activities) "
                              "+ (SELECT count(*) FROM directory_events)")
        assert stored + store.scalar("SELECT count(*) FROM quarantine") == sent
        assert seen and all(b.analysis for b in seen)
        assert set().union(*(b.affected_users for b in seen)) >= {
            r[0] for r in store.rows("SELECT DISTINCT user_principal_name FROM signins WHERE user_principal_name "
                                     "IS NOT NULL")}
        assert store.scalar("SELECT count(*) FROM sessions") > 0
        assert store.scalar("SELECT count(*) FROM stream_batches WHERE analyzed_at IS NULL") == 0
        incidents = store.scalar("SELECT count(*) FROM incidents")
        risky = store.scalar("SELECT count(*) FROM \"riskyUsers\"")
        critical = store.scalar("SELECT count(*) FROM directory_events WHERE event_type IN "
                                "('password_reset', 'user_disabled', 'sessions_revoked', 'password_changed')")
    assert incidents > 0 and risky > 0 and critical > 0
    # CAE applied in the same micro-batch: the service's own index knows the revocations
    assert len(cae.journal.revocation_rows()) >= critical
    cae.close()
    published = _read_topic(broker, out_topic, incidents + risky)
    types = {m["type"] for m in published}
    assert "incident.created" in types and "risk.changed" in types
    assert len({m["incident"]["incident_id"] for m in published if m["type"].startswith("incident")}) == incidents


def test_stored_before_a_crash_is_analysed_after_restart(tmp_path: Path, broker: Tansu, topic: str) -> None:
    sim = tmp_path / "sim"
    simulate_tenant(sim, users=5, days=1, seed=4)
    _produce(broker, topic, sim)
    s = _settings(tmp_path, broker, topic)
    with open_store(s.store.path) as store:
        @contextmanager
        def writer() -> Iterator[Store]:
            yield store

        first = StreamRunner(s, writer)
        first.consumer.open()
        try:
            for _ in range(40):
                msgs = first.consumer.read()
                if msgs:
                    first.consumer.commit(first.consumer.store(msgs))  # stored and committed, then "killed"
                    break
        finally:
            first.consumer.close()
        assert store.scalar("SELECT count(*) FROM stream_batches WHERE analyzed_at IS NULL") > 0
        second = StreamRunner(s, writer)
        batch = second.step(analyze_first=True)
        assert batch is not None and batch.analyzed_origins and batch.affected_users
        assert store.scalar("SELECT count(*) FROM stream_batches WHERE analyzed_at IS NULL") == 0
        assert store.scalar("SELECT count(*) FROM sessions") > 0


def test_cae_fast_lane_revokes_without_the_store(tmp_path: Path, broker: Tansu, topic: str) -> None:
    from datetime import UTC, datetime, timedelta

    from tests.stream.test_e2e import _password_reset
    from vigil.stream.critical import CriticalLane

    s = _settings(tmp_path, broker, topic)
    cae = CaeService(s)
    lane = CriticalLane(s, cae)  # no store is opened at all: the lane needs none
    lane.start()
    try:
        p = broker.producer()
        p.produce(topic, b'{"unrelated": true}')
        p.produce(topic, _password_reset("u-fast", "fast@contoso.com",
                                         datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=2)))
        p.flush(10)
        for _ in range(200):
            if lane.revoked:
                break
            time.sleep(0.1)
        rows = cae.journal.revocation_rows(subject="u-fast")
    finally:
        lane.stop()
        cae.close()
    assert lane.last_error is None
    assert [r["event_type"] for r in rows] == ["password_reset"]
    assert not Path(s.store.path).exists()


def test_webhook_one_attempt_per_micro_batch(tmp_path: Path, broker: Tansu, topic: str) -> None:
    from tests.incidents.test_output import SECRET, Receiver, _store_with_incident

    receiver = Receiver()
    s = _settings(tmp_path, broker, topic).model_copy(deep=True)
    s.incidents.webhook_url, s.incidents.webhook_secret = receiver.url, SECRET
    try:
        with open_store(s.store.path) as store:
            _store_with_incident(store)

            @contextmanager
            def writer() -> Iterator[Store]:
                yield store

            runner = StreamRunner(s, writer)
            receiver.script = [503]
            first = runner._publish(store)
            assert first["webhook"] == {"sent": 0, "failed": 1}  # no back-off under the store's lock
            second = runner._publish(store)  # the next micro-batch is the retry
            assert second["webhook"] == {"sent": 1, "failed": 0}
            assert runner._publish(store)["webhook"] == {"sent": 0, "failed": 0}
        assert [r["code"] for r in receiver.received] == [503, 200]
    finally:
        receiver.close()


def test_behind_the_analysis_takes_several_micro_batches(tmp_path: Path, broker: Tansu, topic: str) -> None:
    sim = tmp_path / "sim"
    simulate_tenant(sim, users=5, days=1, seed=6)
    sent = _produce(broker, topic, sim)
    s = _settings(tmp_path, broker, topic).model_copy(deep=True)
    s.stream.batch_max_events, s.stream.max_analysis_delay_s = 5, 3600.0  # every micro-batch comes full
    seen: list[MicroBatch] = []
    with open_store(s.store.path) as store:
        @contextmanager
        def writer() -> Iterator[Store]:
            yield store

        runner = StreamRunner(s, writer, listeners=[seen.append])
        runner.consumer.open()
        deferred: list[MicroBatch] = []
        try:
            for _ in range(60):
                b = runner.step()
                if b is not None and b.deferred:
                    deferred.append(b)
                if len(deferred) == 3:
                    break
        finally:
            runner.consumer.close()
        assert sent > 15 and len(deferred) == 3 and not any(b.analyzed_origins for b in deferred)
        assert not any(b in seen for b in deferred)  # listeners hear of applied micro-batches only
        runner.cfg.max_analysis_delay_s = 0.0
        runner.consumer.open()
        try:
            applied = next(b for b in (runner.step() for _ in range(60)) if b is not None)
        finally:
            runner.consumer.close()
        assert {b.origin for b in deferred} <= set(applied.analyzed_origins) and seen[-1] is applied


def test_behind_storing_gets_as_long_as_the_last_analysis(tmp_path: Path) -> None:
    s = load_settings(overrides={"store.path": str(tmp_path / "s.duckdb"), "stream.topics": ["t"],
                                 "stream.max_analysis_delay_s": 2.0}, environ={})

    @contextmanager
    def writer() -> Iterator[Store]:
        raise AssertionError("no store needed")
        yield  # pragma: no cover

    runner = StreamRunner(s, writer)
    runner._analysed_at = time.monotonic() - 5.0  # the last analysis ended 5 s ago
    assert not runner.defer(behind=True)  # past max_analysis_delay_s
    runner.stats["last_analysis_s"] = 30.0  # ... but it took 30 s: store for as long before the next
    assert runner.defer(behind=True)
    assert not runner.defer(behind=False)  # caught up: analyse at once
