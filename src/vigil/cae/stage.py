"""The analyze stage: critical events found in the store become revocations.

Sources (architecture contract):

* ``directory_events`` with ``event_type`` in password_changed, password_reset, user_disabled,
  user_deleted, sessions_revoked, mfa_registered (successful ones, with a target user);
* ``riskyUsers`` rows at ``riskLevel = 'high'`` (still at risk or confirmed compromised): the
  time the risk became high is ``riskLastUpdatedDateTime``. When the risk stage has not run
  (no ``riskyUsers`` table) the summary says so instead of pretending there was nothing.

Events go to the CAE journal keyed by their source id, so re-running the stage adds nothing
twice (idempotent). SETs are emitted only for events newer than ``cae.stage_emit_window_s``
(28 h by default: no token issued before that can still be alive). The stage then replaces
the DuckDB table ``revocations`` with a snapshot of the whole journal for hunting and the UI.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import orjson
import pyarrow as pa

from vigil.cae.events import DIRECTORY_CRITICAL, EVENT_TYPES, CriticalEvent
from vigil.settings import Settings
from vigil.store import Store
from vigil.store.schema import C, Table

if TYPE_CHECKING:
    from vigil.cae.service import CaeService

REVOCATIONS = Table(
    "revocations",
    doc="Snapshot of the CAE revocation journal (the live state is the SQLite journal).",
    primary_key=("seq",),
    columns=(
        C("seq", "BIGINT NOT NULL", "journal sequence number"),
        C("event_key", "VARCHAR NOT NULL", "idempotency key: audit:<event_id>, risk:<id>:<time>, ssf:<iss>:<jti>:n"),
        C("event_type", "VARCHAR NOT NULL", "critical event type"),
        C("scope", "VARCHAR NOT NULL", "user | session | device"),
        C("subject", "VARCHAR NOT NULL", "user object id / session id / device id (lower-case)"),
        C("subject_alt", "VARCHAR", "UPN alias of a user"),
        C("user_id", "VARCHAR", "owning user of a session or device"),
        C("revoked_at", "TIMESTAMP NOT NULL", "tokens issued before this are no longer valid"),
        C("source", "VARCHAR NOT NULL", "audit_logs | risk | api | cli | ssf"),
        C("reason", "VARCHAR NOT NULL", "why, in words"),
        C("evidence", "JSON", "source record ids and details"),
        C("recorded_at", "TIMESTAMP NOT NULL", "when the journal stored it"),
    ),
)

_AUDIT_SQL = f"""
select event_id, event_type, operation, actor_upn, target_user_id, target_upn, correlation_id, source_file,
       extract(epoch from event_time) as t
from directory_events
where event_type in ({", ".join(f"'{t}'" for t in DIRECTORY_CRITICAL)})
  and coalesce(result, 'success') = 'success'
  and coalesce(target_user_id, target_upn) is not null
order by event_time, event_id
"""

_RISK_SQL = """
select id, userPrincipalName, riskState, riskDetail, source,
       extract(epoch from riskLastUpdatedDateTime) as t
