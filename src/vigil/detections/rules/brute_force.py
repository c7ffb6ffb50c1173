"""Brute force: many password failures against one account in minutes."""
from __future__ import annotations

from vigil.detections.base import Detection, Params
from vigil.detections.sqlparts import attempts, hours


def _sql(p: Params) -> str:
    w = f"({p.num('window_minutes')} * 60)"
    return f"""
with att as (
  select x.*, coalesce(sum(ok) over (partition by user_principal_name, ip order by event_time, event_id
                                    rows between unbounded preceding and 1 preceding), 0) as prior_ok
  from ({attempts()}) x
),
grid as (select 0 as g union all select 1),
bursts as (
  select a.user_principal_name, g.g, floor((a.ep + g.g * {w} / 2) / {w}) as b
  from att a cross join grid g
  where a.pw_fail = 1
  group by a.user_principal_name, g.g, floor((a.ep + g.g * {w} / 2) / {w})
  having count(*) >= {p.num('min_failures')}
),
burst_att as (
  select distinct a.event_id, a.user_principal_name, a.event_time, a.ip, a.prior_ok, cast(a.event_time as date) as d
  from att a join bursts b on a.user_principal_name = b.user_principal_name
   and floor((a.ep + b.g * {w} / 2) / {w}) = b.b
  where a.pw_fail = 1
),
per_day as (  -- one finding per account and day
  select user_principal_name, d, min(event_time) as first_t, max(event_time) as last_t, count(*) as failures,
         count(distinct ip) as ips, count(distinct case when prior_ok = 0 then ip end) as fresh_ips
  from burst_att group by user_principal_name, d
),
cand as (
  select pd.*, a.event_id, a.user_id, a.event_time, a.ok, a.validated, a.ip, a.result_code,
    row_number() over (partition by pd.user_principal_name, pd.d
                       order by a.ok desc, a.validated desc, a.event_time desc, a.event_id) as pick
  from per_day pd
  join att a on a.user_principal_name = pd.user_principal_name
   and a.event_time >= pd.first_t and a.event_time <= pd.last_t + {hours(p.num('followup_hours'))}
   and (a.pw_fail = 1 or (a.validated = 1 and a.event_time >= pd.first_t
        and a.ip in (select ip from burst_att x where x.user_principal_name = pd.user_principal_name and x.d = pd.d)))
)
select event_id, user_id, user_principal_name, event_time as activity_time,
  case when ok = 1 then 'high' when validated = 1 then 'medium' else 'low' end as risk_level,
  failures || ' password failures against this account within ' || {p.num('window_minutes')} || ' minutes from '
    || ips || ' IP(s)' || case when ok = 1 then ', then a successful sign-in from one of them'
                               when validated = 1 then ', then the password was accepted (stopped at MFA)'
                               else '' end as reason,
  json_object('failures', failures, 'ips', ips, 'unfamiliar_ips', fresh_ips, 'first_failure', first_t,
              'last_failure', last_t, 'ip', ip, 'result_code', result_code,
              'window_minutes', {p.num('window_minutes')},
              -- failures only, all from places the account never signed in from: an attack on its own
              'campaign_key', case when ok = 0 and fresh_ips = ips
                                   then 'brute:' || user_principal_name end) as evidence
from cand where pick = 1
"""


DETECTION = Detection(
    id="bruteForce",
    title="Brute force",
    description=(
        "At least 10 first-factor failures against one account within a 10-minute window (two grids offset by "
        "5 minutes). One finding per account and day; raised to high when a sign-in from one of the failing "
        "IPs then succeeds. When every failing IP is one the account never signed in from, the finding carries a "
        "campaign key so incidents raise it even without a success (a phone with a stale password fails from "
        "familiar places and does not). Entra has no riskEventType for it (smart lockout handles it silently)."
    ),
    entra_risk_event_type=None,
    mitre=("T1110.001",),
    levels=("low", "medium", "high"),
    level_rules="failures only -> low; then password accepted at the MFA step -> medium; then success -> high",
    timing="offline",
    activity="signin",
    requires=("signins_enriched",),
    params={"window_minutes": 10, "min_failures": 10, "followup_hours": 2},
    sql=_sql,
)
