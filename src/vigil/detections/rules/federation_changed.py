"""Domain federation or authentication settings changed (Golden SAML / backdoor IdP)."""
from __future__ import annotations

from vigil.detections.base import Detection, Params
from vigil.detections.rules.audit_changes import change_sql


def _sql(p: Params) -> str:
    return change_sql(
        f"d.operation in {p.strs('operations')}",
        "'high'",
        "d.operation || ' by ' || coalesce(d.actor_upn, 'an unknown actor') || ' on '"
        " || coalesce(d.target_display_name, 'a domain') || ': tokens signed by the federated identity provider are"
        " now trusted for every user of the domain'",
        subject="actor")


DETECTION = Detection(
    id="domainFederationChanged",
    title="Domain federation settings changed",
    description=(
        "A domain was converted to federated, its federation settings (issuer, signing certificate) changed, or a "
        "new federation configuration added: an attacker with Global or Hybrid Identity Administrator rights makes "
        "the tenant trust an identity provider they control and mints tokens for any user, MFA claims included. "
        "Always high: such changes are rare and planned. Entra has no riskEventType for it."
    ),
    entra_risk_event_type=None,
    mitre=("T1484.002",),
    levels=("high",),
    level_rules="always high",
    timing="offline",
    activity="user",
    requires=("directory_events",),
    params={"operations": ["Set domain authentication", "Set federation settings on domain",
                           "Add domain federation configuration", "Update domain federation configuration",
                           "Add federation configuration", "Update federation configuration"]},
    sql=_sql,
)
