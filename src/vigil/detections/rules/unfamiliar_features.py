"""Unfamiliar sign-in properties: IP, ASN, location, device, browser and subnet all new for the user."""
from __future__ import annotations

from vigil.detections.base import Detection, Params
from vigil.detections.sqlparts import UNFAMILIAR_FEATURES as FEATURES
from vigil.detections.sqlparts import days

def _sql(p: Params) -> str:
    look = days(p.num("lookback_days"))
    feats = ",\n    ".join(f"{expr} as f_{name}" for name, expr in FEATURES.items())
    lags = ",\n    ".join(
        f"lag(event_time) over (partition by person_id, f_{n} order by event_time, event_id) as p_{n}"
        for n in FEATURES)
    # A registered device (Entra device id, bound to the device's keys) is the directory's, not a stranger's:
    # its first use is not an unfamiliar device.
    news = ",\n    ".join(
        f"(f_{n} is not null and (p_{n} is null or p_{n} < event_time - {look})"
        + (" and not registered" if n == "device" else "") + f") as n_{n}" for n in FEATURES)
    listed = " || ".join(f"case when n_{n} then '{n}, ' else '' end" for n in FEATURES)
    return f"""
with ok as (
  select event_id, user_id, user_principal_name, person_id, event_time, is_corporate_egress, ip, ip_class,
    coalesce(device_id, '') <> '' as registered, coalesce(mfa_satisfied, false) as mfa,
    {feats}
  from signins_enriched
  where result = 'success' and not coalesce(location_is_stale, false)
),
w as (
  select ok.*,
    {lags},
    row_number() over (partition by person_id order by event_time, event_id) - 1 as prior_signins,
    min(event_time) over (partition by person_id) as user_first
  from ok
),
n as (
  select w.*,
    {news}
  from w
),
scored as (
  select n.*,
    (case when n_asn and n_location then
      case when n_device and n_browser then 'high'
           when n_device or n_browser then 'medium' else 'low' end end) as lvl,
    {listed} as unfamiliar
  from n
  where not coalesce(is_corporate_egress, false)
    -- an anonymiser's exit (Tor, commercial VPN, iCloud Private Relay) says nothing of the user's network or place:
    -- it is classified (anonymizedIPAddress, riskyIPAddress), not compared
    and coalesce(ip_class, '') not in ('tor', 'vpn')
    -- the user's own registered device, used before, with MFA: a traveller, not a stranger
    and not (registered and not n_device and mfa)
    and prior_signins >= {p.num('learning_signins')}
    and user_first <= event_time - {days(p.num('learning_days'))}
)
select event_id, user_id, user_principal_name, event_time as activity_time, lvl as risk_level,
  'sign-in with properties unfamiliar for this user (last ' || {p.num('lookback_days')} || ' days): '
    || rtrim(unfamiliar, ', ') as reason,
  json_object('unfamiliar', string_split(rtrim(unfamiliar, ', '), ', '), 'ip', ip, 'asn', f_asn,
    'location', f_location, 'device', f_device, 'browser', f_browser, 'subnet', f_subnet, 'ip_class', ip_class,
    'registered_device', registered, 'prior_signins', prior_signins, 'user_first_seen', user_first) as evidence
from scored
where lvl is not null
"""


DETECTION = Detection(
    id="unfamiliarFeatures",
    title="Unfamiliar sign-in properties",
    description=(
        "A successful sign-in (interactive or not) whose properties are new against the user's own history of "
        "successful sign-ins: IP, ASN, location (country/city), device, browser and tenant IP subnet (/24, "
        "IPv6 /48). Fires only when the network (ASN) and the location are both unfamiliar; corporate egress "
        "and anonymiser exits (classified by anonymizedIPAddress, not compared) never count, and the first use "
        "of a registered device (one with an Entra device id, bound to the device's keys) is not an unfamiliar "
        "device; a sign-in with MFA on a registered device the user already used is the user travelling, not a "
        "stranger. Users in their learning period (fewer than 10 earlier sign-ins, or first seen less than 5 days "
        "ago) are not evaluated."
    ),
    entra_risk_event_type="unfamiliarFeatures",
    mitre=("T1078.004",),
    levels=("low", "medium", "high"),
    level_rules="ASN+location new -> low; plus device or browser -> medium; plus both -> high",
    timing="realtime",
    activity="signin",
    per_user=True,
    requires=("signins_enriched",),
    params={"lookback_days": 30, "learning_days": 5, "learning_signins": 10},
    sql=_sql,
)
