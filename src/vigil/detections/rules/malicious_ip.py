"""Successful sign-in from an IP on a threat-intel list, or one failing for many accounts in the tenant."""
from __future__ import annotations

from vigil.detections.base import Detection, Params
from vigil.detections.sqlparts import PASSWORD_FAILURE


def _sql(p: Params) -> str:
    return f"""
with days as (  -- per IP and day: how often it failed, for how many accounts
  select ip, cast(event_time as date) as d, count(*) as attempts,
    sum(case when {PASSWORD_FAILURE} then 1 else 0 end) as failures,
    count(distinct user_principal_name) as accounts
  from signins_enriched where ip is not null
  group by ip, cast(event_time as date)
),
bad as (
  select * from days
  where attempts >= {p.num('min_attempts')} and accounts >= {p.num('min_accounts')}
    and failures >= {p.num('min_failure_ratio')} * attempts
)
select s.event_id, s.user_id, s.user_principal_name, s.event_time as activity_time,
  case when s.threat_intel is not null then 'high' else 'medium' end as risk_level,
  'successful sign-in from ' || s.ip
    || case when s.threat_intel is not null then ' listed by threat intelligence (' || s.threat_intel || ')'
            else '' end
    || case when b.ip is not null then case when s.threat_intel is not null then ' and' else '' end
            || ' failing ' || b.failures || ' of ' || b.attempts || ' sign-ins for ' || b.accounts
            || ' accounts that day' else '' end as reason,
  json_object('ip', s.ip, 'threat_intel', s.threat_intel, 'ip_class', s.ip_class,
              'day_attempts', b.attempts, 'day_failures', b.failures, 'day_accounts', b.accounts) as evidence
from signins_enriched s
left join bad b on b.ip = s.ip and b.d = cast(s.event_time as date)
where s.result = 'success' and not coalesce(s.is_corporate_egress, false)
  and (s.threat_intel is not null or b.ip is not null)
"""


DETECTION = Detection(
    id="maliciousIPAddress",
    title="Malicious IP address",
    description=(
        "A successful sign-in from an IP that threat intelligence lists (enrichment's threat_intel) or that, "
        "the same day, failed first-factor authentication at a high rate for several accounts of the tenant "
        "(at least 20 attempts, 3 accounts, 90% failures by default). Corporate egress is exempt."
    ),
    entra_risk_event_type="maliciousIPAddress",
    mitre=("T1078.004", "T1110"),
    levels=("medium", "high"),
    level_rules="high-failure IP -> medium; threat-intel listed -> high",
    timing="offline",
    activity="signin",
    requires=("signins_enriched",),
    params={"min_attempts": 20, "min_accounts": 3, "min_failure_ratio": 0.9},
    sql=_sql,
)