from "riskyUsers"
where lower(riskLevel) = 'high' and coalesce(riskState, 'atRisk') in ('atRisk', 'confirmedCompromised')
order by riskLastUpdatedDateTime, id
"""


def _audit_events(store: Store) -> list[CriticalEvent]:
    out = []
    for r in store.query(_AUDIT_SQL).to_pylist():
        user = (r["target_user_id"] or r["target_upn"]).lower()
        upn = r["target_upn"].lower() if r["target_user_id"] and r["target_upn"] else None
        actor = f" by {r['actor_upn']}" if r["actor_upn"] else ""
        out.append(CriticalEvent(
            event_key=f"audit:{r['event_id']}", event_type=r["event_type"], scope="user", subject=user,
            subject_alt=upn, revoked_at=float(r["t"]), source="audit_logs",
            reason=f"{EVENT_TYPES[r['event_type']]}: {r['operation'] or r['event_type']}{actor} (AuditLogs)",
            evidence={"event_id": r["event_id"], "operation": r["operation"], "actor_upn": r["actor_upn"],
                      "correlation_id": r["correlation_id"], "source_file": r["source_file"]}))
    return out


def _risk_events(store: Store, now: float) -> list[CriticalEvent]:
    out = []
    for r in store.query(_RISK_SQL).to_pylist():
        t = float(r["t"]) if r["t"] is not None else now
        out.append(CriticalEvent(
            event_key=f"risk:{r['id']}:{r['t'] if r['t'] is not None else 'undated'}", event_type="user_risk_high",
            scope="user", subject=str(r["id"]).lower(),
            subject_alt=r["userPrincipalName"].lower() if r["userPrincipalName"] else None, revoked_at=t,
            source="risk", reason=f"user risk high ({r['riskState']}, {r['riskDetail'] or 'no detail'})",
            evidence={"riskyUsers.id": r["id"], "riskState": r["riskState"], "riskDetail": r["riskDetail"],
                      "risk_source": r["source"]}))
    return out


def _snapshot(store: Store, svc: CaeService) -> int:
    rows = svc.journal.revocation_rows()
    store.ensure([REVOCATIONS])
    store.con.execute('delete from "revocations"')
    if rows:
        def ts(v: float) -> datetime:
            return datetime.fromtimestamp(v, timezone.utc).replace(tzinfo=None)

        arrow = pa.table({
            **{c: [r[c] for r in rows] for c in ("seq", "event_key", "event_type", "scope", "subject",
                                                  "subject_alt", "user_id", "source", "reason")},
            "revoked_at": pa.array([ts(r["revoked_at"]) for r in rows], pa.timestamp("us")),
            "evidence": [orjson.dumps(r["evidence"]).decode() for r in rows],
            "recorded_at": pa.array([ts(r["recorded_at"]) for r in rows], pa.timestamp("us")),
        })
        store.con.register("_cae_rows", arrow)
        try:
            store.con.execute(f'insert into "revocations" select {", ".join(REVOCATIONS.column_names)} from _cae_rows')
        finally:
            store.con.unregister("_cae_rows")
    return len(rows)


def run(store: Store, settings: Settings, service: CaeService | None = None) -> dict[str, Any]:
    """Record the store's critical events; ``service`` is the caller's (``vigil serve``'s, so its
    in-memory index and SET pusher see them at once), else one is opened for this run."""
    if service is not None:
        return _run(store, settings, service)
    from vigil.cae.service import CaeService  # keys and JWT libraries: only when the stage runs

    svc = CaeService(settings)
    try:
        return _run(store, settings, svc)
    finally:
        svc.close()


def record_critical(store: Store, settings: Settings, svc: CaeService) -> list[CriticalEvent]:
    """Record the critical ``directory_events`` in ``store`` and emit their SETs; the new ones. The stream's
    fast lane calls it on a scratch store holding only a micro-batch's audit records (keys as here, so the
    stage finds them recorded)."""
    now = time.time()
    new = svc.state.record(_audit_events(store))
    svc.transmitter.emit([ev for ev in new if ev.revoked_at >= now - settings.cae.stage_emit_window_s])
    return new


def _run(store: Store, settings: Settings, svc: CaeService) -> dict[str, Any]:
    now = time.time()
    audit = _audit_events(store)
    has_risk = store.exists("riskyUsers")
    risk = _risk_events(store, now) if has_risk else []
    new = svc.state.record(audit + risk)
    recent = [ev for ev in new if ev.revoked_at >= now - settings.cae.stage_emit_window_s]
    queued = svc.transmitter.emit(recent)
    return {
        "critical_audit_events": len(audit),
        "high_risk_users": len(risk) if has_risk else "riskyUsers absent (risk stage has not run)",
        "new_revocations": len(new),
        "already_recorded": len(audit) + len(risk) - len(new),
        "sets_queued": queued,
        "sets_skipped_too_old": len(new) - len(recent),
        "revocations_snapshot": _snapshot(store, svc),
    }
