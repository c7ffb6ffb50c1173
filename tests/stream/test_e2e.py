"""End to end: a Kafka broker, `vigil serve` as its own process consuming a topic, a producer, and a resource
protected by the CAE middleware in another process' role (the test's). The service is killed with SIGKILL
mid-stream and restarted: every record is stored exactly once, incidents appear over the API, and a
password reset streamed as an Event Hubs batch makes the resource refuse the user's token."""
from __future__ import annotations

import signal
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson

from tests.cli.test_service import Service, write_config
from tests.stream.broker import Tansu
from vigil.api.cae_demo import ServerThread, create_demo_app
from vigil.cae.service import CaeService
from vigil.cae.tokens import issue_token
from vigil.cli._service import read_state, state_path
from vigil.settings import load_settings
from vigil.simulate import simulate_tenant
from vigil.store import open_store

LOGS = ("SigninLogs.json", "AADNonInteractiveUserSignInLogs.json", "OfficeActivity_ManagementAPI.json",
        "AuditLogs.json")


def _messages(sim: Path) -> list[bytes]:
    out = []
    for name in LOGS:
        lines = (sim / name).read_bytes().splitlines()
        out += [b"\n".join(lines[i:i + 40]) for i in range(0, len(lines), 40)]
    return out


def _password_reset(user_id: str, upn: str, when: datetime) -> bytes:
    t = when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    rec = {"time": t, "category": "AuditLogs", "tenantId": "t-e2e", "operationName": "Reset user password",
           "properties": {
               "id": f"Directory_{uuid.uuid4().hex}", "activityDateTime": t, "activityDisplayName": "Reset user password",
               "category": "UserManagement", "operationType": "Reset", "result": "success",
               "loggedByService": "Core Directory", "correlationId": str(uuid.uuid4()),
               "initiatedBy": {"user": {"id": "admin-1", "userPrincipalName": "helpdesk@contoso.com"}},
               "targetResources": [{"id": user_id, "type": "User", "userPrincipalName": upn}]}}
    return orjson.dumps({"records": [rec]})  # as Event Hubs delivers diagnostic settings


def _wait(what: str, ok: Any, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ok():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting until {what}\n{log.read_text()[-3000:]}")


def test_broker_service_kill9_cae(tmp_path: Path, broker: Tansu, topic: str) -> None:
    sim = tmp_path / "sim"
    simulate_tenant(sim, users=6, days=3, seed=11)
    msgs = _messages(sim)
    db = tmp_path / "e2e.duckdb"
    group = f"vigil-{uuid.uuid4().hex[:6]}"
    cfg = write_config(tmp_path, {
        "store": {"path": str(db)},
        "cae": {"state_path": f"{db}.cae.sqlite", "keys_path": f"{db}.keys.json", "sync_interval_ms": 20},
        "stream": {"enabled": True, "brokers": broker.bootstrap, "topics": [topic], "group_id": group,
                   "session_timeout_ms": 4000, "batch_interval_s": 0.5,
                   # static membership: the restarted service takes the killed one's place in the group
                   "instance_id": "e2e-1"}})
    # the protected resource: another deployment sharing only the CAE journal and keys
    settings = load_settings(cfg, overrides={"store.path": str(tmp_path / "resource.duckdb")}, environ={})
    producer = broker.producer()

    def produce(values: list[bytes]) -> None:
        for i, v in enumerate(values):
            producer.produce(topic, v, partition=i % 2)
        producer.flush(30)

    def committed() -> int:
        return sum(max(o, 0) for o in broker.committed(group, topic, 2))

    half = len(msgs) // 2
    produce(msgs[:half])
    svc = Service(tmp_path, cfg).start()
    try:
        _wait("the first messages are committed", lambda: committed() > 0, 120, svc.log)
        produce(msgs[half:])
        svc.stop(signal.SIGKILL)  # mid-stream: stored or not, committed or not
        svc = Service(tmp_path, cfg).start()
        _wait("every message is committed", lambda: committed() == len(msgs), 180, svc.log)

        info = read_state(state_path(db))
        assert info is not None
        api = httpx.Client(base_url=info["url"], headers={"Authorization": f"Bearer {info['token']}"}, timeout=30)
        _wait("the analysis caught up", lambda: api.get("/api/v1/stream").json()["pending_batches"] == 0, 120,
              svc.log)
        status = api.get("/api/v1/stream").json()
        assert status["consumer"]["running"] and status["consumer"]["last_error"] is None
        assert {p["partition"] for p in status["partitions"]} == {0, 1}
        assert sum(p["committed_offset"] for p in status["partitions"]) == len(msgs)
        incidents = api.get("/api/v1/incidents").json()
        assert (incidents.get("items") if isinstance(incidents, dict) else incidents), incidents

        # CAE: the resource accepts the user's token until a password reset streams in
        users = orjson.loads((sim / "users.json").read_bytes())["value"]
        victim = users[0]
        cae = CaeService(settings)
        token = issue_token(cae.keys, issuer=settings.cae.issuer, audience=settings.cae.audience,
                            user_id=victim["id"], upn=victim["userPrincipalName"], cp1=True,
                            lifetime_s=3600, now=time.time() - 120)[0]
        with ServerThread(create_demo_app(settings, service=cae)) as resource:
            web = httpx.Client(base_url=resource.url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
            assert web.get("/resource/hello").status_code == 200
            produce([_password_reset(victim["id"], victim["userPrincipalName"],
                                     datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=5))])
            _wait("the resource refuses the token", lambda: web.get("/resource/hello").status_code == 401, 120,
                  svc.log)
            challenge = web.get("/resource/hello").headers["www-authenticate"]
            assert "insufficient_claims" in challenge
        cae.close()
    finally:
        svc.stop(signal.SIGTERM)

    sent = sum(len(v.splitlines()) for v in msgs)
    with open_store(db, read_only=True) as store:
        stored = store.scalar("SELECT (SELECT count(*) FROM signins) + (SELECT count(*) FROM activities) "
                              "+ (SELECT count(*) FROM directory_events)")
        distinct = store.scalar("SELECT (SELECT count(DISTINCT source_record_id) FROM signins) + "
                                "(SELECT count(DISTINCT source_record_id) FROM activities) + "
                                "(SELECT count(DISTINCT source_record_id) FROM directory_events)")
        quarantined = store.scalar("SELECT count(*) FROM quarantine")
        pending = store.scalar("SELECT count(*) FROM stream_batches WHERE analyzed_at IS NULL")
    assert quarantined == 0
    assert stored == distinct == sent + 1  # 0 lost, 0 duplicated (+1: the password reset)
    assert pending == 0
