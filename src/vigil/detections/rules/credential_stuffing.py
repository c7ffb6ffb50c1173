"""Credential stuffing: a list of leaked address/password pairs tried once each, many unknown users."""
from __future__ import annotations

from vigil.detections.base import Detection, Params
from vigil.detections.sqlparts import attempts


def _sql(p: Params) -> str:
    w = f"({p.num('window_minutes')} * 60)"
    sw = f"({p.num('slow_window_hours')} * 3600)"
    shape = f"""having count(distinct a.user_principal_name) >= {p.num('min_accounts')}
     and sum(a.unknown_user) >= {p.num('min_unknown_ratio')} * count(*)
     and count(*) <= {p.num('max_attempts_per_account')} * count(distinct a.user_principal_name)"""
    return f"""
with att as ({attempts("not coalesce(is_corporate_egress, false)")}
),
fresh as (  -- attempts from an IP the account never succeeded from before
  select * from (
    select att.*, coalesce(sum(ok) over (partition by user_principal_name, ip order by event_time, event_id
                                        rows between unbounded preceding and 1 preceding), 0) as prior_ok
    from att) x
  where prior_ok = 0
),
grid as (select 0 as g union all select 1),
wins as (
  select 'ip' as kind, a.ip as src, g.g, floor((a.ep + g.g * {w} / 2) / {w}) as b,
    count(distinct a.user_principal_name) as accounts, sum(a.unknown_user) as unknown_users
  from att a cross join grid g where a.ip is not null
  group by a.ip, g.g, floor((a.ep + g.g * {w} / 2) / {w})
  {shape}
  union all
  select 'rotating', a.user_agent, g.g, floor((a.ep + g.g * {sw} / 2) / {sw}),
    count(distinct a.user_principal_name), sum(a.unknown_user)
  from fresh a cross join grid g where a.user_agent is not null
  group by a.user_agent, g.g, floor((a.ep + g.g * {sw} / 2) / {sw})
  {shape} and count(distinct a.ip) >= {p.num('slow_min_ips')}
),
src as (select kind, src, max(accounts) as accounts, max(unknown_users) as unknown_users from wins
        group by kind, src),
tried as (
  select distinct w.kind, w.src, a.* from att a join wins w
    on ((w.kind = 'ip' and a.ip = w.src and floor((a.ep + w.g * {w} / 2) / {w}) = w.b)
     or (w.kind = 'rotating' and a.user_agent = w.src and floor((a.ep + w.g * {sw} / 2) / {sw}) = w.b))
  where a.unknown_user = 0
),
picked as (
  select t.*, row_number() over (partition by t.kind, t.src, t.user_principal_name
                                 order by t.ok desc, t.validated desc, t.event_time, t.event_id) as pick
  from tried t
)
select p.event_id, p.user_id, p.user_principal_name, p.event_time as activity_time,
  case when p.ok = 1 then 'high' when p.validated = 1 then 'medium' else 'low' end as risk_level,
  'credential stuffing from ' || case when p.kind = 'ip' then p.src else 'rotating IPs sharing user agent '
    || p.src end || ': ' || s.accounts || ' accounts tried, ' || s.unknown_users
    || ' attempts on users unknown to the tenant; '
    || case when p.ok = 1 then 'this account signed in successfully'
            when p.validated = 1 then 'the password of this account was accepted (stopped at MFA)'
            else 'this account failed' end as reason,
  json_object('source_kind', p.kind, 'source', p.src, 'ip', p.ip, 'accounts_tried', s.accounts,
              'unknown_user_attempts', s.unknown_users, 'result', p.result, 'result_code', p.result_code,
              'campaign_key', 'stuffing:' || p.kind || ':' || p.src) as evidence
from picked p join src s on s.kind = p.kind and s.src = p.src
where p.pick = 1
"""


DETECTION = Detection(
    id="credentialStuffing",
    title="Credential stuffing",
    description=(
        "Many accounts tried about once each where at least 20% of attempts name users that do not exist in "
        "the tenant (Entra 50034): the signature of a leaked address list rather than a targeted spray. From "
        "one IP: at least 10 accounts in 60 minutes, at most 2 attempts per account. From a rotating set "
        "(residential proxies): attempts from IPs the account never succeeded from, sharing a user agent, at "
        "least 10 accounts from at least 3 IPs within 24 hours. One finding per existing account tried."
    ),
    entra_risk_event_type=None,
    mitre=("T1110.004",),
    levels=("low", "medium", "high"),
    level_rules="tried -> low; password accepted at the MFA step -> medium; success -> high",
    timing="offline",
    activity="signin",
    requires=("signins_enriched",),
    params={"window_minutes": 60, "min_accounts": 10, "min_unknown_ratio": 0.2, "max_attempts_per_account": 3,
            "slow_window_hours": 24, "slow_min_ips": 3},
    sql=_sql,
)
