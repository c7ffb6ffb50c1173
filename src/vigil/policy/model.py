"""The conditionalAccessPolicy model (Graph v1.0, plus beta ``continuousAccessEvaluation``).

Field names follow Graph in snake_case; enumerations keep Graph's spellings. Parsing with
validation lives in :mod:`vigil.policy.parse`; evaluation in :mod:`vigil.policy.evaluate`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vigil.policy.devicefilter import DeviceFilter

STATES = ("enabled", "disabled", "enabledForReportingButNotEnforced")
CLIENT_APP_TYPES = ("all", "browser", "mobileAppsAndDesktopClients", "exchangeActiveSync", "easSupported", "other")
PLATFORMS = ("android", "iOS", "windows", "windowsPhone", "macOS", "linux", "all")
RISK_LEVELS = ("low", "medium", "high", "hidden", "none")
SP_RISK_LEVELS = ("low", "medium", "high", "none")
INSIDER_RISK_LEVELS = ("minor", "moderate", "elevated")
TRANSFER_METHODS = ("none", "deviceCodeFlow", "authenticationTransfer")
GUEST_TYPES = ("none", "internalGuest", "b2bCollaborationGuest", "b2bCollaborationMember", "b2bDirectConnectUser",
               "otherExternalUser", "serviceProvider")
USER_ACTIONS = ("urn:user:registersecurityinfo", "urn:user:registerdevice")
BUILT_IN_CONTROLS = ("block", "mfa", "compliantDevice", "domainJoinedDevice", "approvedApplication",
                     "compliantApplication", "passwordChange", "riskRemediation")
#: the prompt order Entra documents for unmet grant controls (CA-POL phase 2)
CONTROL_ORDER = ("block", "mfa", "authenticationStrength", "compliantDevice", "domainJoinedDevice",
                 "approvedApplication", "compliantApplication", "passwordChange", "riskRemediation", "termsOfUse",
                 "customAuthenticationFactors")
#: names Entra writes in appliedConditionalAccessPolicies.enforcedGrantControls
ENFORCED_GRANT_NAMES = {
    "block": "Block", "mfa": "Mfa", "compliantDevice": "RequireCompliantDevice",
    "domainJoinedDevice": "RequireDomainJoinedDevice", "approvedApplication": "RequireApprovedApp",
    "compliantApplication": "RequireCompliantApp", "passwordChange": "RequirePasswordChange",
    "riskRemediation": "RiskRemediation", "authenticationStrength": "AuthenticationStrength",
}
ALL_USERS, NONE, GUESTS = "All", "None", "GuestsOrExternalUsers"
ALL_APPS = "All"
ALL_LOCATIONS, ALL_TRUSTED = "All", "AllTrusted"
#: the built-in location id policies use for legacy "MFA trusted IPs"
MFA_TRUSTED_IPS_ID = "00000000-0000-0000-0000-000000000000"


@dataclass(frozen=True)
class ExternalTenants:
    membership_kind: str  # all | enumerated
    members: frozenset[str] = frozenset()


@dataclass(frozen=True)
class GuestsOrExternalUsers:
    types: frozenset[str]
    external_tenants: ExternalTenants | None = None


@dataclass(frozen=True)
class Users:
    include_users: frozenset[str] = frozenset()
    exclude_users: frozenset[str] = frozenset()
    include_groups: frozenset[str] = frozenset()
    exclude_groups: frozenset[str] = frozenset()
    include_roles: frozenset[str] = frozenset()
    exclude_roles: frozenset[str] = frozenset()
    include_guests: GuestsOrExternalUsers | None = None
    exclude_guests: GuestsOrExternalUsers | None = None

    @property
    def configured(self) -> bool:
        return bool(self.include_users or self.include_groups or self.include_roles or self.include_guests)


@dataclass(frozen=True)
class ClientApplications:
    """Workload-identity targeting (service principals)."""

    include_service_principals: frozenset[str] = frozenset()
    exclude_service_principals: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Applications:
    include_applications: frozenset[str] = frozenset()
    exclude_applications: frozenset[str] = frozenset()
    include_user_actions: frozenset[str] = frozenset()
    include_auth_context: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Locations:
    include_locations: frozenset[str] = frozenset()
    exclude_locations: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Platforms:
    include_platforms: frozenset[str] = frozenset()
    exclude_platforms: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Devices:
    device_filter: DeviceFilter | None = None
    include_devices: frozenset[str] = frozenset()  # beta, deprecated: "All"
    exclude_devices: frozenset[str] = frozenset()  # beta, deprecated: Compliant, DomainJoined


@dataclass(frozen=True)
class Conditions:
    users: Users | None = None
    client_applications: ClientApplications | None = None
    applications: Applications | None = None
    client_app_types: frozenset[str] = frozenset()
    locations: Locations | None = None
    platforms: Platforms | None = None
    devices: Devices | None = None
    sign_in_risk_levels: frozenset[str] = frozenset()
    user_risk_levels: frozenset[str] = frozenset()
    service_principal_risk_levels: frozenset[str] = frozenset()
    insider_risk_levels: frozenset[str] = frozenset()
    transfer_methods: frozenset[str] | None = None  # authenticationFlows.transferMethods


@dataclass(frozen=True)
class AuthenticationStrength:
    id: str | None
    display_name: str | None
    allowed_combinations: tuple[frozenset[str], ...]


@dataclass(frozen=True)
class GrantControls:
    operator: str  # AND | OR
    built_in: tuple[str, ...] = ()
    custom_factors: tuple[str, ...] = ()
    terms_of_use: tuple[str, ...] = ()
    authentication_strength: AuthenticationStrength | None = None

    def control_names(self) -> list[str]:
        """Every required control in Entra's documented order."""
        out = [c for c in CONTROL_ORDER if c in self.built_in]
        if self.authentication_strength is not None:
            out.insert(out.index("mfa") + 1 if "mfa" in out else (1 if "block" in out else 0), "authenticationStrength")
        if self.terms_of_use:
            out.append("termsOfUse")
        if self.custom_factors:
            out.append("customAuthenticationFactors")
        return out

    def enforced_names(self) -> list[str]:
        names = [ENFORCED_GRANT_NAMES[c] for c in self.control_names() if c in ENFORCED_GRANT_NAMES]
        return names + list(self.terms_of_use) + list(self.custom_factors)


