"""A user consented to an application asking for high-privilege scopes (illicit consent grant)."""
from __future__ import annotations

from vigil.detections.base import Detection, Params
from vigil.detections.rules.audit_changes import change_sql, props


def _sql(p: Params) -> str:
    scopes = [s for s in p["high_privilege_scopes"] if s.replace(".", "").replace("_", "").isalnum()]
    hit = " or ".join(f"{props()} like '%{s.lower()}%'" for s in scopes) or "false"
    names = " || ".join(f"case when {props()} like '%{s.lower()}%' then ' {s}' else '' end" for s in scopes) or "''"
    admin = f"({props()} like '%isadminconsent%true%')"
    return change_sql(
        f"d.operation in {p.strs('operations')} and ({hit})",
        f"case when not {admin} then 'high' else 'medium' end",
        f"'consent to ' || coalesce(d.target_display_name, 'an application') || ' granting' || {names}"
        f" || case when not {admin} then ' by the user themself (not an administrator)' "
        "else ' (admin consent)' end",
        subject="actor")


DETECTION = Detection(
    id="illicitConsentGrant",
    title="Consent to an application with high-privilege scopes",
    description=(
        "Consent to application recording mail, files or directory scopes that read or send a user's data "
        "(Mail.Read, Mail.Send, Files.ReadWrite.All, offline_access with them, ...): the illicit consent grant, "
        "an OAuth application of the attacker (typically multi-tenant and unverified) that keeps access through "
        "refresh tokens whatever happens to the password. High when a user consented for themself, medium for "
        "admin consent. Defender for Cloud Apps names OAuth-app alerts differently; Entra ID Protection has no "
        "riskEventType for it."
    ),
    entra_risk_event_type=None,
    mitre=("T1528",),
    levels=("medium", "high"),
    level_rules="user consent -> high; admin consent -> medium",
    timing="offline",
    activity="user",
    requires=("directory_events",),
    params={"operations": ["Consent to application", "Add delegated permission grant", "Add OAuth2PermissionGrant"],
            "high_privilege_scopes": ["Mail.Read", "Mail.ReadWrite", "Mail.Send", "MailboxSettings.ReadWrite",
                                      "Files.Read.All", "Files.ReadWrite.All", "Sites.ReadWrite.All",
                                      "Directory.ReadWrite.All", "User.ReadWrite.All", "EWS.AccessAsUser.All",
                                      "full_access_as_user", "Contacts.Read", "Notes.Read.All"]},
    sql=_sql,
)
