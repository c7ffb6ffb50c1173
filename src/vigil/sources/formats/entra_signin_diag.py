"""Entra ID sign-ins as Azure Monitor diagnostic-settings records (event hub / storage):
``{"time", "category": "SignInLogs" | "NonInteractiveUserSignInLogs" |
"ServicePrincipalSignInLogs" | "ManagedIdentitySignInLogs" | ..., "properties": {...}}``,
one per line or wrapped in ``{"records": [...]}``.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vigil.sources._base import SourceSpec
from vigil.sources.formats._entra import entra_columns

CATEGORY_TABLE = {
    "SignInLogs": "SigninLogs",
    "NonInteractiveUserSignInLogs": "AADNonInteractiveUserSignInLogs",
    "ServicePrincipalSignInLogs": "AADServicePrincipalSignInLogs",
    "MicrosoftServicePrincipalSignInLogs": "MicrosoftServicePrincipalSignInLogs",
    "ManagedIdentitySignInLogs": "AADManagedIdentitySignInLogs",
    "ADFSSignInLogs": "ADFSSignInLogs",
}


def detect(r: Mapping[str, Any]) -> bool:
    return r.get("category") in CATEGORY_TABLE


_cases = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in CATEGORY_TABLE.items())
# no `properties.status` (seen in exported SignInLogs): the envelope's resultType is the result
_columns = entra_columns("camel", "$.properties.", envelope_code="{$.resultType}")
_columns["tenant_id"] = "coalesce(nullif({$.tenantId}, ''), nullif({$.properties.homeTenantId}, ''))"
_columns["country"] = "upper(coalesce(nullif(json_extract_string({$.properties.location}, '$.countryOrRegion'), ''), " \
                      "nullif({$.location}, '')))"
_columns["ip"] = "vigil_ip(coalesce(nullif({$.properties.ipAddress}, ''), {$.callerIpAddress}))"

SOURCE = SourceSpec(
    name="entra_signin_diag",
    title="Entra ID sign-ins, Azure Monitor diagnostic-settings records",
    target="signins",
    detect=detect,
    columns=_columns,
    record_id="coalesce(nullif({$.properties.id}, ''), nullif({$.properties.originalRequestId}, ''))",
    time="coalesce(nullif({$.properties.createdDateTime}, ''), {$.time})",
    source_table=f"CASE {{$.category}} {_cases} ELSE {{$.category}} END",
    accept_when="{$.category} IN (" + ", ".join(f"'{k}'" for k in CATEGORY_TABLE) + ") AND {$.properties} IS NOT NULL",
    accept_reason="not a sign-in diagnostic record: category is not a sign-in category, or there are no "
                  "`properties` (only time and category)",
)
