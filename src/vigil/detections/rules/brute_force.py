"""Brute force: many password failures against one account in minutes."""
from __future__ import annotations

from vigil.detections.base import Detection, Params
from vigil.detections.sqlparts import attempts, hours


def _sql(p: Params) -> str:
    w = f"({p.num('window_minutes')} * 60)"
    sw = f"({p.num('slow_window_hours')} * 3600)"
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
burst_ips as (select distinct user_principal_name, d, ip from burst_att),
cand as (  -- a join to burst_ips, not a correlated IN in the join condition (Spark cannot run that)
  select pd.*, a.event_id, a.user_id, a.event_time, a.ok, a.validated, a.ip, a.result_code,
    row_number() over (partition by pd.user_principal_name, pd.d
                       order by a.ok desc, a.validated desc, a.event_time desc, a.event_id) as pick
  from per_day pd
  join att a on a.user_principal_name = pd.user_principal_name
   and a.event_time >= pd.first_t and a.event_time <= pd.last_t + {hours(p.num('followup_hours'))}
  left join burst_ips bi on bi.user_principal_name = pd.user_principal_name and bi.d = pd.d and bi.ip = a.ip
  where a.pw_fail = 1 or (a.validated = 1 and a.event_time >= pd.first_t and bi.ip is not null)
),
slow_att as (  -- the same attempts keyed by network (ASN, else IP), with earlier successes from that network
  select x.*, coalesce(cast(asn_number as varchar), ip) as net,
    coalesce(sum(ok) over (partition by user_principal_name, coalesce(cast(asn_number as varchar), ip)
                           order by event_time, event_id
                           rows between unbounded preceding and 1 preceding), 0) as net_prior_ok
  from ({attempts(extra=", asn_number")}) x
),
slow as (  -- low and slow: dozens of failures from one network spread over hours (legacy protocols do this)
  select user_principal_name, net, floor(ep / ({sw})) as b, count(*) as failures, min(event_time) as first_t,
    max(event_time) as last_t, count(distinct ip) as ips, max(net_prior_ok) as familiar
  from slow_att where pw_fail = 1
  group by user_principal_name, net, floor(ep / ({sw}))
  having count(*) >= {p.num('slow_min_failures')}
),
slow_pick as (
  select sl.*, a.event_id, a.user_id, a.event_time, a.ok, a.validated, a.ip, a.result_code,
    row_number() over (partition by sl.user_principal_name, sl.net, sl.b
                       order by a.ok desc, a.validated desc, a.event_time desc, a.event_id) as pick
  from slow sl join slow_att a on a.user_principal_name = sl.user_principal_name and a.net = sl.net
   and a.event_time >= sl.first_t and a.event_time <= sl.last_t + {hours(p.num('followup_hours'))}
   and (a.pw_fail = 1 or a.validated = 1)
)
select event_id, user_id, user_principal_name, event_time as activity_time,
  -- a network the account never succeeded from before; a phone with a stale password fails from home
  case when ok = 1 and familiar = 0 then 'high' when validated = 1 then 'medium' else 'low' end as risk_level,
  failures || ' password failures against this account over ' || {p.num('slow_window_hours')}
    || ' hours from one network (' || net || ', ' || ips || ' IP(s))'
    || case when ok = 1 and familiar = 0 then ', then a successful sign-in from it, a network this account '
                                              || 'never signed in from before'
            when ok = 1 then ', then a successful sign-in from it'
            when validated = 1 then ', then the password was accepted (stopped at MFA)' else '' end as reason,
  json_object('failures', failures, 'network', net, 'ips', ips, 'first_failure', first_t, 'last_failure', last_t,
              'ip', ip, 'result_code', result_code, 'window_hours', {p.num('slow_window_hours')},
              'low_and_slow', true, 'network_familiar', familiar > 0,
              'campaign_key', case when ok = 0 and familiar = 0 then 'brute:' || user_principal_name end) as evidence
from slow_pick where pick = 1
union all
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
        "familiar places and does not). Low and slow: at least 20 failures against one account from one network "
        "(ASN, else IP) within a 12-hour window, as password guessing over IMAP, POP, SMTP AUTH or EWS paces "
        "itself; high when a success follows from that network and the account never signed in from it before. "
        "Entra has no riskEventType for it (smart lockout handles it silently)."
    ),
    entra_risk_event_type=None,
    mitre=("T1110.001",),
    levels=("low", "medium", "high"),
    level_rules=("failures only -> low; then password accepted at the MFA step -> medium; then success -> high "
                 "(low and slow: success from a network the account never used -> high)"),
    timing="offline",
    activity="signin",
    per_user=True,
    requires=("signins_enriched",),
    params={"window_minutes": 10, "min_failures": 10, "followup_hours": 2, "slow_window_hours": 12,
            "slow_min_failures": 20},
    sql=_sql,
)
