"""Sign-in from an anonymising network: Tor exit or an anonymising (commercial) VPN."""
from __future__ import annotations

from vigil.detections.base import Detection, Params
from vigil.detections.sqlparts import UNFAMILIAR_FEATURES


def _sql(p: Params) -> str:
    results = "('success')" if not p["include_failures"] else "('success', 'failure', 'interrupted')"
    return f"""
with s as (
  select event_id, user_id, user_principal_name, person_id, event_time, ip, ip_class, asn_number, as_org, result,
    location_is_stale, {UNFAMILIAR_FEATURES['device']} as device
  from signins_enriched
  where result in {results}
),
w as (
  select s.*,
    lag(event_time) over (partition by person_id, asn_number order by event_time, event_id) as prev_asn,
    -- the device (registered id, else OS and device family) on an earlier successful sign-in of the person
    max(case when result = 'success' and not coalesce(location_is_stale, false) then event_time end) over (
      partition by person_id, device order by event_time, event_id
      rows between unbounded preceding and 1 preceding) as prev_device
  from s
)
select event_id, user_id, user_principal_name, event_time as activity_time,
  case when ip_class = 'tor' then 'high'
       when prev_asn is null and (device is null or prev_device is null) then 'medium' else 'low' end as risk_level,
  case when ip_class = 'tor' then 'sign-in (' || result || ') from a Tor exit node ' || ip
       else 'sign-in (' || result || ') from anonymising VPN ' || coalesce(as_org, '') || ' (' || ip || ')'
            || case when prev_asn is null then ', a network this user never used before' else '' end
            -- a commercial VPN or iCloud Private Relay on the user's own laptop or phone is the user's choice
            || case when device is not null and prev_device is not null
                    then ', on a device this user signed in from before (' || device || ')' else '' end
  end as reason,
  json_object('ip', ip, 'ip_class', ip_class, 'asn', asn_number, 'as_org', as_org, 'result', result,
              'user_used_network_before', prev_asn, 'device', device, 'user_used_device_before', prev_device)
    as evidence
from w
where ip_class in ('tor', 'vpn')
"""


DETECTION = Detection(
    id="anonymizedIPAddress",
    title="Anonymous IP address",
    description=(
        "A sign-in from a Tor exit node or an anonymising VPN (enrichment's ip_class; corporate VPN egress is "
        "classed corporate_egress and never matches). Only successful sign-ins by default: failures from "
        "anonymisers are the spray and brute-force detections' business. A commercial VPN or iCloud Private Relay "
        "on a device the user signed in from before (their own laptop or phone) is low: the user's choice, not a "
        "stranger's relay."
    ),
    entra_risk_event_type="anonymizedIPAddress",
    mitre=("T1090.003",),
    levels=("low", "medium", "high"),
    level_rules="Tor -> high; anonymising VPN on a network and a device new for the user -> medium; else low",
    timing="realtime",
    activity="signin",
    per_user=True,
    requires=("signins_enriched",),
    params={"include_failures": False},
    sql=_sql,
)
