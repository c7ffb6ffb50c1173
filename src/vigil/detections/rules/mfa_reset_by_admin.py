"""An administrator removed or reset a user's MFA methods (or turned per-user MFA off)."""
from __future__ import annotations

from vigil.detections.base import Detection, Params
from vigil.detections.rules.audit_changes import change_sql, props


def _sql(p: Params) -> str:
    # per-user MFA off: StrongAuthenticationRequirement's new value carries "State":0 (quoted inside JSON text)
    state_off = "regexp_matches(" + props() + r", 'state[^a-z0-9]{0,4}:[^a-z0-9]{0,2}0')"
    disabled = (f"(lower(d.operation) = 'update user' and {props()} like '%strongauthenticationrequirement%' "
                f"and {state_off})")
    where = (f"(d.event_type = 'mfa_removed' or {disabled}) "
             "and coalesce(d.actor_upn, '') <> coalesce(d.target_upn, '')")
    return change_sql(
        where,
        "'medium'",
        "d.operation || ' on ' || coalesce(d.target_upn, d.target_display_name, 'an account') || ' by '"
        " || coalesce(d.actor_upn, 'an unknown actor') || ': the account signs in with its password alone"
        " until it registers a method again'")


DETECTION = Detection(
    id="mfaDisabledByAdmin",
    title="MFA disabled or reset by an administrator",
    description=(
        "An administrator (or an app) removed a user's authentication methods, reset their MFA registration or "
        "set per-user MFA off (Update user with StrongAuthenticationRequirement state 0): the next sign-in needs "
        "the password only, which is how an attacker holding a privileged account opens other accounts. A user "
        "deleting their own method is not raised. Entra has no riskEventType for it."
    ),
    entra_risk_event_type=None,
    mitre=("T1556.006",),
    levels=("medium",),
    level_rules="always medium (corroborate with the actor's own sign-ins)",
    timing="offline",
    activity="user",
    requires=("directory_events",),
    sql=_sql,
)
