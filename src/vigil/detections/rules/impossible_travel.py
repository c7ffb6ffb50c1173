"""Impossible travel (Defender for Cloud Apps): country change faster than an airliner, interactively."""
from __future__ import annotations

from vigil.detections.base import Detection, Params


def _sql(p: Params) -> str:
    new = "(fc.first_t is null or fc.first_t >= t.to_time)"
    corp = "coalesce(fs.is_corporate_egress, false)"
    own = "coalesce(o.own_t < t.to_time, false)"
    home = "coalesce(h.home_t < t.to_time, false)"
    # in the tenant's first day nobody can have been seen at home on days 24 h apart: "nobody lives there" says nothing
    known = "coalesce(s.t0 + interval '1 day' < t.to_time, false)"
    return f"""
with located as (  -- successful sign-ins that say where someone was
  select person_id, geo_country, event_time, coalesce(is_corporate_egress, false) as corp
  from signins_enriched
  where result = 'success' and geo_country is not null and not coalesce(location_is_stale, false)
),
first_in_country as (  -- when each person first signed in from each country
  select person_id, geo_country, min(event_time) as first_t from located group by person_id, geo_country
),
own_in_country as (  -- each person's first sign-in from each country on their own networks (outside the egress)
  select person_id, geo_country, min(event_time) as first_t from located where not corp group by person_id, geo_country
),
own_first as (  -- when each person was first seen outside the corporate egress (where they really are)
  select person_id, min(first_t) as own_t from own_in_country group by person_id
),
home_country as (  -- someone lives there: their own networks in that country on days at least 24 h apart
  select l.geo_country, min(l.event_time) as home_t
  from located l join own_in_country o on o.person_id = l.person_id and o.geo_country = l.geo_country
  where not l.corp and l.event_time >= o.first_t + interval '1 day'
  group by l.geo_country
),
since as (select min(event_time) as t0 from located)  -- the tenant's history starts
select t.to_event_id as event_id, t.user_id, t.user_principal_name, t.to_time as activity_time,
  case when t.to_ip_class = 'hosting' or ts.threat_intel is not null then 'high'
       -- presence in a country this person was never in, faster than a plane: not a geolocation quirk. After
       -- corporate egress the VPN hides where the person is, so "never in" needs more: the person's own networks
       -- (outside the egress) were seen elsewhere, or nobody in the tenant lives there (a colleague's home country)
       when {new} and (not {corp} or {own}
                               or ({known} and not {home})) then 'high'
       else 'medium' end as risk_level,
  'successful interactive sign-ins from ' || t.from_country || ' then ' || t.to_country || ', '
    || cast(round(t.distance_km) as bigint) || ' km apart in ' || cast(round(t.elapsed_s / 60) as bigint)
    || ' min: faster than ' || {p.num('max_speed_kmh')} || ' km/h'
    || case when not {new} then ''
            when not {corp}
              then '; ' || t.to_country || ' is a country this user never signed in from'
            when {own}
              then '; ' || t.to_country || ' is a country this user never signed in from, and their own networks '
                   || '(outside the corporate egress) were seen elsewhere'
            when not {home} and {known}
              then '; ' || t.to_country || ' is a country this user never signed in from, and nobody in the tenant '
                   || 'lives there (not a colleague''s home country hidden by the VPN)'
            when not {home}
              then '; ' || t.to_country || ' is new for this user, but they were only ever seen through the '
                   || 'corporate egress, which hides their own country, and the tenant''s history is under a day '
                   || 'old: where its people live is not known yet'
            else '; ' || t.to_country || ' is new for this user, but they were only ever seen through the '
                 || 'corporate egress, which hides their own country, and colleagues live in ' || t.to_country end
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
    'from_interactive', fs.is_interactive, 'new_country_for_user', {new},
    'after_corporate_egress', {corp}, 'user_seen_outside_egress', {own},
    'colleagues_live_in_country', {home}, 'tenant_homes_known', {known})
    as evidence
from travel t
join signins_enriched ts on ts.event_id = t.to_event_id
join signins_enriched fs on fs.event_id = t.from_event_id
left join first_in_country fc on fc.person_id = ts.person_id and fc.geo_country = t.to_country
left join own_first o on o.person_id = ts.person_id
left join home_country h on h.geo_country = t.to_country
cross join since s
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
        "in from before. After corporate egress the VPN hides where the person is, so a new country counts only when "
        "the person's own networks (outside the egress) were seen before, or nobody in the tenant lives in that "
        "country (nobody's own networks there on days at least 24 hours apart; unknown in the tenant's first day "
        "of history, when a new country stays medium), so it cannot be the person's home behind the VPN."
    ),
    entra_risk_event_type="mcasImpossibleTravel",
    mitre=("T1078.004",),
    levels=("medium", "high"),
    level_rules="medium; high when the destination is hosting, on a threat-intel list, or a country new for the "
                "user (after corporate egress: and the user was seen outside the egress, or nobody in the "
                "tenant lives there)",
    timing="offline",
    activity="signin",
    # not per user: after corporate egress the level asks where the tenant's people live (everyone's events)
    per_user=False,
    requires=("travel", "signins_enriched"),
    params={"max_speed_kmh": 900, "min_distance_km": 500},
    sql=_sql,
)
