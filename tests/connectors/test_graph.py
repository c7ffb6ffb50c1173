"""The Graph connector against the local fake tenant: real msal, httpx and store."""
from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import orjson
import pytest

from tests.connectors.conftest import OneStore, fake_settings
from tests.connectors.fakes import CLIENT_SECRET, FakeServer, seed, signin
from vigil.connectors import get
from vigil.connectors.state import load_checkpoint, status_rows
from vigil.errors import AuthError
from vigil.settings import Settings


def _by_stream(results: list) -> dict:
    return {r.stream: r for r in results}


def test_every_stream_lands_in_the_canonical_tables(fake: FakeServer, csettings: Settings, writer: OneStore) -> None:
    seed(fake.tenant, 120)
    res = _by_stream(get("graph", csettings).poll(writer))
    assert all(r.error is None for r in res.values()), res
    st = writer.store
    assert res["signins"].pages == 3 and res["signins"].stored == 120
    tables = dict(st.con.execute("select source_table, count(*) from signins group by 1").fetchall())
    assert tables == {"SigninLogs": 30, "AADNonInteractiveUserSignInLogs": 30,
                      "AADServicePrincipalSignInLogs": 30, "AADManagedIdentitySignInLogs": 30}
    assert st.count("directory_events") == 120
    assert st.scalar("select count(*) from riskDetections where source = 'IdentityProtection'") == 2
    assert st.count("riskyUsers") == 2
    assert st.count("ca_policies") == 1 and st.count("named_locations") == 1
    # raw kept exactly, provenance names the API stream, one ingest run per page
    eid, rid = st.con.execute("select event_id, source_record_id from signins order by event_time limit 1").fetchall()[0]
    assert orjson.loads(st.raw([eid])[eid]) == next(x for x in fake.tenant.signins if x["id"] == rid)
    assert st.scalar("select count(*) from ingest_runs where source_file = 'graph:signins'") == 3
    assert load_checkpoint(st, "graph", "signins")["next_link"] is None
    rows = {r["stream"]: r for r in status_rows(st)}
    assert rows["signins"]["records"] == 120 and rows["signins"]["last_error"] is None
    assert 0 <= rows["signins"]["lag_s"] < 120


def test_late_and_republished_records_are_kept_once_latest_version(fake: FakeServer, tmp_path: Path) -> None:
    seed(fake.tenant, 60)
    settings = fake_settings(fake, tmp_path, graph={"republished_every_s": 3600})
    writer = OneStore(settings)
    try:
        graph = get("graph", settings)
        graph.poll(writer, only=["signins"])
        now = dt.datetime.utcnow()
        fake.tenant.signins.append(signin(1000, now - dt.timedelta(minutes=10)))  # arrived late, inside the overlap
        old = fake.tenant.signins[10]  # ~50 min old: outside the 15 min overlap, inside the 2 h republish window
        fake.tenant.signins[10] = {**old, "mfaDetail": {"authMethod": "Mobile app notification"},
                                   "authenticationRequirement": "multiFactorAuthentication"}  # republished
        res = _by_stream(graph.poll(writer, only=["signins"]))["signins"]
        st = writer.store
        assert st.count("signins") == 61 and res.stored == 1 and res.received < 30  # only the short overlap
        eid = st.scalar("select event_id from signins where source_record_id = ?", [old["id"]])
        assert orjson.loads(st.raw([eid])[eid])["authenticationRequirement"] == "singleFactorAuthentication"
        # the periodic long re-read picks the new version up and keeps it instead of the old one
        rescan = fake_settings(fake, tmp_path, graph={"republished_every_s": 0.001})
        res = _by_stream(get("graph", rescan).poll(writer, only=["signins"]))["signins"]
        assert res.received == 61 and res.stored == 1 and res.duplicate == 60
        assert st.count("signins") == 61
        assert orjson.loads(st.raw([eid])[eid])["authenticationRequirement"] == "multiFactorAuthentication"
        assert st.scalar("select count(*) from raw_records where event_id = ?", [eid]) == 1
    finally:
        writer.close()


def test_throttling_5xx_and_timeouts_are_retried(fake: FakeServer, csettings: Settings, writer: OneStore) -> None:
    seed(fake.tenant, 60)
    fake.tenant.hang_s = 1.5  # longer than the client's 1 s timeout
    fake.tenant.fault("/beta/auditLogs/signIns", "429", **{"Retry-After": "1"})
    fake.tenant.fault("/beta/auditLogs/signIns", "503")
    fake.tenant.fault("/v1.0/auditLogs/directoryAudits", "500", times=2)
    fake.tenant.fault("/v1.0/auditLogs/directoryAudits", "timeout")
    res = _by_stream(get("graph", csettings).poll(writer, only=["signins", "directoryAudits"]))
    assert res["signins"].error is None and res["signins"].stored == 60
    assert res["directoryAudits"].error is None and res["directoryAudits"].stored == 60
    assert sum("/beta/auditLogs/signIns" in r for r in fake.tenant.requests) == 2 + 2  # 2 pages + 2 refused


