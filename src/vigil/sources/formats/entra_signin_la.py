"""Entra ID sign-ins as exported from Log Analytics / Sentinel (``SigninLogs``,
``AADNonInteractiveUserSignInLogs``, ``AADServicePrincipalSignInLogs``,
``AADManagedIdentitySignInLogs``): JSON, NDJSON, or the portal's CSV.

The non-interactive table types ``DeviceDetail``, ``LocationDetails``, ``Status`` and
``ConditionalAccessPolicies`` as strings holding JSON; the mapping reads both shapes.
Portal CSVs add ``*_dynamic`` / ``*_string`` twins and `` [UTC]`` header suffixes; the
reader folds those onto the column name.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vigil.sources._base import SourceSpec
from vigil.sources.formats._entra import entra_columns

TABLES = ("SigninLogs", "AADNonInteractiveUserSignInLogs", "AADServicePrincipalSignInLogs",
          "AADManagedIdentitySignInLogs", "ADFSSignInLogs")


def detect(r: Mapping[str, Any]) -> bool:
    if r.get("Type") in TABLES:
        return True
    status = r.get("Status")
    if isinstance(status, dict) and "ErrorCode" in status:
        return False  # Graph PowerShell SDK objects (PascalCase inside too): entra_signin_sdk
    return "properties" not in r and "IPAddress" in r and "AppDisplayName" in r and (
        "UserPrincipalName" in r or "ServicePrincipalName" in r
    )


SOURCE = SourceSpec(
    name="entra_signin_la",
    title="Entra ID sign-ins, Log Analytics / Sentinel export (JSON, NDJSON, CSV)",
    target="signins",
    detect=detect,
    columns=entra_columns("la", "$."),
    record_id="{$.Id}",
    # some portal CSVs have no time column at all; the first authentication step's time is the sign-in's
    time="coalesce(nullif({$.TimeGenerated}, ''), nullif({$.CreatedDateTime}, ''), "
         "json_extract_string(vigil_jtext({$.AuthenticationDetails}), '$[0].authenticationStepDateTime'))",
    source_table=(
        "coalesce(nullif({$.Type}, ''), CASE WHEN {$.Category} = 'NonInteractiveUserSignInLogs' "
        "THEN 'AADNonInteractiveUserSignInLogs' WHEN {$.Category} = 'ServicePrincipalSignInLogs' "
        "THEN 'AADServicePrincipalSignInLogs' WHEN {$.Category} = 'ManagedIdentitySignInLogs' "
        "THEN 'AADManagedIdentitySignInLogs' ELSE 'SigninLogs' END)"
    ),
    accept_when="{$.AppDisplayName} IS NOT NULL OR {$.UserPrincipalName} IS NOT NULL OR {$.IPAddress} IS NOT NULL",
    accept_reason="not a sign-in: no AppDisplayName, UserPrincipalName or IPAddress",
)
