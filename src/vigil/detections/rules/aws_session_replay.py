"""AWS session replay: one temporary credential (a console or role session) used from several networks or clients."""
from __future__ import annotations

from vigil.detections.base import Detection, Params
from vigil.detections.sqlparts import hours

_COLS = ("event_id, user_id, user_principal_name, person_id, event_time, session_id, ip, asn_number, as_org, "
         "geo_country, ip_class, user_agent, ua_family, ua_class")


def _sql(p: Params) -> str:
    # temporary credentials only (ASIA...: console, assumed-role and federated sessions); long-term AKIA keys are
    # the workload's business; calls an AWS service made for the session carry no client IP (vigil_ip: NULL)
    scope = "source_format like 'cloudtrail%' and session_id like 'ASIA%' and ip is not null"
    return f"""
with ev as (
  select {_COLS} from activities_enriched where {scope}
  union all
  select {_COLS} from signins_enriched where {scope}
),
ranked as (
  select ev.*, row_number() over (partition by session_id order by event_time, event_id) as k from ev
),
first_use as (select * from ranked where k = 1),
cand as (  -- the session's key from another network (ASN) than its first use
  select e.*, f.event_id as first_event_id, f.event_time as first_time, f.ip as first_ip, f.asn_number as first_asn,
    f.geo_country as first_country, f.ip_class as first_class, f.ua_family as first_client,
    coalesce(e.geo_country <> f.geo_country, false) as other_country,
    coalesce(e.ip_class in ('hosting', 'vpn', 'tor') and e.ip_class <> coalesce(f.ip_class, ''), false)
      as attacker_network,
    coalesce(e.ua_family <> f.ua_family, false)
      or (coalesce(e.ua_class, '') in ('scripted', 'headless')
          and coalesce(f.ua_class, '') not in ('scripted', 'headless')) as other_client
  from ranked e join first_use f on f.session_id = e.session_id
  where e.k > 1 and e.event_time <= f.event_time + {hours(p.num('max_session_hours'))}
    and coalesce(e.asn_number, -1) <> coalesce(f.asn_number, -1)
),
novel as (  -- ... and with another client, country or kind of network
  select cand.*, row_number() over (partition by session_id order by event_time, event_id) as j
  from cand where other_client or other_country or attacker_network
)
select event_id, user_id, user_principal_name, event_time as activity_time,
  case when other_country or attacker_network then 'high' else 'medium' end as risk_level,
  'AWS session ' || session_id || ' first used from ' || first_ip || ' (' || coalesce(first_country, '?') || ', AS'
    || coalesce(cast(first_asn as varchar), '?') || ', ' || coalesce(first_client, 'unknown client') || ') was then '
    || 'used from ' || ip || ' (' || coalesce(geo_country, '?') || ', AS' || coalesce(cast(asn_number as varchar), '?')
    || coalesce(' ' || ip_class, '') || ', ' || coalesce(ua_family, 'unknown client') || '): '
    || case when other_country then 'another country' when attacker_network then 'an attacker-shaped network'
            when other_client then 'another network and client' else 'another network' end as reason,
  json_object('session_id', session_id, 'first_event_id', first_event_id, 'first_time', first_time,
    'first_ip', first_ip, 'first_asn', first_asn, 'first_country', first_country, 'first_ip_class', first_class,
    'first_client', first_client, 'ip', ip, 'asn', asn_number, 'country', geo_country, 'ip_class', ip_class,
    'client', ua_family, 'user_agent', user_agent, 'other_country', other_country,
    'attacker_network', attacker_network, 'other_client', other_client) as evidence
from novel
where j = 1
"""


DETECTION = Detection(
    id="awsSessionReplay",
    title="AWS session replayed from another network",
    description=(
        "One AWS temporary credential (an ASIA... access key: a console, assumed-role or federated session, "
        "CloudTrail's userIdentity.accessKeyId) used within its lifetime from another network (ASN) than its first "
        "use and with another client, from another country, or from a hosting / VPN / Tor network its first use "
        "was not on: the session's credentials or cookie were taken and replayed elsewhere (the CloudTrail form of "
        "session replay; GuardDuty's credential exfiltration findings are the same idea). One finding per session, "
        "on the first such use. Calls AWS services make for the session (no client IP) and long-term AKIA keys "
        "are not judged; the same session from two addresses of one network, or from the console and the CLI on "
        "one network, is not raised. Entra has no riskEventType for it."
    ),
    entra_risk_event_type=None,
    mitre=("T1550.001", "T1078.004"),
    levels=("medium", "high"),
    level_rules="another network and client -> medium; another country or an attacker-shaped network -> high",
    timing="offline",
    activity="user",
    requires=("signins_enriched", "activities_enriched"),
    params={"max_session_hours": 36},
    sql=_sql,
)
