"""Anomalous token: a session's token replayed or used concurrently, from the session analysis."""
from __future__ import annotations

from vigil.detections.base import Detection, Params


def _sql(p: Params) -> str:
    return f"""
select coalesce(json_extract_string(h.evidence_event_ids, '$[' || (json_array_length(h.evidence_event_ids) - 1)
                || ']'), h.root_event_id) as event_id,
  h.user_id, h.user_principal_name, h.detected_time as activity_time,
  case when h.severity in ('low', 'medium', 'high') then h.severity else 'medium' end as risk_level,
  h.kind || ': ' || h.reason as reason,
  json_object('finding_id', h.finding_id, 'kind', h.kind, 'session_key', h.session_key,
              'root_event_id', h.root_event_id, 'evidence_event_ids', h.evidence_event_ids,
              'ip', h.ip, 'country', h.country, 'user_agent', h.user_agent) as evidence
from session_hijacks h
where h.kind in {p.strs('kinds')}
"""


DETECTION = Detection(
    id="anomalousToken",
    title="Anomalous token (session hijack)",
    description=(
        "A session whose token was replayed from another device or network, used from two places at once, or "
        "driven by a scripted client after an interactive root sign-in, as found by the sessions area "
        "(session_hijacks kinds token_replay, concurrent_use, scripted_client). The finding points at the "
        "last event of the hijack evidence and carries the session's root sign-in."
    ),
    entra_risk_event_type="anomalousToken",
    mitre=("T1550.004", "T1528"),
    levels=("low", "medium", "high"),
    level_rules="the session finding's severity",
    timing="offline",
    activity="signin",
    per_user=True,
    requires=("session_hijacks",),
    params={"kinds": ["token_replay", "concurrent_use", "scripted_client"]},
    sql=_sql,
)
