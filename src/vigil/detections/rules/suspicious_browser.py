"""Suspicious browser: one browser signing in to several accounts from a network none of them uses."""
from __future__ import annotations

from vigil.detections.base import Detection, Params
from vigil.detections.sqlparts import hours


def _sql(p: Params) -> str:
    return f"""
with s as (
  select event_id, user_id, user_principal_name, event_time, ip, ip_class, asn_number, user_agent, result,
    coalesce(cast(asn_number as varchar), ip) as net,
    coalesce(sum(case when result = 'success' then 1 end) over (
      partition by user_principal_name, coalesce(cast(asn_number as varchar), ip)
      order by event_time, event_id rows between unbounded preceding and 1 preceding), 0) as net_prior_ok
  from signins_enriched
  where user_principal_name is not null and ua_class = 'browser' and coalesce(device_id, '') = ''
    and not coalesce(is_corporate_egress, false) and ip is not null and user_agent is not null
),
fresh as (select * from s where result = 'success' and net_prior_ok = 0),
browsers as (  -- one browser (IP + exact user agent) logging in to several accounts, each new to that network
  select ip, user_agent, min(event_time) as first_t, max(event_time) as last_t,
    count(distinct user_principal_name) as accounts
  from fresh
  group by ip, user_agent
  having count(distinct user_principal_name) >= {p.num('min_accounts')}
     and max(event_time) <= min(event_time) + {hours(p.num('window_hours'))}
),
hits as (
  select f.*, b.accounts, b.first_t,
    row_number() over (partition by f.user_principal_name, b.ip, b.user_agent order by f.event_time, f.event_id) as rn
  from fresh f join browsers b on b.ip = f.ip and b.user_agent = f.user_agent
)
select event_id, user_id, user_principal_name, event_time as activity_time,
  case when ip_class in ('hosting', 'tor', 'vpn') then 'high' else 'medium' end as risk_level,
  'one browser (' || ip || ', no device id) signed in to ' || accounts || ' accounts within '
    || {p.num('window_hours')} || ' h, from a network none of them had used; this account among them' as reason,
  json_object('ip', ip, 'ip_class', ip_class, 'asn', asn_number, 'user_agent', user_agent, 'accounts', accounts,
              'first', first_t) as evidence
from hits where rn = 1
"""


DETECTION = Detection(
    id="suspiciousBrowser",
    title="Suspicious browser",
    description=(
        "One browser (the same IP and exact user agent, no device id) signing in successfully to several accounts "
        "of the tenant within a few hours, from a network none of those accounts had used: a phishing kit or an "
        "attacker's browser replaying stolen credentials or cookies one victim after another (Entra ID "
        "Protection's suspiciousBrowser sees the same across tenants). Corporate egress is never raised (shared "
        "office machines); high from hosting, Tor or VPN networks."
    ),
    entra_risk_event_type="suspiciousBrowser",
    mitre=("T1078.004", "T1539"),
    levels=("medium", "high"),
    level_rules="medium; high from hosting / Tor / VPN",
    timing="offline",
    activity="signin",
    requires=("signins_enriched",),
    params={"min_accounts": 3, "window_hours": 6},
    sql=_sql,
)
