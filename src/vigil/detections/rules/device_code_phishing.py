"""Device-code phishing: a device-code sign-in from a hosting network or one the user never used."""
from __future__ import annotations

from vigil.detections.base import Detection, Params
from vigil.detections.sqlparts import hours


def _sql(p: Params) -> str:
    return f"""
with s as (
  select event_id, user_id, user_principal_name, event_time, ip, ip_class, asn_number, as_org, result,
    is_interactive, auth_protocol, coalesce(cast(asn_number as varchar), ip) as net,
    coalesce(sum(case when result = 'success' and lower(coalesce(auth_protocol, '')) <> 'devicecode' then 1 end)
      over (partition by user_principal_name, coalesce(cast(asn_number as varchar), ip)
            order by event_time, event_id rows between unbounded preceding and 1 preceding), 0) as net_prior_ok
  from signins_enriched
  where user_principal_name is not null
),
dc as (  -- the device-code sign-in itself (the attacker's code, redeemed by the user; the token lands with them)
  select * from s
  where result = 'success' and lower(coalesce(auth_protocol, '')) = 'devicecode' and coalesce(is_interactive, true)
    and (ip_class in ('hosting', 'vpn', 'tor') or net_prior_ok = 0)
    and ip_class <> 'corporate_egress'
),
refreshes as (  -- tokens then refreshed from the same network
  select d.event_id, count(r.event_id) as n, max(r.event_time) as last_t
  from dc d join s r on r.user_principal_name = d.user_principal_name and r.net = d.net
   and r.event_time > d.event_time and r.event_time <= d.event_time + {hours(p.num('refresh_hours'))}
   and r.result = 'success' and not coalesce(r.is_interactive, false)
  group by d.event_id
)
select d.event_id, d.user_id, d.user_principal_name, d.event_time as activity_time,
  case when coalesce(r.n, 0) > 0 or d.ip_class in ('hosting', 'tor') then 'high' else 'medium' end as risk_level,
  'device-code sign-in from ' || coalesce(d.ip_class, 'unknown') || ' network '
    || coalesce('AS' || cast(d.asn_number as varchar) || ' ' || coalesce(d.as_org, ''), d.ip)
    || case when d.net_prior_ok = 0 then ', which this user never signed in from' else '' end
    || case when coalesce(r.n, 0) > 0 then ', then ' || r.n || ' token refresh(es) from it' else '' end as reason,
  json_object('ip', d.ip, 'ip_class', d.ip_class, 'asn', d.asn_number, 'as_org', d.as_org,
              'network_new_for_user', d.net_prior_ok = 0, 'refreshes', coalesce(r.n, 0),
              'last_refresh', r.last_t) as evidence
from dc d left join refreshes r on r.event_id = d.event_id
"""


DETECTION = Detection(
    id="deviceCodePhishing",
    title="Device-code phishing",
    description=(
        "A successful device-code sign-in (AuthenticationProtocol deviceCode, or OriginalTransferMethod "
        "deviceCodeFlow) from a hosting / anonymising network or a network the user never signed in from: the "
        "attacker started the flow and had the victim type the code, so the tokens land on the attacker's "
        "network. High when tokens are then refreshed from that network, or it is hosting / Tor. A device-code "
        "sign-in from the user's usual network (a meeting-room device, a CLI) is not raised, nor from corporate "
        "egress. Entra has no riskEventType for it."
    ),
    entra_risk_event_type=None,
    mitre=("T1528", "T1566.002"),
    levels=("medium", "high"),
    level_rules="new network -> medium; then token refreshes from it, or hosting / Tor -> high",
    timing="offline",
    activity="signin",
    per_user=True,
    requires=("signins_enriched",),
    params={"refresh_hours": 24},
    sql=_sql,
)
