"""A successful interactive sign-in from a country the user has not used recently (or ever)."""
from __future__ import annotations

from vigil.detections.base import Detection, Params
from vigil.detections.sqlparts import days


def _sql(p: Params) -> str:
    return f"""
with ok as (
  select event_id, user_id, user_principal_name, person_id, event_time, geo_country, ip, ip_class,
         is_interactive, is_corporate_egress
  from signins_enriched
  where result = 'success' and geo_country is not null and not coalesce(location_is_stale, false)
),
w as (
  select ok.*,
    lag(event_time) over (partition by person_id, geo_country order by event_time, event_id) as prev_user,
    lag(event_time) over (partition by geo_country order by event_time, event_id) as prev_tenant
  from ok
),
first_seen as (select person_id, min(event_time) as user_first from ok group by person_id)
select w.event_id, w.user_id, w.user_principal_name, w.event_time as activity_time,
  case when w.prev_tenant is null or w.prev_tenant < w.event_time - {days(p.num('lookback_days'))}
       then 'medium' else 'low' end as risk_level,
  'first successful sign-in from ' || w.geo_country || ' for this user in '
    || {p.num('lookback_days')} || ' days'
    || case when w.prev_tenant is null or w.prev_tenant < w.event_time - {days(p.num('lookback_days'))}
            then ', and for anyone in the tenant' else '' end as reason,
  json_object('country', w.geo_country, 'ip', w.ip, 'ip_class', w.ip_class,
              'previous_from_country', w.prev_user, 'tenant_previous_from_country', w.prev_tenant,
              'user_first_seen', f.user_first, 'lookback_days', {p.num('lookback_days')}) as evidence
from w join first_seen f on f.person_id = w.person_id
where coalesce(w.is_interactive, false)
  and not coalesce(w.is_corporate_egress, false)
  -- a Tor exit, commercial VPN or iCloud Private Relay is where the relay is, not the user (anonymizedIPAddress)
  and coalesce(w.ip_class, '') not in ('tor', 'vpn')
  and (w.prev_user is null or w.prev_user < w.event_time - {days(p.num('lookback_days'))})
  and f.user_first <= w.event_time - {days(p.num('learning_days'))}
"""


DETECTION = Detection(
    id="newCountry",
    title="New country",
    description=(
        "A successful interactive sign-in from a country the user has not signed in from within the look-back "
        "(Defender for Cloud Apps' infrequent country). Users still in their learning period, corporate "
        "egress, anonymiser exits (Tor, commercial VPN, iCloud Private Relay: where the relay is, not the user) "
        "and stale locations (confidential-client sign-ins carrying the original token's IP, Microsoft service "
        "addresses) are skipped. Low fidelity on its own: real travel raises it; incidents need more than this."
    ),
    entra_risk_event_type="newCountry",
    mitre=("T1078.004",),
    levels=("low", "medium"),
    level_rules="low; medium when nobody in the tenant signed in from that country in the look-back",
    timing="offline",
    activity="signin",
    requires=("signins_enriched",),
    params={"lookback_days": 90, "learning_days": 7},
    sql=_sql,
)
