"""The identity provider's own verdict: a sign-in Google or Okta flagged, or Google's account warning.

Entra ID Protection's detections are imported as they are (``vigil risk import``); other identity
providers flag sign-ins inside their logs, and those flags must not be read and then dropped:
Google Workspace ``is_suspicious`` on a login event and its ``suspicious_login*`` account warnings,
Okta ThreatInsight's ``threatSuspected``.
"""
from __future__ import annotations

from vigil.detections.base import Detection, Params


def _flag(name: str) -> str:
    return f"coalesce(cast(risk_event_types as varchar) like '%\"{name}\"%', false)"


def _sql(p: Params) -> str:
    return f"""
select event_id, user_id, user_principal_name, event_time as activity_time,
  case when result = 'success' then 'medium' else 'low' end as risk_level,
  case when {_flag('suspiciousLogin')} then 'Google flagged this ' || coalesce(result, '') || ' sign-in as suspicious'
       else 'Okta ThreatInsight suspects the network of this ' || coalesce(result, '') || ' sign-in' end
    || ' (' || coalesce(ip, 'no IP') || ')' as reason,
  json_object('vendor', token_issuer_type, 'flags', risk_event_types, 'ip', ip, 'ip_class', ip_class,
              'result', result, 'risk_detail', risk_detail) as evidence
from signins_enriched
where {_flag('suspiciousLogin')} or {_flag('threatSuspected')}
union all
select event_id, user_id, user_principal_name, event_time as activity_time, 'medium' as risk_level,
  'Google Workspace account warning ' || operation || ' for this account' as reason,
  json_object('vendor', workload, 'warning', operation, 'ip', ip, 'parameters', parameters) as evidence
from activities_enriched
where workload = 'Google Workspace' and operation in {p.strs('warnings')}
"""


DETECTION = Detection(
    id="identityProviderFlagged",
    title="Sign-in flagged by the identity provider",
    description=(
        "The identity provider judged a sign-in itself: Google Workspace marks a login `is_suspicious` and writes "
        "`suspicious_login` account warnings, Okta ThreatInsight writes `threatSuspected`. vigil keeps the verdict "
        "as a finding with the vendor's words (Entra ID Protection's own detections are imported separately). "
        "Okta's isProxy / isTor are the anonymizedIPAddress detection's (enrichment classes the IP from them)."
    ),
    entra_risk_event_type=None,
    mitre=("T1078",),
    levels=("low", "medium"),
    level_rules="a flagged successful sign-in or an account warning -> medium; a flagged failure -> low",
    timing="realtime",
    activity="signin",
    per_user=True,
    requires=("signins_enriched", "activities_enriched"),
    params={"warnings": ["suspicious_login", "suspicious_login_less_secure_app", "suspicious_programmatic_login"]},
    sql=_sql,
)
