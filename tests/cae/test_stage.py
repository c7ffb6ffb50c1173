from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from tests.builders import insert, row
from vigil.cae import stage
from vigil.cae.service import CaeService
from vigil.cae.transmitter import POLL
from vigil.settings import Settings
from vigil.store import Store

NOW = datetime.now(timezone.utc)


def _audit(event_type: str, user: str | None, *, result: str = "success", when: datetime = NOW,
           upn: str | None = None) -> dict:
    return row("directory_events", event_type=event_type, operation=event_type.replace("_", " ").title(),
               result=result, target_user_id=user, target_upn=upn, actor_upn="admin@contoso.com", event_time=when)


def test_stage_derives_revocations_idempotently(store: Store, settings: Settings) -> None:
    insert(store, "directory_events", [
        _audit("password_reset", "U1", upn="Ann@Contoso.com"),
        _audit("user_disabled", "u2"),
        _audit("mfa_registered", None, upn="cat@contoso.com"),
        _audit("user_enabled", "u3"),                           # not critical
        _audit("password_changed", "u4", result="failure"),     # failed: nothing changed
        _audit("sessions_revoked", "u5", when=NOW - timedelta(days=3)),  # old: recorded, no SET
    ])
    svc = CaeService(settings)
    stream = svc.transmitter.create_stream({"delivery": {"method": POLL}})
    first = stage.run(store, settings, svc)
    assert first["critical_audit_events"] == 4 and first["new_revocations"] == 4
    assert first["high_risk_users"] == "riskyUsers absent (risk stage has not run)"
    assert first["sets_queued"] == 3 and first["sets_skipped_too_old"] == 1
    hit = svc.state.check(issued_at=time.time() - 3600, users=["ann@contoso.com"])
    assert hit is not None and hit.event_type == "password_reset" and "by admin@contoso.com" in hit.reason
    again = stage.run(store, settings, svc)
    assert again["new_revocations"] == 0 and again["already_recorded"] == 4 and again["sets_queued"] == 0
    snap = store.query('select source, count(*) n from "revocations" group by 1').to_pylist()
    assert snap == [{"source": "audit_logs", "n": 4}]
    ev = store.query("select evidence->>'event_id' e, revoked_at from revocations where subject = 'u1'").to_pylist()
    assert len(ev) == 1 and ev[0]["e"] is not None
    assert len(svc.transmitter.poll(stream["stream_id"], {"maxEvents": 10})["sets"]) == 3
    svc.close()


def test_stage_reads_risky_users_high(store: Store, settings: Settings) -> None:
    store.con.execute('create table "riskyUsers" (id varchar, userPrincipalName varchar, userDisplayName varchar,'
                      ' riskLevel varchar, riskState varchar, riskDetail varchar, riskLastUpdatedDateTime timestamp,'
                      ' source varchar)')
    t = NOW.replace(tzinfo=None)
    store.con.execute('insert into "riskyUsers" values'
                      " ('r1', 'Risky@contoso.com', 'R', 'high', 'atRisk', 'none', ?, 'vigil'),"
                      " ('r2', 'meh@contoso.com', 'M', 'medium', 'atRisk', 'none', ?, 'vigil'),"
                      " ('r3', 'fixed@contoso.com', 'F', 'high', 'remediated', 'userPerformedSecuredPasswordReset',"
                      " ?, 'vigil')", [t, t, t])
    svc = CaeService(settings)
    out = stage.run(store, settings, svc)
    assert out["high_risk_users"] == 1 and out["new_revocations"] == 1
    hit = svc.state.lookup("user", "risky@contoso.com")
    assert hit is not None and hit.event_type == "user_risk_high"
    assert abs(hit.revoked_at - NOW.timestamp()) < 1
    assert stage.run(store, settings, svc)["new_revocations"] == 0
    svc.close()
