"""Legacy authentication or ROPC sign-in without MFA: a password that is the only barrier."""
from __future__ import annotations

from vigil.detections.base import Detection, Params
from vigil.detections.sqlparts import days


def _sql(p: Params) -> str:
    return f"""
with s as (
  select event_id, user_id, user_principal_name, person_id, event_time, ip, ip_class, client_app_type, auth_protocol,
    ua_class, mfa_satisfied, result,
    (client_app_type in {p.strs('legacy_client_app_types')} or lower(coalesce(auth_protocol, '')) = 'ropc'
     or ua_class = 'legacy_protocol') as legacy
  from signins_enriched
),
l as (
  select s.*,
    lag(event_time) over (partition by person_id order by event_time, event_id) as prev_legacy
  from s where legacy
)
select event_id, user_id, user_principal_name, event_time as activity_time,
  case when ip_class in ('tor', 'vpn', 'hosting') then 'high'
       when prev_legacy is null or prev_legacy < event_time - {days(p.num('lookback_days'))} then 'medium'
       else 'low' end as risk_level,
  'successful ' || coalesce(nullif(auth_protocol, ''), client_app_type, 'legacy') || ' sign-in without MFA'
    || coalesce(' via ' || client_app_type, '')
    || case when ip_class in ('tor', 'vpn', 'hosting') then ' from a ' || ip_class || ' network'
            when prev_legacy is null or prev_legacy < event_time - {days(p.num('lookback_days'))}
            then ', the first legacy sign-in of this user in ' || {p.num('lookback_days')} || ' days'
            else '' end as reason,
  json_object('client_app_type', client_app_type, 'auth_protocol', auth_protocol, 'ua_class', ua_class,
              'ip', ip, 'ip_class', ip_class, 'previous_legacy_signin', prev_legacy) as evidence
from l
where result = 'success' and not coalesce(mfa_satisfied, false)
  and (prev_legacy is null or prev_legacy < event_time - {days(p.num('lookback_days'))}
       or ip_class in ('tor', 'vpn', 'hosting') or {p.num('report_every')} = 1)
"""


DETECTION = Detection(
    id="legacyAuthentication",
    title="Legacy authentication / ROPC without MFA",
    description=(
        "A successful sign-in over a legacy protocol (IMAP, POP, SMTP AUTH, Exchange ActiveSync, other clients) "
        "or the resource-owner password grant (ROPC) without MFA: the password alone opened the account, and "
        "conditional access requiring MFA cannot apply. Raised once per look-back per user (the first legacy "
        "sign-in after a quiet period), and always when it comes from Tor, VPN or hosting networks."
    ),
    entra_risk_event_type=None,
    mitre=("T1078.004", "T1110"),
    levels=("low", "medium", "high"),
    level_rules="first legacy sign-in in the look-back -> medium; from Tor/VPN/hosting -> high; repeats -> low "
                "(only when report_every = 1)",
    timing="realtime",
    activity="signin",
    per_user=True,
    requires=("signins_enriched",),
    params={"lookback_days": 30, "report_every": 0,
            "legacy_client_app_types": ["Exchange ActiveSync", "IMAP4", "POP3", "Authenticated SMTP",
                                        "Exchange Web Services", "Other clients", "MAPI Over HTTP",
                                        "Offline Address Book", "AutoDiscover", "Exchange Online PowerShell"]},
    sql=_sql,
)
