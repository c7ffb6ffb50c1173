"""Activity from an anonymous IP address: a stranger's device behind an anonymiser, then the mailbox or files."""
from __future__ import annotations

from vigil.detections.base import Detection, Params
from vigil.detections.sqlparts import UNFAMILIAR_FEATURES, hours

ANONYMISERS = "('tor', 'vpn')"


def _sql(p: Params) -> str:
    device = UNFAMILIAR_FEATURES["device"]
    return f"""
with ok as (
  select event_id, user_id, user_principal_name, person_id, event_time, ip, ip_class, asn_number, as_org,
    {device} as device,
    lag(event_time) over (partition by person_id, asn_number order by event_time, event_id) as prev_asn
  from signins_enriched
  where result = 'success' and person_id is not null
),
own_devices as (  -- devices the person used from their own networks (anywhere but an anonymiser)
  select person_id, device, min(event_time) as first_t
  from ok where device is not null and coalesce(ip_class, '') not in {ANONYMISERS} group by person_id, device
),
anon as (  -- from an anonymiser the person never used, on a device they never used from their own networks
  select ok.* from ok
  left join own_devices d on d.person_id = ok.person_id and d.device = ok.device and d.first_t < ok.event_time
  where ok.ip_class in {ANONYMISERS} and ok.prev_asn is null and d.first_t is null
),
acts as (  -- what the person did from that anonymiser afterwards
  select an.event_id as signin_id, an.event_time as signin_time, an.person_id, an.user_id, an.user_principal_name,
    an.ip as signin_ip, an.ip_class, an.as_org, an.asn_number, an.device, a.event_id, a.event_time, a.operation, a.ip
  from anon an
  join activities_enriched a on a.person_id = an.person_id
    and (a.ip = an.ip or (a.asn_number = an.asn_number and a.ip_class in {ANONYMISERS}))
    and a.event_time >= an.event_time and a.event_time <= an.event_time + {hours(p.num('within_hours'))}
),
ranked as (
  select acts.*,
    row_number() over (partition by signin_id order by event_time, event_id) as k,
    count(*) over (partition by signin_id) as n
  from acts
),
firsts as (  -- per anonymised sign-in, its first activity; per activity, the latest sign-in before it
  select r.*, row_number() over (partition by person_id, event_id order by signin_time desc, signin_id desc) as j
  from ranked r where k = 1
),
ops as (
  select signin_id, list(distinct operation order by operation) as operations from acts group by signin_id
)
select f.event_id, f.user_id, f.user_principal_name, f.event_time as activity_time, 'high' as risk_level,
  cast(f.n as varchar) || ' activit' || case when f.n = 1 then 'y' else 'ies' end
    || ' (' || array_to_string(o.operations, ', ') || ') from '
    || case when f.ip_class = 'tor' then 'Tor exit ' else 'anonymising VPN ' || coalesce(f.as_org || ' ', '') end
    || f.signin_ip || ' within ' || {p.num('within_hours')} || ' h of a successful sign-in from it, on a network '
    || case when f.device is null then 'this user never used before, from a device that gave no identity (no '
                 || 'device id, no OS or device family)'
            else 'and a device (' || f.device || ') this user never used before' end as reason,
  json_object('signin_event_id', f.signin_id, 'signin_time', f.signin_time, 'ip', f.signin_ip,
    'ip_class', f.ip_class, 'asn', f.asn_number, 'as_org', f.as_org, 'device', f.device, 'activities', f.n,
    'operations', o.operations) as evidence
from firsts f join ops o on o.signin_id = f.signin_id
where f.j = 1
"""


DETECTION = Detection(
    id="activityFromAnonymousIP",
    title="Activity from anonymous IP address",
    description=(
        "A successful sign-in from a Tor exit or an anonymising VPN the user never used before, on a device the "
        "user never used from their own networks (no registered device id they had; else a new OS and device "
        "family), followed by activity from that anonymiser (mailbox, files, inbox rules) within hours: someone "
        "else's machine behind a relay, reading the account. The sign-in alone is anonymizedIPAddress (medium); "
        "what follows it is only known afterwards, so this is an offline finding on the first activity. A user on "
        "their own laptop or phone behind a commercial VPN or iCloud Private Relay is not raised (the device is "
        "theirs), nor activity with no anonymised sign-in before it."
    ),
    entra_risk_event_type="riskyIPAddress",
    mitre=("T1090.003", "T1078.004"),
    levels=("high",),
    level_rules="always high",
    timing="offline",
    activity="user",
    per_user=True,  # the person's own sign-ins, devices and activity only
    requires=("signins_enriched", "activities_enriched"),
    params={"within_hours": 12},
    sql=_sql,
)
