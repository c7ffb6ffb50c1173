"""A sign-in as conditional access sees it, and normalisation from log spellings.

Everything the evaluator reads is here; what the sign-in already proves (MFA claim,
authentication methods, accepted terms ...) decides whether grant controls are satisfied.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from vigil.errors import InputError
from vigil.policy.catalog import SIGNIN_METHOD_MODES
from vigil.policy.model import GUEST_TYPES, INSIDER_RISK_LEVELS, RISK_LEVELS, TRANSFER_METHODS, USER_ACTIONS

PLATFORM_VALUES = ("android", "iOS", "windows", "windowsPhone", "macOS", "linux")
CLIENT_APP_VALUES = ("browser", "mobileAppsAndDesktopClients", "exchangeActiveSync", "other")


@dataclass(frozen=True)
class SignInContext:
    # who
    user_id: str | None = None
    user_principal_name: str | None = None
    user_type: str = "Member"  # Member | Guest
    external_user_type: str | None = None  # a guestOrExternalUserTypes member, for guests / external users
    external_tenant_id: str | None = None
    groups: frozenset[str] = frozenset()  # group ids and/or display names
    roles: frozenset[str] = frozenset()  # role template ids and/or built-in role names
    service_principal_id: str | None = None  # workload-identity sign-ins
    # what
    application_id: str | None = None  # target resource (cloud app) id
    application_name: str | None = None
    user_action: str | None = None  # urn:user:registersecurityinfo | urn:user:registerdevice
    authentication_context: frozenset[str] = frozenset()  # c1..c99 requested
    # where / how
    ip: str | None = None
    resource_ip: str | None = None  # IP seen by the resource provider (CAE), when it differs
    country: str | None = None  # ISO 3166 alpha-2 from IP geolocation
    gps_country: str | None = None  # from Authenticator GPS (countryLookupMethod authenticatorAppGps)
    platform: str | None = None  # android | iOS | windows | windowsPhone | macOS | linux | None (unknown)
    client_app_type: str = "browser"
    device: Mapping[str, Any] = field(default_factory=dict)  # device-filter attributes (see devicefilter)
    authentication_flow: str = "none"  # none | deviceCodeFlow | authenticationTransfer
    # for real-time risk scoring only (conditional access conditions never read them)
    user_agent: str | None = None
    session_id: str | None = None  # the session the presented token belongs to (sid claim)
    interactive: bool = True
    # risk
    sign_in_risk: str = "none"
    user_risk: str = "none"
    service_principal_risk: str = "none"
    insider_risk: str | None = None
    # what the sign-in already satisfies
    mfa_satisfied: bool = False
    authentication_methods: frozenset[str] = frozenset()  # authenticationMethodModes used
    password_changed: bool = False
    risk_remediated: bool = False
    approved_client_app: bool = False
    app_protection_policy: bool = False
    terms_of_use_accepted: frozenset[str] = frozenset()
    custom_factors_satisfied: frozenset[str] = frozenset()

    @property
    def is_guest(self) -> bool:
        return self.user_type.lower() == "guest" or self.external_user_type not in (None, "none")

    @property
    def device_compliant(self) -> bool:
        return str(self.device.get("isCompliant") or "").lower() == "true"

    @property
    def device_hybrid_joined(self) -> bool:
        return self.device.get("trustType") == "ServerAD"

    def with_(self, **changes: Any) -> SignInContext:
        return replace(self, **changes)


_FIELDS = {f.name for f in fields(SignInContext)}
_SET_FIELDS = {"groups", "roles", "authentication_context", "authentication_methods", "terms_of_use_accepted",
               "custom_factors_satisfied"}


def context_from_mapping(data: Mapping[str, Any]) -> SignInContext:
    """Build and validate a context from plain values (API bodies, CLI options, replay rows)."""
    unknown = set(data) - _FIELDS
    if unknown:
        raise InputError(f"unknown sign-in context field(s): {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {k: v for k, v in data.items() if v is not None}
    for key in _SET_FIELDS & set(values):
        values[key] = frozenset(values[key])
    if "platform" in values:
        values["platform"] = normalize_platform(values["platform"], strict=True)
    if "client_app_type" in values:
        values["client_app_type"] = normalize_client_app(values["client_app_type"], strict=True)
    for key in ("sign_in_risk", "user_risk", "service_principal_risk"):
        if key in values:
            values[key] = normalize_risk(values[key], key)
    _check_choice(values, "insider_risk", INSIDER_RISK_LEVELS)
    _check_choice(values, "authentication_flow", TRANSFER_METHODS)
    _check_choice(values, "user_action", USER_ACTIONS)
    _check_choice(values, "external_user_type", GUEST_TYPES)
    if "authentication_methods" in values:
        values["authentication_methods"] = frozenset(normalize_method(m) for m in values["authentication_methods"])
    for key in ("country", "gps_country"):
        if key in values:
            values[key] = str(values[key]).strip().upper() or None
    return SignInContext(**values)


def _check_choice(values: dict[str, Any], key: str, choices: tuple[str, ...]) -> None:
    if key in values and values[key] not in choices:
        raise InputError(f"{key} {values[key]!r} is not one of {', '.join(choices)}")


def normalize_risk(value: str | None, what: str = "risk level") -> str:
    text = (value or "none").strip().lower()
    if text not in RISK_LEVELS:
        raise InputError(f"{what} {value!r} is not one of {', '.join(RISK_LEVELS)}")
    return text


_PLATFORM_PREFIXES = (("windows phone", "windowsPhone"), ("windows", "windows"), ("ios", "iOS"),
                      ("ipados", "iOS"), ("iphone", "iOS"), ("ipad", "iOS"), ("android", "android"),
                      ("macos", "macOS"), ("mac os", "macOS"), ("os x", "macOS"), ("macintosh", "macOS"),
                      ("linux", "linux"), ("ubuntu", "linux"))


def normalize_platform(value: str | None, *, strict: bool = False) -> str | None:
    """A CA device platform from an OS string ("Windows 10", "Ios", "MacOs" ...); None when unknown
    (an unknown platform is matched only by ``all``)."""
    if value is None:
        return None
    text = value.strip().lower()
    for canon in PLATFORM_VALUES:
        if text == canon.lower():
            return canon
    for prefix, canon in _PLATFORM_PREFIXES:
        if text.startswith(prefix):
            return canon
    if strict:
        raise InputError(f"platform {value!r} is not one of {', '.join(PLATFORM_VALUES)}")
    return None


_LEGACY = {"exchange activesync": "exchangeActiveSync", "browser": "browser",
           "mobile apps and desktop clients": "mobileAppsAndDesktopClients", "modern clients":
           "mobileAppsAndDesktopClients"}


def normalize_client_app(value: str | None, *, strict: bool = False) -> str:
    """Map ClientAppUsed ("Browser", "Exchange ActiveSync", "IMAP4", ...) to a CA client app type;
    every legacy-authentication protocol other than EAS is ``other``."""
    if value is None or not value.strip():
        return "browser" if not strict else _bad_client(value)
    text = value.strip()
    if text in CLIENT_APP_VALUES:
        return text
    mapped = _LEGACY.get(text.lower())
    if mapped:
        return mapped
    if strict and text.lower() not in ("other", "other clients"):
        return _bad_client(value)
    return "other"


def _bad_client(value: str | None) -> str:
    raise InputError(f"client app type {value!r} is not one of {', '.join(CLIENT_APP_VALUES)}")


def normalize_method(value: str) -> str:
    """An authenticationMethodModes name from a mode or a sign-in-log method name."""
    from vigil.policy.catalog import AUTH_METHOD_MODES

    if value in AUTH_METHOD_MODES:
        return value
    mapped = SIGNIN_METHOD_MODES.get(value.strip().casefold())
    if mapped is None:
        raise InputError(f"authentication method {value!r} is not an authenticationMethodModes value "
                         "or a known sign-in log method name")
    return mapped


def transfer_method(auth_protocol: str | None) -> str:
    """authenticationFlows transfer method from the sign-in's authentication protocol."""
    text = (auth_protocol or "").strip().lower()
    if text in ("devicecode", "device code", "devicecodeflow"):
        return "deviceCodeFlow"
    if text in ("authenticationtransfer", "authentication transfer"):
        return "authenticationTransfer"
    return "none"
