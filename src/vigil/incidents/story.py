"""One incident's story: root authentication, timeline of hops and detections, and why it was raised."""
from __future__ import annotations

from typing import Any

import orjson

from vigil.errors import InputError
from vigil.store import Store

MAX_TIMELINE = 300


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str) else value


def story(store: Store, incident_id: str) -> dict[str, Any]:
    have = store.relations()
    if "incidents" not in have:
        raise InputError("no incidents table: run `vigil analyze` first")
    rows = store.query("select * from incidents where incident_id = ?", [incident_id]).to_pylist()
    if not rows:
        raise InputError(f"no incident {incident_id!r} (see `vigil incidents`)")
    inc = rows[0]
    for key in ("session_keys", "detection_ids", "event_ids", "risk_event_types", "behavior_ids", "accounts"):
        inc[key] = _json(inc.get(key)) or []
    det_ids = [str(d) for d in inc["detection_ids"]]
    sessions_keys = [str(s) for s in inc["session_keys"]]
    detections = store.query(
        """select id, riskEventType, riskLevel, riskState, riskDetail, activityDateTime, ipAddress,
                  location->>'$.countryOrRegion' as country, userPrincipalName, reason,
                  additionalInfo->'$.evidence' as evidence, session_key, event_id, detection, mitre
           from "riskDetections" where id = any(?) order by activityDateTime, id""", [det_ids]).to_pylist()
    for d in detections:
        d["evidence"] = _json(d["evidence"])
        d["mitre"] = _json(d["mitre"])
    roots: list[dict[str, Any]] = []
    if sessions_keys and "sessions" in have:
        roots = store.query(
            """select session_key, session_id, root_event_id, root_time, root_ip, root_country, root_city,
                      root_ip_class, root_mfa, root_device_id, root_os, root_browser, root_user_agent,
                      event_count, hop_count, countries, ips
               from sessions where session_key = any(?) order by root_time, session_key""",
            [sessions_keys]).to_pylist()
        for r in roots:
            r["countries"], r["ips"] = _json(r["countries"]), _json(r["ips"])
    timeline: list[dict[str, Any]] = [
        {"time": d["activityDateTime"], "kind": "detection",
         "text": f"{d['riskEventType']} ({d['riskLevel']}): {d['reason']}", "ref": d["id"]} for d in detections]
    if sessions_keys and "session_hops" in have:
        hops = store.query(
            f"""select hop_time, hop_kind, from_value, to_value, event_id, session_key from session_hops
                where session_key = any(?) order by hop_time, event_id limit {MAX_TIMELINE}""",
            [sessions_keys]).to_pylist()
        timeline += [{"time": h["hop_time"], "kind": "hop",
                      "text": f"{h['hop_kind']} {h['from_value']} -> {h['to_value']}", "ref": h["event_id"]}
                     for h in hops]
    for r in roots:
        timeline.append({"time": r["root_time"], "kind": "root",
                         "text": f"session root sign-in from {r['root_ip']} ({r['root_city'] or '?'}, "
                                 f"{r['root_country'] or '?'}, {r['root_ip_class'] or '?'}), "
                                 f"MFA {'yes' if r['root_mfa'] else 'no'}, {r['root_browser'] or ''}",
                         "ref": r["root_event_id"]})
    if inc["behavior_ids"] and "BehaviorAnalytics" in have:
        ba = store.query(
            """select TimeGenerated, ActionType, ActivityType, InvestigationPriority, SourceRecordId
               from "BehaviorAnalytics" where SourceRecordId = any(?) order by TimeGenerated, SourceRecordId""",
            [[str(b) for b in inc["behavior_ids"]]]).to_pylist()
        timeline += [{"time": b["TimeGenerated"], "kind": "behavior",
                      "text": f"BehaviorAnalytics {b['ActionType'] or b['ActivityType']}: InvestigationPriority "
                              f"{b['InvestigationPriority']}", "ref": b["SourceRecordId"]} for b in ba]
    comments = store.query("select author, created_at, text from incident_comments where incident_id = ? "
                           "order by created_at", [incident_id]).to_pylist() if "incident_comments" in have else []
    order = {"root": 0, "hop": 1, "detection": 2, "behavior": 3}
    timeline.sort(key=lambda e: (str(e["time"] or ""), order[e["kind"]], str(e["ref"])))
    return {"incident": inc, "root_authentications": roots, "detections": detections,
            "timeline": timeline[:MAX_TIMELINE], "timeline_truncated": len(timeline) > MAX_TIMELINE,
            "comments": comments}
