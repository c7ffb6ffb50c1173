"""Run detections and write their findings as Graph-shaped ``riskDetections`` rows."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb

from vigil.detections import leaked, registry
from vigil.detections.base import FINDING_COLUMNS, LEVELS, Detection
from vigil.detections.tables import RISK_DETECTIONS
from vigil.errors import ConfigError, StoreError
from vigil.settings import Settings
from vigil.store import Store


@dataclass
class RunResult:
    counts: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def relations(store: Store) -> set[str]:
    """Tables and views visible to detections (temp tables included)."""
    rows = store.con.execute("select table_name from information_schema.tables").fetchall()
    return {r[0] for r in rows}


def _finding_sql(det: Detection, sql: str) -> str:
    cols = ", ".join(FINDING_COLUMNS)
    return f"select {cols} from ({sql}) as f"


def _insert_sql(det: Detection, have: set[str]) -> str:
    """Wrap the finding query: ids, location, request ids and session key come from the event."""
    s_join = a_join = ses_join = ""
    s_cols = a_cols = ["null"] * 10
    if "signins_enriched" in have:
        s_join = "left join signins_enriched s on s.event_id = f.event_id"
        s_cols = ["s.ip", "s.geo_city", "s.geo_state", "s.geo_country", "s.geo_latitude", "s.geo_longitude",
                  "s.request_id", "s.correlation_id", "s.user_display_name", "s.user_id"]
    if "activities_enriched" in have:
        a_join = "left join activities_enriched a on a.event_id = f.event_id"
        a_cols = ["a.ip", "a.geo_city", "a.geo_state", "a.geo_country", "a.geo_latitude", "a.geo_longitude",
                  "null", "a.correlation_id", "a.user_display_name", "a.user_id"]
    session = "null"
    if "event_sessions" in have:
        ses_join = "left join (select event_id, min(session_key) as session_key from event_sessions " \
                   "group by event_id) es on es.event_id = f.event_id"
        session = "es.session_key"
    ip, city, state, country, lat, lon, req, corr, disp, uid = (
        f"coalesce({x}, {y})" for x, y in zip(s_cols, a_cols, strict=True)
    )
    timing_detected = "f.activity_time" if det.timing == "realtime" else "current_timestamp::TIMESTAMP"
    mitre = "[" + ", ".join(f'"{m}"' for m in det.mitre) + "]"
    return f"""
    insert into "riskDetections"
    select
      substr(md5('{det.id}|' || coalesce(f.event_id, '') || '|' || coalesce(f.user_principal_name, '')
                 || '|' || cast(f.activity_time as varchar)), 1, 16) as id,
      '{det.risk_event_type}', f.risk_level, 'atRisk', 'none', '{det.timing}', '{det.activity}',
      f.activity_time, {timing_detected},
      {ip},
      case when {country} is null and {city} is null then null else json_object(
        'city', {city}, 'state', {state}, 'countryOrRegion', {country},
        'geoCoordinates', case when {lat} is null then null
                          else json_object('latitude', {lat}, 'longitude', {lon}) end) end,
      coalesce(f.user_id, {uid}), lower(f.user_principal_name), {disp}, {req}, {corr},
      'vigil',
      json_object('detection', '{det.id}', 'reason', f.reason, 'evidence', f.evidence::JSON,
                  'mitre', '{mitre}'::JSON),
      f.event_id, {session}, '{det.id}', '{mitre}'::JSON, f.reason
    from (
      select *, row_number() over (
        partition by event_id, user_principal_name, activity_time
        order by case risk_level when 'high' then 3 when 'medium' then 2 else 1 end desc, reason) as rn
      from ({_finding_sql(det, '__QUERY__')})
    ) f
    {s_join} {a_join} {ses_join}
    where f.rn = 1
    """


def run(store: Store, settings: Settings, only: list[str] | None = None) -> RunResult:
    """Replace vigil's riskDetections with what the enabled detections (or ``only`` these) find now."""
    dset = settings.detections
    store.ensure([RISK_DETECTIONS])
    dets = [d for d in registry.enabled(dset.disabled) if only is None or d.id in only]
    unknown = set(dset.params) - {d.id for d in registry.all_detections()}
    if unknown:
        raise ConfigError(f"detections.params names unknown detection(s): {', '.join(sorted(unknown))}")
    result = RunResult()
    leaked_note = leaked.load_into(store, dset.leaked_credentials_path)
    have = relations(store)
    if leaked_note is None and (note := leaked.match_note(store)):
        result.notes["leakedCredentials"] = note
    store.con.execute("begin transaction")
    try:
        store.con.execute("""delete from "riskDetections" where source = 'vigil'""")
        for det in dets:
            missing = [t for t in det.requires if t not in have]
            if missing:
                why = leaked_note if "leaked_credentials" in missing and leaked_note else \
                    f"needs {', '.join(missing)} (run the upstream stages first)"
                result.skipped[det.id] = why
                continue
            query = det.sql(det.with_params(dset.params.get(det.id)))
            sql = _insert_sql(det, have).replace("__QUERY__", query)
            try:
                before = count(store, "riskDetections")
                store.con.execute(sql)
            except duckdb.Error as exc:
                raise StoreError(f"detection {det.id} failed: {str(exc).splitlines()[0]}") from None
            result.counts[det.id] = count(store, "riskDetections") - before
        bad = store.con.execute(
            """select count(*) from "riskDetections" where source = 'vigil' and riskLevel not in """
            + "(" + ", ".join(f"'{lv}'" for lv in LEVELS) + ")"
        ).fetchall()
        if bad and bad[0][0]:
            raise StoreError(f"{bad[0][0]} detections carry a risk level outside {LEVELS}")
        store.con.execute("commit")
    except BaseException:
        store.con.execute("rollback")
        raise
    return result


def summary(result: RunResult) -> dict[str, Any]:
    out: dict[str, Any] = {"riskDetections": result.total, "by_detection": result.counts, "skipped": result.skipped}
    if result.notes:
        out["notes"] = result.notes
    return out


def count(store: Store, table: str) -> int:
    """Row count, fetched to the end (DuckDB 2 refuses new work while a result is half-read)."""
    rows = store.con.execute(f'select count(*) from "{table}"').fetchall()
    return int(rows[0][0]) if rows else 0
