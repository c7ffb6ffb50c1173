"""Credential stuffing: a list of leaked address/password pairs tried once each, many unknown users."""
from __future__ import annotations

from vigil.detections.base import Detection, Params
from vigil.detections.sqlparts import UNKNOWN_USER_CODES, attempts, in_list


def _sql(p: Params) -> str:
    w = f"({p.num('window_minutes')} * 60)"
    unknown = f"case when coalesce(result_code, '') in {in_list(UNKNOWN_USER_CODES)} then 1 else 0 end"
    att = attempts("ip is not null and not coalesce(is_corporate_egress, false)", f",\n    {unknown} as unknown_user")
    return f"""
with att as ({att}
),
grid as (select 0 as g union all select 1),
wins as (
  select a.ip, g.g, floor((a.ep + g.g * {w} / 2) / {w}) as b, count(distinct a.user_principal_name) as accounts,
    sum(a.unknown_user) as unknown_users, count(*) as attempts
  from att a cross join grid g
  group by a.ip, g.g, floor((a.ep + g.g * {w} / 2) / {w})
  having count(distinct a.user_principal_name) >= {p.num('min_accounts')}
     and sum(a.unknown_user) >= {p.num('min_unknown_ratio')} * count(*)
     and count(*) <= {p.num('max_attempts_per_account')} * count(distinct a.user_principal_name)
),
src as (select ip, max(accounts) as accounts, max(unknown_users) as unknown_users from wins group by ip),
tried as (
  select distinct a.* from att a join wins w on a.ip = w.ip and floor((a.ep + w.g * {w} / 2) / {w}) = w.b
  where a.unknown_user = 0
),
picked as (
  select t.*, row_number() over (partition by t.ip, t.user_principal_name
                                 order by t.ok desc, t.validated desc, t.event_time, t.event_id) as pick
  from tried t
)
select p.event_id, p.user_id, p.user_principal_name, p.event_time as activity_time,
  case when p.ok = 1 then 'high' when p.validated = 1 then 'medium' else 'low' end as risk_level,
  'credential stuffing from ' || p.ip || ': ' || s.accounts || ' accounts tried in ' || {p.num('window_minutes')}
    || ' minutes, ' || s.unknown_users || ' of them unknown to the tenant; '
    || case when p.ok = 1 then 'this account signed in successfully'
            when p.validated = 1 then 'the password of this account was accepted (stopped at MFA)'
            else 'this account failed' end as reason,
  json_object('ip', p.ip, 'accounts_tried', s.accounts, 'unknown_accounts', s.unknown_users,
              'result', p.result, 'result_code', p.result_code, 'campaign_key', 'stuffing:' || p.ip) as evidence
from picked p join src s on s.ip = p.ip
where p.pick = 1
"""


DETECTION = Detection(
    id="credentialStuffing",
    title="Credential stuffing",
    description=(
        "One IP trying many accounts about once each (at least 10 accounts in 60 minutes, at most 2 attempts "
        "per account) where at least 20% of attempts name users that do not exist in the tenant (Entra 50034): "
        "the signature of a leaked address list rather than a targeted spray. One finding per existing account "
        "tried; high when it succeeded."
    ),
    entra_risk_event_type=None,
    mitre=("T1110.004",),
    levels=("low", "medium", "high"),
    level_rules="tried -> low; password accepted at the MFA step -> medium; success -> high",
    timing="offline",
    activity="signin",
    requires=("signins_enriched",),
    params={"window_minutes": 60, "min_accounts": 10, "min_unknown_ratio": 0.2, "max_attempts_per_account": 2},
    sql=_sql,
)
