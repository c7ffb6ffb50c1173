"""An MFA method registered right after a risky sign-in: the attacker adds their own second factor."""
from __future__ import annotations

from vigil.detections.base import Detection, Params
from vigil.detections.sqlparts import hours
from vigil.store import DUCKDB


def _sql(p: Params) -> str:
    return f"""
with ok as (
  select event_id, user_principal_name, event_time, ip, ip_class, geo_country, risk_level_during_signin,
    geo_country is not null and lag(event_time) over (
      partition by user_principal_name, geo_country order by event_time, event_id) is null as new_country,
    min(event_time) over (partition by user_principal_name) as first_seen
  from signins_enriched where result = 'success' and user_principal_name is not null
),
risky as (  -- what makes a sign-in risky without a risk engine: an anonymiser or hosting network, the identity
            -- provider's own medium/high rating, or a country the user never signed in from (after the first day)
  select *, case when ip_class in ('tor', 'vpn', 'hosting') then 'from ' || ip_class || ' network ' || ip
                 when lower(coalesce(risk_level_during_signin, '')) in ('medium', 'high')
                   then 'rated ' || lower(risk_level_during_signin) || ' risk by the identity provider'
                 else 'from ' || geo_country || ', a country this user never signed in from' end as why
  from ok
  where ip_class in ('tor', 'vpn', 'hosting') or lower(coalesce(risk_level_during_signin, '')) in ('medium', 'high')
     or (new_country and event_time > first_seen + interval 1 day and coalesce(ip_class, '') <> 'corporate_egress')
),
reg as (
  select d.event_id, d.target_user_id, d.target_upn, d.event_time, d.operation, d.ip,
    r.event_id as risky_id, r.event_time as risky_time, r.why,
    row_number() over (partition by d.event_id order by r.event_time desc, r.event_id) as rn
  from directory_events d
  join risky r on r.user_principal_name = d.target_upn
   and r.event_time <= d.event_time and r.event_time >= d.event_time - {hours(p.num('within_hours'))}
  where d.event_type = 'mfa_registered' and coalesce(d.result, 'success') = 'success'
)
select event_id, target_user_id as user_id, target_upn as user_principal_name, event_time as activity_time,
  'high' as risk_level,
  operation || ' ' || cast(round(({DUCKDB.epoch_seconds('event_time')} - {DUCKDB.epoch_seconds('risky_time')})
                                 / 3600.0, 1) as varchar) || ' h after a sign-in ' || why as reason,
  json_object('operation', operation, 'risky_signin', risky_id, 'risky_time', risky_time, 'why_risky', why,
              'ip', ip, 'within_hours', {p.num('within_hours')}) as evidence
from reg where rn = 1
"""


DETECTION = Detection(
    id="mfaRegisteredAfterRiskySignin",
    title="MFA method registered after a risky sign-in",
    description=(
        "A user registered a new authentication method within 24 hours after a risky successful sign-in (from Tor, "
        "an anonymising VPN or a hosting network, rated medium/high by the identity provider, or from a country "
        "the user never signed in from): the attacker registers their own authenticator to keep access after the "
        "password is reset. Entra has no riskEventType for it."
    ),
    entra_risk_event_type=None,
    mitre=("T1556.006", "T1098.005"),
    levels=("high",),
    level_rules="always high",
    timing="offline",
    activity="user",
    requires=("signins_enriched", "directory_events"),
    params={"within_hours": 24},
    sql=_sql,
)
