"""Suspicious inbox forwarding: mail forwarded or redirected outside the organisation."""
from __future__ import annotations

from vigil.detections.base import Detection, Params
from vigil.detections.sqlparts import param

_FORWARD_PARAMS = ("ForwardTo", "ForwardAsAttachmentTo", "RedirectTo", "ForwardingSmtpAddress", "ForwardingAddress")


def _sql(p: Params) -> str:
    targets = ", ".join(f"{param('parameters', n)}" for n in _FORWARD_PARAMS)
    names = ", ".join(f"'{n}'" for n in _FORWARD_PARAMS)
    return f"""
with domains as (  -- the tenant's own mail domains, from its users' UPNs
  select distinct lower(split_part(user_principal_name, '@', 2)) as domain
  from activities_enriched where user_principal_name like '%@%'
),
rules as (
  select event_id, user_id, user_principal_name, event_time, operation, ip, ip_class, parameters,
    lower(coalesce({targets})) as target
  from activities_enriched
  where operation in {p.strs('operations')}
),
t as (
  select r.*, regexp_extract(replace(r.target, 'smtp:', ''), '@([a-z0-9.-]+)', 1) as target_domain
  from rules r where r.target is not null
)
select t.event_id, t.user_id, t.user_principal_name, t.event_time as activity_time,
  case when t.ip_class in ('tor', 'vpn', 'hosting') or lower(cast(t.parameters as varchar)) like '%deletemessage%true%'
       then 'high' else 'medium' end as risk_level,
  t.operation || ' forwards this mailbox to ' || t.target || ', outside the organisation'
    || case when t.ip_class in ('tor', 'vpn', 'hosting') then ', set from a ' || t.ip_class || ' network' else '' end
    as reason,
  json_object('operation', t.operation, 'forward_to', t.target, 'domain', t.target_domain, 'ip', t.ip,
              'ip_class', t.ip_class, 'parameters', t.parameters, 'checked_parameters', [{names}]) as evidence
from t
where t.target_domain <> '' and t.target_domain not in (select domain from domains)
"""


DETECTION = Detection(
    id="suspiciousInboxForwarding",
    title="Suspicious inbox forwarding",
    description=(
        "An inbox rule or mailbox setting (New-InboxRule, Set-InboxRule, UpdateInboxRules, Set-Mailbox) that "
        "forwards or redirects mail to an address whose domain is not one of the tenant's (taken from its "
        "users' UPNs): the classic business-email-compromise persistence."
    ),
    entra_risk_event_type="suspiciousInboxForwarding",
    mitre=("T1114.003",),
    levels=("medium", "high"),
    level_rules="medium; high when set from Tor/VPN/hosting or when the rule also deletes the message",
    timing="offline",
    activity="user",
    requires=("activities_enriched",),
    params={"operations": ["New-InboxRule", "Set-InboxRule", "UpdateInboxRules", "Set-Mailbox"]},
    sql=_sql,
)