@dataclass(frozen=True)
class SignInFrequency:
    is_enabled: bool
    value: int | None
    type: str | None  # days | hours
    authentication_type: str  # primaryAndSecondaryAuthentication | secondaryAuthentication
    frequency_interval: str  # timeBased | everyTime

    @property
    def seconds(self) -> int | None:
        """Re-authentication interval in seconds; 0 for every time; None when disabled."""
        if not self.is_enabled:
            return None
        if self.frequency_interval == "everyTime":
            return 0
        assert self.value is not None and self.type is not None
        return self.value * (86400 if self.type == "days" else 3600)


@dataclass(frozen=True)
class SessionControls:
    application_enforced_restrictions: bool = False
    cloud_app_security: str | None = None  # mcasConfigured | monitorOnly | blockDownloads (when enabled)
    sign_in_frequency: SignInFrequency | None = None
    persistent_browser: str | None = None  # always | never (when enabled)
    continuous_access_evaluation: str | None = None  # strictEnforcement | disabled | strictLocation
    disable_resilience_defaults: bool = False
    secure_sign_in_session: bool = False

    def enforced_names(self) -> list[str]:
        """Names as Entra writes them in enforcedSessionControls."""
        out = []
        if self.application_enforced_restrictions:
            out.append("AppEnforced")
        if self.cloud_app_security:
            out.append("CloudAppSecurity")
        if self.sign_in_frequency is not None and self.sign_in_frequency.is_enabled:
            out.append("SignInFrequency")
        if self.persistent_browser:
            out.append("PersistentBrowserSessionMode")
        if self.continuous_access_evaluation:
            out.append("ContinuousAccessEvaluation")
        if self.disable_resilience_defaults:
            out.append("DisableResilienceDefaults")
        if self.secure_sign_in_session:
            out.append("SecureSignInSession")
        return out


@dataclass(frozen=True)
class Policy:
    id: str
    display_name: str
    state: str
    conditions: Conditions
    grant_controls: GrantControls | None = None
    session_controls: SessionControls | None = None
    description: str | None = None
    source: str | None = None  # file:$.value[i]
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def enforced(self) -> bool:
        return self.state == "enabled"

    @property
    def report_only(self) -> bool:
        return self.state == "enabledForReportingButNotEnforced"

    def location_ids(self) -> set[str]:
        loc = self.conditions.locations
        if loc is None:
            return set()
        return {i for i in loc.include_locations | loc.exclude_locations if i not in (ALL_LOCATIONS, ALL_TRUSTED)}
