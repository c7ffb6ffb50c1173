"""Credentials (a secret or certificate) added to a service principal or application."""
from __future__ import annotations

from vigil.detections.base import Detection, Params
from vigil.detections.rules.audit_changes import change_sql, props


def _sql(p: Params) -> str:
    ops = p.strs("operations")
    where = (f"(d.operation in {ops} or (lower(d.operation) like 'update application%' "
             f"and {props()} like '%keydescription%'))")
    return change_sql(
        where,
        "'medium'",
        "d.operation || ' on ' || coalesce(d.target_display_name, d.target_upn, 'an application') || ' by '"
        " || coalesce(d.actor_upn, 'an unknown actor') || ': whoever holds the new secret or certificate signs in"
        " as the application, without MFA or conditional access for users'",
        subject="actor")


DETECTION = Detection(
    id="servicePrincipalCredentialsAdded",
    title="Credentials added to a service principal",
    description=(
        "A client secret or certificate was added to a service principal or an application (Add service "
        "principal credentials; Update application - Certificates and secrets management): the persistence step "
        "after a privileged account is taken (Solorigate, Midnight Blizzard), since the application's "
        "permissions outlive the user's password reset. Raised on the actor. Entra ID Protection's workload "
        "identity detections have no riskEventType for the change itself."
    ),
    entra_risk_event_type=None,
    mitre=("T1098.001",),
    levels=("medium",),
    level_rules="always medium (a routine secret rotation looks the same: check who and whether expected)",
    timing="offline",
    activity="user",
    requires=("directory_events",),
    params={"operations": ["Add service principal credentials",
                           "Update application – Certificates and secrets management",
                           "Update application - Certificates and secrets management"]},
    sql=_sql,
)
