"""Directory changes an attacker makes to keep or widen access, from Entra audit events.

Not a detection itself: the shared shape of the audit-change detections (one finding per matching
``directory_events`` row, who did it to whom, the vendor's modified properties as evidence).
"""
from __future__ import annotations


def change_sql(where: str, level: str, reason: str, subject: str = "target") -> str:
    """Findings over ``directory_events`` rows matching ``where``; ``subject`` 'target' or 'actor' is the account
    the finding is about; ``level`` and ``reason`` are SQL over the row (alias ``d``)."""
    upn = "coalesce(d.target_upn, d.actor_upn)" if subject == "target" else "coalesce(d.actor_upn, d.target_upn)"
    uid = "coalesce(d.target_user_id, d.actor_id)" if subject == "target" else "d.actor_id"
    return f"""
select d.event_id, {uid} as user_id, {upn} as user_principal_name, d.event_time as activity_time,
  {level} as risk_level, {reason} as reason,
  json_object('operation', d.operation, 'category', d.category, 'result', d.result, 'actor', d.actor_upn,
              'target', coalesce(d.target_upn, d.target_display_name), 'ip', d.ip,
              'modified_properties', d.modified_properties) as evidence
from directory_events d
where coalesce(d.result, 'success') = 'success' and ({where})
"""


def props(col: str = "d.modified_properties") -> str:
    """The modified properties as lower-case text (to look for names and values in)."""
    return f"lower(coalesce(cast({col} as varchar), ''))"
