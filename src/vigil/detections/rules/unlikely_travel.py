"""Atypical travel: two sign-ins too far apart for the time between them."""
from __future__ import annotations

from vigil.detections.base import Detection, Params
from vigil.detections.sqlparts import days


def _sql(p: Params) -> str:
    return f"""
with s as (
  select event_id, person_id, device_id, is_corporate_egress, ip_class, event_time
  from signins_enriched
),
learning as (  -- Entra: learning ends at the earliest of 14 days or 10 interactive sign-ins
  select person_id, min(event_time) as first_seen,
    min(case when k = {p.num('learning_signins')} then event_time end) as tenth
  from (select person_id, event_time,
          row_number() over (partition by person_id order by event_time, event_id) as k
        from signins_enriched where result = 'success' and coalesce(is_interactive, false)) x
  group by person_id
),
known_devices as (  -- devices the user already signed in from successfully: familiar, not travel
  select person_id, device_id, min(event_time) as first_seen
  from signins_enriched
  where result = 'success' and coalesce(device_id, '') <> ''
  group by person_id, device_id
)
select t.to_event_id as event_id, t.user_id, t.user_principal_name, t.to_time as activity_time,
  case when t.verdict = 'impossible' and t.to_ip_class = 'hosting' then 'high'
       when t.verdict = 'impossible' then 'medium' else 'low' end as risk_level,
  'travel ' || coalesce(t.from_country, '?') || ' -> ' || coalesce(t.to_country, '?') || ' of '
    || cast(round(t.distance_km) as bigint) || ' km in ' || cast(round(t.elapsed_s / 60) as bigint)
    || ' min (' || cast(round(t.speed_kmh) as bigint) || ' km/h) judged ' || t.verdict
    || ' from a device the user has not used before' as reason,
  json_object('from_event_id', t.from_event_id, 'to_event_id', t.to_event_id, 'from_ip', t.from_ip,
    'to_ip', t.to_ip, 'from_city', t.from_city, 'to_city', t.to_city, 'distance_km', t.distance_km,
    'elapsed_s', t.elapsed_s, 'speed_kmh', t.speed_kmh, 'verdict', t.verdict, 'travel_reason', t.reason,
    'to_ip_class', t.to_ip_class) as evidence
from travel t
join s ts on ts.event_id = t.to_event_id
left join s fs on fs.event_id = t.from_event_id
join learning lp on lp.person_id = ts.person_id
left join known_devices kd
  on kd.person_id = ts.person_id and kd.device_id = ts.device_id
 and kd.first_seen < t.from_time - {days(p.num('familiar_device_days'))}
where t.verdict in ('improbable', 'impossible')
  and not coalesce(t.to_failed, false)
  and coalesce(t.from_ip_class, '') <> 'corporate_egress' and coalesce(t.to_ip_class, '') <> 'corporate_egress'
  -- an anonymiser's exit (Tor, commercial VPN, iCloud Private Relay) is not a location: classified, not travel
  and coalesce(t.from_ip_class, '') not in ('tor', 'vpn') and coalesce(t.to_ip_class, '') not in ('tor', 'vpn')
  and not coalesce(ts.is_corporate_egress, false) and not coalesce(fs.is_corporate_egress, false)
  and kd.device_id is null
  and (t.from_time >= lp.first_seen + {days(p.num('learning_days'))} or t.from_time >= lp.tenth)
"""


DETECTION = Detection(
    id="unlikelyTravel",
    title="Atypical travel",
    description=(
        "Two sign-ins by one user from locations too far apart for the time between them, as judged by "
        "the sessions area's travel verdicts (improbable / impossible). Corporate egress on either side and "
        "sign-ins from a device the user already used successfully before the travel (familiar device) are "
        "ignored, as Entra ID Protection does; failed destination sign-ins are ignored, and so is a side on Tor, a "
        "commercial VPN or iCloud Private Relay (an anonymiser's exit is classified, not travelled to). Users in "
        "their "
        "learning period (the earliest of 14 days or 10 interactive sign-ins) are not evaluated."
    ),
    entra_risk_event_type="unlikelyTravel",
    mitre=("T1078.004",),
    levels=("low", "medium", "high"),
    level_rules="improbable -> low; impossible -> medium; impossible to a hosting IP -> high",
    timing="offline",
    activity="signin",
    per_user=True,
    requires=("travel", "signins_enriched"),
    params={"familiar_device_days": 0, "learning_days": 14, "learning_signins": 10},
    sql=_sql,
)