def test_retries_run_out_into_a_recorded_error_and_the_checkpoint_stays(
        fake: FakeServer, csettings: Settings, writer: OneStore) -> None:
    seed(fake.tenant, 60)
    fake.tenant.fault("/v1.0/auditLogs/directoryAudits", "500", times=10)
    res = _by_stream(get("graph", csettings).poll(writer, only=["signins", "directoryAudits"]))
    assert res["signins"].error is None  # the other stream goes on
    assert "HTTP 500" in res["directoryAudits"].error and "after 4 attempts" in res["directoryAudits"].error
    row = {r["stream"]: r for r in status_rows(writer.store)}["directoryAudits"]
    assert "HTTP 500" in row["last_error"] and row["records"] == 0
    assert load_checkpoint(writer.store, "graph", "directoryAudits") is None


def test_an_expired_token_is_refreshed(fake: FakeServer, csettings: Settings, writer: OneStore) -> None:
    seed(fake.tenant, 60)
    graph = get("graph", csettings)
    graph.poll(writer, only=["signins"])
    before = fake.tenant.token_requests
    fake.tenant.fault("/beta/auditLogs/signIns", "expire")
    fake.tenant.signins.append(signin(5000, dt.datetime.utcnow()))
    res = _by_stream(graph.poll(writer, only=["signins"]))["signins"]
    assert res.error is None and res.stored == 1
    assert fake.tenant.token_requests == before + 1


def test_a_malformed_page_is_quarantined_and_the_next_poll_resumes(fake: FakeServer, csettings: Settings,
                                                                   writer: OneStore) -> None:
    seed(fake.tenant, 120)
    graph = get("graph", csettings)
    fake.tenant.fault("/beta/auditLogs/signIns", "malformed", after=1)  # the second page is truncated
    res = _by_stream(graph.poll(writer, only=["signins", "directoryAudits"]))
    assert "could not be read" in res["signins"].error and res["signins"].stored == 50
    assert res["directoryAudits"].error is None and res["directoryAudits"].stored == 120
    q = writer.store.query("select source_file, reason, raw from quarantine").to_pylist()
    assert q[0]["source_file"] == "graph:signins" and "not valid JSON" in q[0]["reason"]
    assert q[0]["raw"].startswith('{"@odata.context"')
    assert load_checkpoint(writer.store, "graph", "signins")["next_link"]  # resumes at the broken page
    res = _by_stream(graph.poll(writer, only=["signins"]))["signins"]
    assert res.error is None and res.stored == 70
    assert writer.store.count("signins") == 120
    assert writer.store.scalar("select count(distinct source_record_id) from signins") == 120


def test_an_interrupted_window_resumes_at_the_stored_next_link(fake: FakeServer, tmp_path: Path) -> None:
    seed(fake.tenant, 120)
    s = fake_settings(fake, tmp_path, graph={"max_pages": 1})
    w = OneStore(s)
    try:
        graph = get("graph", s)
        graph.poll(w, only=["signins"])
        cp = load_checkpoint(w.store, "graph", "signins")
        assert "%24skiptoken=50" in cp["next_link"] and w.store.count("signins") == 50
        graph.poll(w, only=["signins"])
        graph.poll(w, only=["signins"])
        assert w.store.count("signins") == 120 and load_checkpoint(w.store, "graph", "signins")["next_link"] is None
    finally:
        w.close()


def test_a_wrong_secret_is_one_line_and_never_written(fake: FakeServer, tmp_path: Path,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    from vigil.settings import load_settings

    import yaml
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump(fake.settings(tmp_path / "v.duckdb")))
    s = load_settings(cfg, environ={"VIGIL_GRAPH_CLIENT_SECRET": "wrong-secret"})
    with pytest.raises(AuthError, match="Invalid client secret") as err:
        get("graph", s).token()(False)
    assert "wrong-secret" not in str(err.value)
    # a good run never writes or logs the secret
    seed(fake.tenant, 10)
    good = fake_settings(fake, tmp_path)
    assert CLIENT_SECRET not in repr(good)
    w = OneStore(good)
    caplog.set_level(logging.DEBUG)
    try:
        get("graph", good).poll(w)
        w.store.con.execute("CHECKPOINT")
    finally:
        w.close()
    assert CLIENT_SECRET not in caplog.text
    assert CLIENT_SECRET.encode() not in Path(good.store.path).read_bytes()


def test_backfill_since_reads_older_records(fake: FakeServer, csettings: Settings, writer: OneStore) -> None:
    now = dt.datetime.utcnow()
    fake.tenant.signins = [signin(i, now - dt.timedelta(days=5, minutes=i)) for i in range(5)]
    fake.tenant.signins.append(signin(99, now))
    graph = get("graph", csettings)
    graph.poll(writer, only=["signins"])
    assert writer.store.count("signins") == 1  # the 24 h look-back
    graph.poll(writer, only=["signins"], since=now - dt.timedelta(days=7))
    assert writer.store.count("signins") == 6


def test_status_is_served_by_the_api(fake: FakeServer, csettings: Settings, writer: OneStore) -> None:
    from fastapi.testclient import TestClient

    from vigil.api import tokens
    from vigil.api.app import create_api

    seed(fake.tenant, 20)
    get("graph", csettings).poll(writer, only=["signins"])
    _, token = tokens.create_token(writer.store.con, "r", "reader", created_by="test")
    writer.close()
    app = create_api(csettings)
    with TestClient(app) as client:
        body = client.get("/api/v1/connectors", headers={"Authorization": f"Bearer {token}"}).json()
        assert client.get("/api/v1/connectors").status_code == 401
    (row,) = body["streams"]
    assert row["connector"] == "graph" and row["stream"] == "signins" and row["records"] == 20
    assert row["lag_s"] is not None and row["last_error"] is None
