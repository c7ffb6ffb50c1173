"""Entra ID sign-ins from Microsoft Graph (``/auditLogs/signIns``, v1.0 and beta):
single objects or ``value`` pages. beta adds ``sessionId``, ``uniqueTokenIdentifier``,
``incomingTokenType`` and ``autonomousSystemNumber``; v1.0 has none of them.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vigil.sources._base import SourceSpec
from vigil.sources.formats._entra import entra_columns


def detect(r: Mapping[str, Any]) -> bool:
    return "createdDateTime" in r and "appDisplayName" in r and "status" in r and "properties" not in r


_columns = entra_columns("camel", "$.")
_columns["tenant_id"] = "coalesce(nullif({$.homeTenantId}, ''), nullif({$.resourceTenantId}, ''))"

SOURCE = SourceSpec(
    name="entra_signin_graph",
    title="Entra ID sign-ins, Microsoft Graph signIn (v1.0 and beta)",
    target="signins",
    detect=detect,
    columns=_columns,
    record_id="{$.id}",
    time="{$.createdDateTime}",
    source_table=(
        "CASE WHEN {$.signInEventTypes} LIKE '%nonInteractiveUser%' THEN 'AADNonInteractiveUserSignInLogs' "
        "WHEN {$.signInEventTypes} LIKE '%servicePrincipal%' THEN 'AADServicePrincipalSignInLogs' "
        "WHEN {$.signInEventTypes} LIKE '%managedIdentity%' THEN 'AADManagedIdentitySignInLogs' "
        "WHEN vigil_bool({$.isInteractive}) = FALSE THEN 'AADNonInteractiveUserSignInLogs' ELSE 'SigninLogs' END"
    ),
)
