"""Suspicious inbox manipulation: a rule that hides mail from its owner."""
from __future__ import annotations

from vigil.detections.base import Detection, Params
from vigil.detections.sqlparts import param


def _sql(p: Params) -> str:
    folders = p.strs("hiding_folders")
    words = " or ".join(
        f"lower(words) like '%{w.lower()}%'"
        for w in p["keywords"] if w.isalnum())
    return f"""
with r as (
  select event_id, user_id, user_principal_name, event_time, operation, ip, ip_class, parameters,
    lower(coalesce({param('parameters', 'DeleteMessage')}, '')) in ('true', '1') as deletes,
    lower(coalesce({param('parameters', 'MarkAsRead')}, '')) in ('true', '1') as marks_read,
    {param('parameters', 'MoveToFolder')} as move_to,
    -- every word list the rule matches on (subject, body, either): the evidence shows what it matched
    trim(concat_ws(';', nullif({param('parameters', 'SubjectContainsWords')}, ''),
                   nullif({param('parameters', 'BodyContainsWords')}, ''),
                   nullif({param('parameters', 'SubjectOrBodyContainsWords')}, ''))) as words
  from activities_enriched
  where operation in {p.strs('operations')}
),
j as (
  select r.*,
    (deletes or marks_read or lower(coalesce(move_to, '')) in {folders}) as hides,
    ({words or 'false'}) as keyword
  from r
)
select event_id, user_id, user_principal_name, event_time as activity_time,
  case when keyword or ip_class in ('tor', 'vpn', 'hosting') then 'medium' else 'low' end as risk_level,
  operation || ' creates a rule that '
    || case when deletes then 'deletes' when move_to is not null then 'moves to ' || move_to else 'marks as read' end
    || ' incoming mail' || case when keyword then ' matching security/finance words (' || words || ')'
                                else '' end as reason,
  json_object('operation', operation, 'delete', deletes, 'mark_as_read', marks_read, 'move_to', move_to,
              'words', words, 'ip', ip, 'ip_class', ip_class, 'parameters', parameters) as evidence
from j where hides
"""


DETECTION = Detection(
    id="suspiciousInboxManipulation",
    title="Suspicious inbox manipulation rule",
    description=(
        "An inbox rule that deletes messages, marks them read or moves them to a folder nobody reads (RSS "
        "Feeds, Conversation History, Junk, Archive, Deleted Items): attackers hide replies and security "
        "notices this way. Medium when the rule matches words like invoice, payment, password or phishing, or "
        "is set from Tor/VPN/hosting networks."
    ),
    entra_risk_event_type="mcasSuspiciousInboxManipulationRules",
    mitre=("T1564.008",),
    levels=("low", "medium"),
    level_rules="low; medium with security/finance keywords or from Tor/VPN/hosting",
    timing="offline",
    activity="user",
    per_user=True,
    requires=("activities_enriched",),
    params={"operations": ["New-InboxRule", "Set-InboxRule", "UpdateInboxRules"],
            "hiding_folders": ["rss feeds", "rss subscriptions", "conversation history", "junk email",
                               "archive", "deleted items"],
            "keywords": ["invoice", "payment", "password", "phish", "hack", "security", "wire", "bank",
                         "urgent", "compromised", "suspicious"]},
    sql=_sql,
)
