"""Attacker in the middle: a sign-in relayed by a phishing reverse proxy, then its session reused."""
from __future__ import annotations

from vigil.detections.base import Detection, Params


def _sql(p: Params) -> str:
    return """
select coalesce(h.root_event_id, json_extract_string(h.evidence_event_ids, '$[0]')) as event_id,
  h.user_id, h.user_principal_name, h.detected_time as activity_time, 'high' as risk_level,
  'adversary-in-the-middle: ' || h.reason as reason,
  json_object('finding_id', h.finding_id, 'session_key', h.session_key, 'root_event_id', h.root_event_id,
              'evidence_event_ids', h.evidence_event_ids, 'ip', h.ip, 'country', h.country,
              'user_agent', h.user_agent, 'severity', h.severity) as evidence
from session_hijacks h
where h.kind = 'aitm'
"""


DETECTION = Detection(
    id="attackerinTheMiddle",
    title="Attacker in the middle",
    description=(
        "The sessions area found a session whose root sign-in went through a reverse proxy (hosting network, "
        "MFA satisfied) and whose cookie was then used from elsewhere (session_hijacks kind aitm). MFA was "
        "satisfied by the victim, so MFA does not remediate it; Entra raises the user to high."
    ),
    entra_risk_event_type="attackerinTheMiddle",
    mitre=("T1557", "T1539"),
    levels=("high",),
    level_rules="always high",
    timing="offline",
    activity="user",
    per_user=True,
    requires=("session_hijacks",),
    params={},
    sql=_sql,
)
