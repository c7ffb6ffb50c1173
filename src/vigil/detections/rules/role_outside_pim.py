"""A directory role assigned directly, outside Privileged Identity Management."""
from __future__ import annotations

from vigil.detections.base import Detection, Params
from vigil.detections.rules.audit_changes import change_sql, props


def _sql(p: Params) -> str:
    privileged = " or ".join(f"{props()} like '%{r.lower()}%'" for r in p["privileged_roles"]
                             if r.replace(" ", "").isalnum())
    where = "d.event_type = 'role_assigned' and lower(d.operation) not like '%in pim%' " \
            "and lower(d.operation) not like '%pim activation%'"
    return change_sql(
        where,
        f"case when {privileged or 'false'} then 'high' else 'medium' end",
        "'role assigned outside PIM (' || d.operation || ') to ' || coalesce(d.target_upn, d.target_display_name, "
        "'an account') || ' by ' || coalesce(d.actor_upn, 'an unknown actor')"
        f" || case when {privileged or 'false'} then ', a privileged role, permanently and without approval' "
        "else ', permanently and without approval' end")


DETECTION = Detection(
    id="roleAssignedOutsidePim",
    title="Role assigned outside PIM",
    description=(
        "A directory role given directly (Add member to role, Add member to role outside of PIM) instead of an "
        "eligible, time-bound, approved PIM assignment: permanent standing access is what an attacker with an "
        "admin account grants itself or a backdoor account. PIM's own requests and completions are not raised. "
        "High for privileged roles (Global Administrator, Privileged Role Administrator, ...). PIM's alert of the "
        "same name is not in Entra ID Protection's riskEventTypes."
    ),
    entra_risk_event_type=None,
    mitre=("T1098.003",),
    levels=("medium", "high"),
    level_rules="medium; high for a privileged role",
    timing="offline",
    activity="user",
    requires=("directory_events",),
    params={"privileged_roles": ["Global Administrator", "Privileged Role Administrator",
                                 "Privileged Authentication Administrator", "Application Administrator",
                                 "Cloud Application Administrator", "Security Administrator",
                                 "Exchange Administrator", "User Administrator", "Hybrid Identity Administrator"]},
    sql=_sql,
)
