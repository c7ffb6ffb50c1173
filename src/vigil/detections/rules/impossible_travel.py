"""Impossible travel (Defender for Cloud Apps): country change faster than an airliner, interactively."""
from __future__ import annotations

from vigil.detections.base import Detection, Params


def _sql(p: Params) -> str:
    return f"""
with first_in_country as (  -- when each person first signed in successfully from each country
  select person_id, geo_country, min(event_time) as first_t
  from signins_enriched
  where result = 'success' and geo_country is not null and not coalesce(location_is_stale, false)
  group by person_id, geo_country
)
select t.to_event_id as event_id, t.user_id, t.user_principal_name, t.to_time as activity_time,
  case when t.to_ip_class = 'hosting' or ts.threat_intel is not null then 'high'
       -- presence in a country this person was never in, faster than a plane: not a geolocation quirk
       -- (unless the earlier side is corporate egress: behind the VPN the person's own country is never seen)
       when (fc.first_t is null or fc.first_t >= t.to_time) and not coalesce(fs.is_corporate_egress, false)
         then 'high'
       else 'medium' end as risk_level,
  'successful interactive sign-ins from ' || t.from_country || ' then ' || t.to_country || ', '
    || cast(round(t.distance_km) as bigint) || ' km apart in ' || cast(round(t.elapsed_s / 60) as bigint)
    || ' min: faster than ' || {p.num('max_speed_kmh')} || ' km/h'
    || case when fc.first_t is null or fc.first_t >= t.to_time
            then '; ' || t.to_country || ' is a country this user never signed in from' else '' end
    || case when fs.identity_id <> ts.identity_id  -- one person, two accounts (docs/identity.md)
            then ' (first as ' || coalesce(fs.user_principal_name, fs.user_id) || ' at ' || fs.source_format
                 || ', then as ' || coalesce(ts.user_principal_name, ts.user_id) || ' at ' || ts.source_format || ')'
            else '' end as reason,
  json_object('from_event_id', t.from_event_id, 'to_event_id', t.to_event_id, 'from_ip', t.from_ip,
    'to_ip', t.to_ip, 'from_country', t.from_country, 'to_country', t.to_country,
    'distance_km', t.distance_km, 'adjusted_distance_km', t.adjusted_distance_km, 'elapsed_s', t.elapsed_s,
    'speed_kmh', t.speed_kmh, 'same_session', t.same_session, 'to_ip_class', t.to_ip_class,
    'from_account', coalesce(fs.user_principal_name, fs.user_id), 'from_source', fs.source_format,
    'to_account', coalesce(ts.user_principal_name, ts.user_id), 'to_source', ts.source_format,
    'from_interactive', fs.is_interactive, 'new_country_for_user', fc.first_t is null or fc.first_t >= t.to_time)
    as evidence
from travel t
join signins_enriched ts on ts.event_id = t.to_event_id
join signins_enriched fs on fs.event_id = t.from_event_id
left join first_in_country fc on fc.person_id = ts.person_id and fc.geo_country = t.to_country
where t.verdict = 'impossible'
  and t.from_country is not null and t.to_country is not null and t.from_country <> t.to_country
  and coalesce(t.adjusted_distance_km, t.distance_km) >= {p.num('min_distance_km')}
  and t.speed_kmh > {p.num('max_speed_kmh')}
  and ts.result = 'success' and fs.result = 'success'
  -- an anonymiser's exit (Tor, commercial VPN, iCloud Private Relay) is where the relay is, not the user: it is
  -- classified (anonymizedIPAddress), not travel
  and coalesce(t.from_ip_class, '') not in ('tor', 'vpn') and coalesce(t.to_ip_class, '') not in ('tor', 'vpn')
  and coalesce(ts.is_interactive, false)
  -- the earlier side may be a token refresh (apps refresh between two interactive sign-ins, so travel pairs
  -- often start at one) when it shows where the user was: not a confidential client's stale IP and not a
  -- cloud / Microsoft service address (hosting), only the user's own kinds of network
  and (coalesce(fs.is_interactive, false)
       or (not coalesce(fs.location_is_stale, false)
           and coalesce(fs.ip_class, '') in ('residential', 'mobile', 'corporate_egress')))
  -- both sides safe (corporate egress) -> trusted; one safe side still counts
  and not (coalesce(ts.is_corporate_egress, false) and coalesce(fs.is_corporate_egress, false))
"""


DETECTION = Detection(
    id="impossibleTravel",
    title="Impossible travel",
    description=(
        "Two successful interactive sign-ins by one user from different countries whose distance cannot be "
        "covered in the time between them (travel verdict impossible, speed above the threshold, distance "
        "above a minimum so neighbouring-region geolocation error does not count). As in Defender for Cloud "
        "Apps, failed sign-ins do not count and the later sign-in must be interactive; the earlier may be a token "
        "refresh from the user's own kind of network (residential, mobile, corporate egress; never a stale or "
        "cloud-service address). Travel between two corporate egress points is trusted, and a side on Tor, a "
        "commercial VPN or iCloud Private Relay is not travel (the anonymizedIPAddress detection classes it). High "
        "when the destination is a hosting network, on a threat-intel list, or a country this user never signed "
        "in from before (not after corporate egress: behind the VPN a person's own country is never seen)."
    ),
    entra_risk_event_type="mcasImpossibleTravel",
    mitre=("T1078.004",),
    levels=("medium", "high"),
    level_rules="medium; high when the destination is hosting, on a threat-intel list, or a country new for the "
                "user",
    timing="offline",
    activity="signin",
    per_user=True,
    requires=("travel", "signins_enriched"),
    params={"max_speed_kmh": 900, "min_distance_km": 500},
    sql=_sql,
)
