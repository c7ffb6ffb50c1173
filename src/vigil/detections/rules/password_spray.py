"""Password spray: many accounts, few attempts each, from one IP or a rotating set of IPs."""
from __future__ import annotations

from vigil.detections.base import Detection, Params
from vigil.detections.sqlparts import attempts, hours


def _sql(p: Params) -> str:
    w = f"({p.num('window_minutes')} * 60)"
    sw = f"({p.num('slow_window_hours')} * 3600)"
    return f"""
with att as ({attempts('not coalesce(is_corporate_egress, false)')}
),
fresh as (  -- attempts from an IP the account never succeeded from before (typos come from familiar places)
  select * from (
    select att.*, coalesce(sum(ok) over (partition by user_principal_name, ip order by event_time, event_id
                                        rows between unbounded preceding and 1 preceding), 0) as prior_ok
    from att) x
  where prior_ok = 0
),
grid as (select 0 as g union all select 1),  -- two grids offset by half a window: no spray hides on an edge
ipwin as (
  select a.ip as src, g.g, floor((a.ep + g.g * {w} / 2) / {w}) as b
  from att a cross join grid g
  where a.ip is not null
  group by a.ip, g.g, floor((a.ep + g.g * {w} / 2) / {w})
  having count(distinct a.user_principal_name) >= {p.num('min_accounts')}
     and sum(a.pw_fail) > sum(a.ok)
     and count(*) <= {p.num('max_attempts_per_account')} * count(distinct a.user_principal_name)
     and sum(a.unknown_user) < {p.num('max_unknown_ratio')} * count(*)  -- else it is credential stuffing
),
uawin as (
  select a.user_agent as src, g.g, floor((a.ep + g.g * {sw} / 2) / {sw}) as b
  from fresh a cross join grid g
  where a.user_agent is not null
  group by a.user_agent, g.g, floor((a.ep + g.g * {sw} / 2) / {sw})
  having count(distinct a.user_principal_name) >= {p.num('slow_min_accounts')}
     and count(distinct a.ip) >= {p.num('slow_min_ips')}
     and sum(a.pw_fail) >= {p.num('slow_failure_ratio')} * count(*)
     and count(*) <= {p.num('max_attempts_per_account')} * count(distinct a.user_principal_name)
     and sum(a.unknown_user) < {p.num('max_unknown_ratio')} * count(*)
),
hits as (
  select 'ip' as kind, w.src, a.user_principal_name, min(a.event_time) as first_t, max(a.event_time) as last_t
  from att a join ipwin w on a.ip = w.src and floor((a.ep + w.g * {w} / 2) / {w}) = w.b
  group by w.src, a.user_principal_name
  union all
  select 'rotating' as kind, w.src, a.user_principal_name, min(a.event_time), max(a.event_time)
  from fresh a join uawin w on a.user_agent = w.src and floor((a.ep + w.g * {sw} / 2) / {sw}) = w.b
  group by w.src, a.user_principal_name
),
spread as (
  select kind, src, count(distinct user_principal_name) as accounts, min(first_t) as t0, max(last_t) as t1
  from hits group by kind, src
),
tried as (  -- the account's attempts from the spray source, plus a validated one shortly after
  select h.kind, h.src, a.*,
    row_number() over (partition by h.kind, h.src, a.user_principal_name
                       order by a.validated desc, a.ok desc, a.event_time, a.event_id) as pick,
    count(*) over (partition by h.kind, h.src, a.user_principal_name) as n_attempts
  from hits h
  join att a on a.user_principal_name = h.user_principal_name
    and ((h.kind = 'ip' and a.ip = h.src) or (h.kind = 'rotating' and a.user_agent = h.src))
    and a.event_time >= h.first_t and a.event_time <= h.last_t + {hours(p.num('followup_hours'))}
)
select t.event_id, t.user_id, t.user_principal_name, t.event_time as activity_time,
  case when t.ok = 1 then 'high' when t.validated = 1 then 'medium' else 'low' end as risk_level,
  'password spray from ' || case when t.kind = 'ip' then 'IP ' || t.src else 'a rotating set of IPs sharing user agent '
    || t.src end || ' against ' || s.accounts || ' accounts; '
    || case when t.ok = 1 then 'this account then signed in successfully'
            when t.validated = 1 then 'the password of this account was accepted (stopped at MFA)'
            else 'this account was tried ' || t.n_attempts || ' time(s), no success' end as reason,
  json_object('source_kind', t.kind, 'source', t.src, 'accounts_targeted', s.accounts, 'first_attempt', s.t0,
              'last_attempt', s.t1, 'attempts_on_account', t.n_attempts, 'result', t.result,
              'result_code', t.result_code, 'ip', t.ip, 'campaign_key', 'spray:' || t.kind || ':' || t.src) as evidence
from tried t join spread s on s.kind = t.kind and s.src = t.src
where t.pick = 1
"""


DETECTION = Detection(
    id="passwordSpray",
    title="Password spray",
    description=(
        "Many accounts tried with few attempts each. Fast spray: one IP, at least 5 accounts within a 20-minute "
        "window (two grids offset by 10 minutes), first-factor failures outnumbering successes, at most 3 "
        "attempts per account on average. Low-and-slow spray from a rotating set: attempts from IPs the account "
        "never succeeded from, sharing one user agent, at least 10 accounts from at least 3 IPs within 24 hours, "
        "at least 80% failures. Windows where 20% or more of attempts name unknown users are credential "
        "stuffing instead. One finding per targeted account; a later success from the source is what "
        "Entra's own passwordSpray waits for."
    ),
    entra_risk_event_type="passwordSpray",
    mitre=("T1110.003",),
    levels=("low", "medium", "high"),
    level_rules="tried only -> low; password accepted but stopped at MFA -> medium; success -> high",
    timing="offline",
    activity="signin",
    requires=("signins_enriched",),
    params={"window_minutes": 20, "min_accounts": 5, "max_attempts_per_account": 3, "slow_window_hours": 24,
            "slow_min_accounts": 10, "slow_min_ips": 3, "slow_failure_ratio": 0.8, "followup_hours": 24,
            "max_unknown_ratio": 0.2},
    sql=_sql,
)
