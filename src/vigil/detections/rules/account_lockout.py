"""Account locked out by too many wrong passwords (Entra smart lockout 50053, Okta LOCKED_OUT)."""
from __future__ import annotations

from vigil.detections.base import Detection, Params


def _sql(p: Params) -> str:
    return f"""
with locks as (
  select event_id, user_id, user_principal_name, event_time, ip, ip_class, asn_number, result_code,
    coalesce(sum(case when result = 'success' then 1 end) over (
      partition by user_principal_name, coalesce(cast(asn_number as varchar), ip)
      order by event_time, event_id rows between unbounded preceding and 1 preceding), 0) as net_prior_ok,
    coalesce(result_code, '') in {p.strs('lockout_codes')} as locked
  from signins_enriched
  where user_principal_name is not null
),
daily as (  -- one finding per account and day, on its last lockout
  select *, row_number() over (partition by user_principal_name, cast(event_time as date)
                               order by event_time desc, event_id) as rn,
    count(*) over (partition by user_principal_name, cast(event_time as date)) as lockouts,
    max(case when net_prior_ok = 0 then 1 else 0 end) over (
      partition by user_principal_name, cast(event_time as date)) as from_new_network
  from locks where locked
)
select event_id, user_id, user_principal_name, event_time as activity_time,
  case when from_new_network = 1 then 'medium' else 'low' end as risk_level,
  'account locked out (' || result_code || ') ' || lockouts || ' time(s) that day'
    || case when from_new_network = 1 then ', by sign-ins from a network this account never signed in from'
            else ' from networks it uses' end as reason,
  json_object('lockouts', lockouts, 'ip', ip, 'ip_class', ip_class, 'asn', asn_number, 'result_code', result_code,
              'from_new_network', from_new_network = 1) as evidence
from daily where rn = 1
"""


DETECTION = Detection(
    id="accountLockout",
    title="Account lockout",
    description=(
        "Sign-ins refused because the account is locked after too many wrong passwords (Entra 50053 smart "
        "lockout, Okta LOCKED_OUT): one finding per account and day. Medium when the lockout came from a network "
        "the account never signed in from (someone else is guessing), low when from its own (a stale password on "
        "a phone). Entra has no riskEventType for it; brute-force and spray detections carry the attack itself."
    ),
    entra_risk_event_type=None,
    mitre=("T1110",),
    levels=("low", "medium"),
    level_rules="lockout from a network the account never used -> medium; else low",
    timing="realtime",
    activity="signin",
    per_user=True,
    requires=("signins_enriched",),
    params={"lockout_codes": ["50053", "LOCKED_OUT"]},
    sql=_sql,
)
