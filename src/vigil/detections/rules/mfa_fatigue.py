"""MFA fatigue: push after push denied or unanswered, then one approved."""
from __future__ import annotations

from vigil.detections.base import Detection, Params
from vigil.detections.sqlparts import MFA_DENIED_CODES, minutes
from vigil.store import in_list


def _sql(p: Params) -> str:
    win = minutes(p.num("window_minutes"))
    return f"""
with denied as (
  select event_id, user_principal_name, event_time, ip
  from signins_enriched where result = 'failure' and coalesce(result_code, '') in {in_list(MFA_DENIED_CODES)}
),
ok as (  -- successful sign-ins, with whether their country and device were new for the user
  select event_id, user_id, user_principal_name, event_time, ip, mfa_satisfied, geo_country, device_id,
    geo_country is not null and lag(event_time) over (
      partition by user_principal_name, geo_country order by event_time, event_id) is null as new_country,
    device_id is null or lag(event_time) over (
      partition by user_principal_name, device_id order by event_time, event_id) is null as new_device
  from signins_enriched where result = 'success'
),
approved as (select * from ok where coalesce(mfa_satisfied, false)),
after_denials as (  -- a success preceded by a burst of denials; a handful is enough from a new country and device
  select a.event_id, a.user_id, a.user_principal_name, a.event_time, a.ip, a.geo_country,
    a.new_country and a.new_device as unfamiliar,
    count(*) as denials, count(distinct d.ip) as ips, min(d.event_time) as first_denial,
    sum(case when d.ip = a.ip then 1 else 0 end) as denials_same_ip
  from approved a join denied d on d.user_principal_name = a.user_principal_name
   and d.event_time < a.event_time and d.event_time >= a.event_time - {win}
  group by a.event_id, a.user_id, a.user_principal_name, a.event_time, a.ip, a.geo_country, a.new_country,
    a.new_device
  having count(*) >= {p.num('min_denials')}
      or (count(*) >= {p.num('min_denials_unfamiliar')} and a.new_country and a.new_device)
),
firsts as (
  select *, row_number() over (partition by user_principal_name, first_denial order by event_time, event_id) as rn
  from after_denials
),
unanswered as (  -- bursts never followed by an approval: attempted fatigue
  select d.user_principal_name, cast(d.event_time as date) as d, count(*) as denials,
    max(d.event_time) as last_t, min(d.event_time) as first_t
  from denied d
  group by d.user_principal_name, cast(d.event_time as date)
  having count(*) >= {p.num('min_denials_without_success')}
),
unanswered_pick as (
  select d.event_id, u.user_principal_name, d.event_time, u.denials, u.first_t,
    row_number() over (partition by u.user_principal_name, u.d order by d.event_time desc, d.event_id) as rn
  from unanswered u join denied d on d.user_principal_name = u.user_principal_name
   and cast(d.event_time as date) = u.d
  where not exists (select 1 from after_denials a where a.user_principal_name = u.user_principal_name
                    and cast(a.event_time as date) = u.d)
)
select event_id, user_id, user_principal_name, event_time as activity_time, 'high' as risk_level,
  denials || ' MFA requests denied or unanswered within ' || {p.num('window_minutes')}
    || ' minutes, then one approved' || case when denials_same_ip > 0 then ' from the same IP' else '' end
    || case when unfamiliar then ' from ' || geo_country || ' on a device, both new for this user' else '' end
    as reason,
  json_object('denials', denials, 'first_denial', first_denial, 'denial_ips', ips, 'approved_ip', ip,
              'denials_from_approved_ip', denials_same_ip, 'approved_from_new_country_and_device', unfamiliar)
    as evidence
from firsts where rn = 1
union all
select event_id, null, user_principal_name, event_time, 'medium',
  denials || ' MFA requests denied or unanswered in one day, none approved (attempted MFA fatigue)',
  json_object('denials', denials, 'first_denial', first_t)
from unanswered_pick where rn = 1
"""


DETECTION = Detection(
    id="mfaFatigue",
    title="MFA fatigue (push bombing)",
    description=(
        "At least 3 strong-authentication requests denied or unanswered (Entra 500121) within 10 minutes, then "
        "a successful sign-in with MFA: the user gave in. Two denials are enough when the approval comes from a "
        "country and a device both new for the user (attackers stay below naive thresholds). Without an "
        "approval, 5 or more denials in a day are "
        "raised at medium (the user is being bombed and may report it)."
    ),
    entra_risk_event_type=None,
    mitre=("T1621",),
    levels=("medium", "high"),
    level_rules="denials then approval -> high; denials only -> medium",
    timing="offline",
    activity="signin",
    per_user=True,
    requires=("signins_enriched",),
    params={"window_minutes": 10, "min_denials": 3, "min_denials_without_success": 5, "min_denials_unfamiliar": 2},
    sql=_sql,
)
