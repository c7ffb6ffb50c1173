"""Run detections and write their findings as Graph-shaped ``riskDetections`` rows."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import duckdb

from vigil.detections import imported, leaked, registry
from vigil.detections.base import FINDING_COLUMNS, LEVELS, Detection
from vigil.detections.tables import RISK_DETECTIONS
from vigil.errors import ConfigError, StoreError
from vigil.settings import Settings
from vigil.store import Store, in_list, literal


@dataclass
class RunResult:
    counts: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


FINDINGS = "_det_findings"


def _collect_sql(det: Detection, query: str) -> str:
    """Step 1, per detection: its findings, de-duplicated, with its metadata, into the findings table."""
    cols = ", ".join(FINDING_COLUMNS)
    meta = ", ".join(literal(v) for v in (det.id, det.risk_event_type, det.timing, det.activity,
                                          json.dumps(list(det.mitre))))
    return f"""
    insert into {FINDINGS}
    select {meta}, {cols}
    from (
      select {cols}, row_number() over (
        partition by event_id, user_principal_name, activity_time
        order by case risk_level when 'high' then 3 when 'medium' then 2 else 1 end desc, reason) as rn
      from (select {cols} from ({query}) as q) as f
    ) f
    where rn = 1
    """


def _write_sql(have: set[str]) -> str:
    """Step 2, once: Graph-shaped rows; location, request ids and session key come from the event."""
    s_join = a_join = ses_join = ""
    s_cols = a_cols = ["null"] * 10
    ids = f"(select event_id from {FINDINGS} where event_id is not null)"
    if "signins_enriched" in have:  # a view: filter it to the findings' events before joining
        s_join = f"left join (select * from signins_enriched where event_id in {ids}) s on s.event_id = f.event_id"
        s_cols = ["s.ip", "s.geo_city", "s.geo_state", "s.geo_country", "s.geo_latitude", "s.geo_longitude",
                  "s.request_id", "s.correlation_id", "s.user_display_name", "s.user_id"]
    if "activities_enriched" in have:
        a_join = f"left join (select * from activities_enriched where event_id in {ids}) a on a.event_id = f.event_id"
        a_cols = ["a.ip", "a.geo_city", "a.geo_state", "a.geo_country", "a.geo_latitude", "a.geo_longitude",
                  "null", "a.correlation_id", "a.user_display_name", "a.user_id"]
    session = "null"
    if "event_sessions" in have:
        ses_join = (f"left join (select event_id, min(session_key) as session_key from event_sessions "
                    f"where event_id in {ids} group by event_id) es on es.event_id = f.event_id")
        session = "es.session_key"
    ip, city, state, country, lat, lon, req, corr, disp, uid = (
        f"coalesce({x}, {y})" for x, y in zip(s_cols, a_cols, strict=True)
    )
    return f"""
    insert into "riskDetections"
    select
      substr(md5(f.detection || '|' || coalesce(f.event_id, '') || '|' || coalesce(f.user_principal_name, '')
                 || '|' || cast(f.activity_time as varchar)), 1, 16) as id,
      f.risk_event_type, f.risk_level, 'atRisk', 'none', f.timing, f.activity,
      f.activity_time, case when f.timing = 'realtime' then f.activity_time else current_timestamp::TIMESTAMP end,
      {ip},
      case when {country} is null and {city} is null then null else json_object(
        'city', {city}, 'state', {state}, 'countryOrRegion', {country},
        'geoCoordinates', case when {lat} is null then null
                          else json_object('latitude', {lat}, 'longitude', {lon}) end) end,
      coalesce(f.user_id, {uid}), lower(f.user_principal_name), {disp}, {req}, {corr},
      'vigil',
      json_object('detection', f.detection, 'reason', f.reason, 'evidence', f.evidence::JSON,
                  'mitre', f.mitre::JSON),
      f.event_id, {session}, f.detection, f.mitre::JSON, f.reason
    from {FINDINGS} f
    {s_join} {a_join} {ses_join}
    """


def run(store: Store, settings: Settings, only: list[str] | None = None,
        per_user: bool | None = None) -> RunResult:
    """Replace vigil's riskDetections with what the enabled detections (or ``only`` these) find now.
    ``per_user`` True / False: run only the per-user detections / only the others and replace only their
    findings (the stream's incremental analysis runs the per-user ones over the affected users apart)."""
    dset = settings.detections
    store.ensure([RISK_DETECTIONS])
    dets = [d for d in registry.enabled(dset.disabled) if only is None or d.id in only]
    # rules imported from other formats (`vigil detections import-sigma`) run beside the catalogue
    dets += [r.detection() for r in imported.load(store) if only is None or r.id in only]
    # the per-user pass replaces the per-user detections' findings; the other pass every other finding (so a
    # disabled detection's findings go whichever it was)
    apart = in_list([d.id for d in dets if d.per_user] or [""])
    mine = {None: "", True: f"and detection in {apart}", False: f"and coalesce(detection, '') not in {apart}"}[per_user]
    if per_user is not None:
        dets = [d for d in dets if d.per_user == per_user]
    unknown = set(dset.params) - {d.id for d in registry.all_detections()}
    if unknown:
        raise ConfigError(f"detections.params names unknown detection(s): {', '.join(sorted(unknown))}")
    result = RunResult()
    leaked_note = leaked.load_into(store, dset.leaked_credentials_path)
    have = store.relations()
    if leaked_note is None and (note := leaked.match_note(store)):
        result.notes["leakedCredentials"] = note
    with store.transaction():
        store.con.execute(f"""create or replace temp table {FINDINGS} (detection VARCHAR, risk_event_type VARCHAR,
            timing VARCHAR, activity VARCHAR, mitre VARCHAR, event_id VARCHAR, user_id VARCHAR,
            user_principal_name VARCHAR, activity_time TIMESTAMP, risk_level VARCHAR, reason VARCHAR,
            evidence VARCHAR)""")
        # the decision point's real-time rows are not the engine's to replace (vigil.risk.recorder)
        store.con.execute(f"""delete from "riskDetections" where source = 'vigil'
                              and coalesce(detection, '') <> 'decisionPoint' {mine}""")
        for det in dets:
            missing = [t for t in det.requires if t not in have]
            if missing:
                why = leaked_note if "leaked_credentials" in missing and leaked_note else \
                    f"needs {', '.join(missing)} (run the upstream stages first)"
                result.skipped[det.id] = why
                continue
            sql = _collect_sql(det, det.sql(det.with_params(dset.params.get(det.id))))
            started = time.perf_counter()
            try:
                before = store.count(FINDINGS)
                store.con.execute(sql)
            except duckdb.Error as exc:
                raise StoreError(f"detection {det.id} failed: {str(exc).splitlines()[0]}") from None
            result.counts[det.id] = store.count(FINDINGS) - before
            result.seconds[det.id] = round(time.perf_counter() - started, 3)
        started = time.perf_counter()
        try:
            store.con.execute(_write_sql(have))
        except duckdb.Error as exc:
            raise StoreError(f"writing riskDetections failed: {str(exc).splitlines()[0]}") from None
        result.seconds["(write riskDetections)"] = round(time.perf_counter() - started, 3)
        bad = store.scalar("""select count(*) from "riskDetections" where source = 'vigil' and riskLevel not in """
                           + in_list(LEVELS))
        if bad:
            raise StoreError(f"{bad} detections carry a risk level outside {LEVELS}")
    return result


def summary(result: RunResult) -> dict[str, Any]:
    out: dict[str, Any] = {"riskDetections": result.total, "by_detection": result.counts, "skipped": result.skipped}
    if result.notes:
        out["notes"] = result.notes
    out["seconds_by_detection"] = result.seconds
    return out

