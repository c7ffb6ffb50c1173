"""One check per conditional-access condition, each explaining itself.

A :class:`Check` names the condition twice: as Entra's ``conditionalAccessConditions`` flag
(used in ``conditionsSatisfied`` / ``conditionsNotSatisfied`` of the sign-in log) and as the
``whatIfAnalysisReasons`` member the Graph ``evaluate`` action returns when it is the first
condition that does not hold. Checks run in :data:`ORDER`; assignments are ANDed.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any, NamedTuple

from vigil.policy import catalog
from vigil.policy.context import SignInContext
from vigil.locations.ip import parse_ip
from vigil.locations.named import CountryNamedLocation, IpNamedLocation, NamedLocations
from vigil.policy.model import (
    ALL_LOCATIONS, ALL_TRUSTED, GUESTS, MFA_TRUSTED_IPS_ID, Conditions, GuestsOrExternalUsers, Policy, Users,
)

#: conditionalAccessConditions flag values (Log Analytics writes the sum as an integer)
CONDITION_BITS = {
    "application": 1, "users": 2, "devicePlatform": 4, "location": 8, "clientType": 16, "signInRisk": 32,
    "userRisk": 64, "time": 128, "deviceState": 256, "client": 512, "ipAddressSeenByAzureAD": 1024,
    "ipAddressSeenByResourceProvider": 2048, "servicePrincipals": 8192, "servicePrincipalRisk": 16384,
    "authenticationFlows": 32768, "insiderRisk": 65536,
}


class Check(NamedTuple):
    """One condition's verdict (a NamedTuple: thousands are built per second at the decision point)."""

    condition: str  # conditionalAccessConditions flag
    whatif: str  # whatIfAnalysisReasons member
    satisfied: bool
    reason: str
    include_rule: str | None = None  # what matched the include side (includeRulesSatisfied)
    exclude_rule: str | None = None  # what matched the exclude side (excludeRulesSatisfied)


class LocationState:
    """Which named locations a sign-in is in, computed once per sign-in."""

    def __init__(self, ctx: SignInContext, locations: NamedLocations, mfa_trusted: IpNamedLocation | None) -> None:
        self.ip = parse_ip(ctx.ip)
        self.known = self.ip is not None or bool(ctx.country)
        self.ids: set[str] = set()
        trusted = False
        for loc in locations:
            if isinstance(loc, IpNamedLocation):
                if self.ip is not None and loc.contains_ip(self.ip):
                    self.ids.add(loc.id)
                    trusted = trusted or loc.is_trusted
            elif isinstance(loc, CountryNamedLocation):
                country = ctx.gps_country if loc.country_lookup_method == "authenticatorAppGps" else ctx.country
                if loc.contains_country(country):
                    self.ids.add(loc.id)
        if mfa_trusted is not None and self.ip is not None and mfa_trusted.contains_ip(self.ip):
            self.ids.add(MFA_TRUSTED_IPS_ID)
            trusted = True
        self.trusted = trusted

    def matches(self, location_id: str) -> bool:
        if location_id == ALL_LOCATIONS:
            return True
        if location_id == ALL_TRUSTED:
            return self.trusted
        return location_id in self.ids


@lru_cache(maxsize=4096)
def _listed(values: frozenset[str]) -> str:
    """Sorted, comma-separated (cached: reasons name the same policy sets again and again)."""
    return ", ".join(sorted(values))


@lru_cache(maxsize=8192)
def _norm(values: frozenset[str]) -> frozenset[str]:
    """Case-folded copy (cached: policies and users repeat the same sets)."""
    return frozenset(v.casefold() for v in values)


def _guest_match(spec: GuestsOrExternalUsers | None, ctx: SignInContext) -> bool:
    if spec is None or not ctx.is_guest:
        return False
    kind = ctx.external_user_type or "b2bCollaborationGuest"
    if kind not in spec.types:
        return False
    tenants = spec.external_tenants
    if tenants is None or tenants.membership_kind == "all" or kind == "internalGuest":
        return True
    return (ctx.external_tenant_id or "").lower() in {m.lower() for m in tenants.members}


@lru_cache(maxsize=8192)
def _role_ids(roles: frozenset[str]) -> frozenset[str]:
    """Role template ids (case-folded) of role ids and/or built-in role names."""
    return frozenset(catalog.ROLE_TEMPLATE_IDS.get(r.casefold(), r).casefold() for r in roles)


def _user_side(users_: frozenset[str], groups: frozenset[str], roles: frozenset[str],
               guests: GuestsOrExternalUsers | None, ctx: SignInContext) -> str | None:
    """Which rule puts the user on this side (include or exclude), or None."""
    if "All" in users_:
        return "allUsers"
    if users_:
        folded = _norm(users_)
        if any(x and x.casefold() in folded for x in (ctx.user_id, ctx.user_principal_name)):
            return "userId"
    if GUESTS in users_ and ctx.is_guest:
        return "guestsOrExternalUsers"
    if groups and ctx.groups and _norm(groups) & _norm(ctx.groups):
        return "groupId"
    if roles and _norm(roles) & _role_ids(ctx.roles):
        return "roleId"
    if _guest_match(guests, ctx):
        return "guestsOrExternalUserTypes"
    return None


def check_users(cond: Conditions, ctx: SignInContext) -> Check:
    if ctx.service_principal_id:
        apps = cond.client_applications
        if apps is None or not apps.include_service_principals:
            return Check("users", "users", False, "policy targets users; this is a workload-identity sign-in")
        sp = ctx.service_principal_id.casefold()
        sp_in = "ServicePrincipalsInMyTenant" in apps.include_service_principals or sp in _norm(
            apps.include_service_principals)
        sp_out = sp in _norm(apps.exclude_service_principals)
        ok = sp_in and not sp_out
        why = ("service principal included" if ok else "service principal excluded" if sp_out
               else "service principal not included")
        return Check("servicePrincipals", "workloadIdentities", ok, why, "servicePrincipal" if sp_in else None,
                     "servicePrincipal" if sp_out else None)
    u: Users | None = cond.users
    if u is None or not u.configured:
        return Check("users", "workloadIdentities" if cond.client_applications else "users", False,
                     "policy targets workload identities, not users" if cond.client_applications
                     else "policy includes no users")
    who = ctx.user_principal_name or ctx.user_id or "the user"
    inc = _user_side(u.include_users, u.include_groups, u.include_roles, u.include_guests, ctx)
    if inc is None:
        return Check("users", "users", False, f"{who} is not in the included users, groups or roles")
    exc = _user_side(u.exclude_users, u.exclude_groups, u.exclude_roles, u.exclude_guests, ctx)
    if exc is not None:
        return Check("users", "users", False, f"{who} is excluded ({exc})", inc, exc)
    return Check("users", "users", True, f"{who} is included ({inc})", inc)


def check_application(cond: Conditions, ctx: SignInContext) -> Check:
    a = cond.applications
    assert a is not None
    if ctx.user_action:
        if not a.include_user_actions:
            return Check("application", "userActions", False,
                         f"policy targets resources; the sign-in is the user action {ctx.user_action}")
        ok = ctx.user_action in a.include_user_actions
        return Check("application", "userActions", ok, f"user action {ctx.user_action} "
                     + ("is targeted" if ok else "is not targeted"), "userAction" if ok else None)
    if a.include_user_actions:
        return Check("application", "userActions", False,
                     "policy targets user action(s) " + _listed(a.include_user_actions))
    if a.include_auth_context:
        hit = sorted(a.include_auth_context & ctx.authentication_context)
        return Check("application", "authenticationContext", bool(hit),
                     f"authentication context {', '.join(hit)} requested" if hit
                     else "authentication context(s) " + _listed(a.include_auth_context) + " not requested",
                     "authenticationContext" if hit else None)
    app = ctx.application_id or ctx.application_name or "the application"
    inc_apps = _norm(a.include_applications)
    app_id = (ctx.application_id or "").casefold()
    inc: str | None = None
    if "all" in inc_apps:
        inc = "allApps"
    elif app_id and app_id in inc_apps:
        inc = "appId"
    elif catalog.OFFICE365.casefold() in inc_apps and catalog.in_app_group(
            catalog.OFFICE365, ctx.application_id, ctx.application_name):
        inc = "office365"
    elif catalog.ADMIN_PORTALS.casefold() in inc_apps and catalog.in_app_group(
            catalog.ADMIN_PORTALS, ctx.application_id, ctx.application_name):
        inc = "microsoftAdminPortals"
    if inc is None:
        return Check("application", "application", False, f"{app} is not an included resource")
    exc_apps = _norm(a.exclude_applications)
    exc = None
    if app_id and app_id in exc_apps:
        exc = "appId"
    elif catalog.OFFICE365.casefold() in exc_apps and catalog.in_app_group(
            catalog.OFFICE365, ctx.application_id, ctx.application_name):
        exc = "office365"
    elif catalog.ADMIN_PORTALS.casefold() in exc_apps and catalog.in_app_group(
            catalog.ADMIN_PORTALS, ctx.application_id, ctx.application_name):
        exc = "microsoftAdminPortals"
    if exc is not None:
        return Check("application", "application", False, f"{app} is excluded ({exc})", inc, exc)
    return Check("application", "application", True, f"{app} is included ({inc})", inc)


def check_platform(cond: Conditions, ctx: SignInContext) -> Check | None:
    p = cond.platforms
    if p is None:
        return None
    plat = ctx.platform
    inc = "all" in p.include_platforms or (plat is not None and plat in p.include_platforms)
    if not inc:
        return Check("devicePlatform", "devicePlatform", False,
                     f"platform {plat or 'unknown'} is not included ({_listed(p.include_platforms)})")
    if plat is not None and plat in p.exclude_platforms:
        return Check("devicePlatform", "devicePlatform", False, f"platform {plat} is excluded", "platform",
                     "platform")
    return Check("devicePlatform", "devicePlatform", True, f"platform {plat or 'unknown'} is included", "platform")


def check_devices(cond: Conditions, ctx: SignInContext) -> Check | None:
    d = cond.devices
    if d is None:
        return None
    if d.device_filter is not None:
        f = d.device_filter
        matched = f.matches(ctx.device)
        ok = matched if f.mode == "include" else not matched
        state = "registered" if ctx.device.get("deviceId") else "unregistered (all properties null)"
        why = (f"device ({state}) {'matches' if matched else 'does not match'} filter {f.rule!r} "
               f"in {f.mode} mode")
        return Check("deviceState", "devices", ok, why, "deviceFilter" if ok else None,
                     "deviceFilter" if not ok else None)
    excluded = ("Compliant" in d.exclude_devices and ctx.device_compliant) or (
        "DomainJoined" in d.exclude_devices and ctx.device_hybrid_joined)
    return Check("deviceState", "devices", not excluded,
                 "device state is excluded" if excluded else "device state is included")


def check_client_app(cond: Conditions, ctx: SignInContext) -> Check | None:
    types = cond.client_app_types
    if not types:
        return None
    ca = ctx.client_app_type
    ok = "all" in types or ca in types or (ca == "exchangeActiveSync" and "easSupported" in types)
    return Check("clientType", "clientApps", ok,
                 f"client app {ca} is {'included' if ok else 'not included'} ({_listed(types)})",
                 "clientType" if ok else None)


def check_location(cond: Conditions, ctx: SignInContext, state: Callable[[], LocationState],
                   names: NamedLocations) -> Check | None:
    loc = cond.locations
    if loc is None or not loc.include_locations:
        return None
    st = state()
    where = ctx.ip or (f"country {ctx.country}" if ctx.country else "unknown location")

    def label(i: str) -> str:
        found = names.get(i)
        return found.display_name if found is not None else ("MFA trusted IPs" if i == MFA_TRUSTED_IPS_ID else i)

    inc = next((i for i in sorted(loc.include_locations) if st.matches(i)), None)
    if inc is None:
        return Check("location", "location", False, f"{where} is in none of the included locations ("
                     + ", ".join(label(i) for i in sorted(loc.include_locations)) + ")")
    exc = next((i for i in sorted(loc.exclude_locations) if st.matches(i)), None)
    if exc is not None:
        return Check("location", "location", False, f"{where} is in excluded location {label(exc)}", label(inc),
                     label(exc))
    return Check("location", "location", True, f"{where} is in included location {label(inc)}", label(inc))


def _levels(flag: str, whatif: str, levels: frozenset[str], level: str | None, what: str) -> Check | None:
    if not levels:
        return None
    ok = level is not None and level in levels
    return Check(flag, whatif, ok, f"{what} {level or 'unknown'} is {'' if ok else 'not '}one of "
                 + _listed(levels), flag if ok else None)


def condition_keys(policy: Policy, intern: dict[Any, int]) -> tuple[int, ...]:
    """Small ints naming each of ``policy``'s condition values; equal conditions of different
    policies get the same int, so one sign-in evaluates them once."""
    c = policy.conditions
    values = (("users", c.users, c.client_applications), ("apps", c.applications), ("platform", c.platforms),
              ("devices", c.devices), ("client", c.client_app_types), ("location", c.locations))
    return tuple(intern.setdefault(v, len(intern)) for v in values)


def run_checks(policy: Policy, ctx: SignInContext, state: Callable[[], LocationState], names: NamedLocations,
               memo: dict[int, Check | None] | None = None, keys: tuple[int, ...] | None = None) -> list[Check]:
    """The configured conditions of ``policy`` in evaluation order, stopping at the first one that
    is not satisfied (as Entra does: the sign-in log lists the conditions evaluated up to it).

    With ``memo`` (one per sign-in) and ``keys`` (:func:`condition_keys`), verdicts are shared
    between policies with equal conditions: most tenants repeat "All users except break-glass"
    and "All resources" across their policies."""
    c = policy.conditions
    if memo is None or keys is None:
        memo, keys = {}, condition_keys(policy, {})
    out: list[Check] = []
    # straight-line on purpose: this runs for every policy of every decision
    k_users, k_apps, k_platform, k_devices, k_client, k_location = keys
    if k_users in memo:
        first = memo[k_users]
    else:
        first = memo[k_users] = check_users(c, ctx)
    assert first is not None
    out.append(first)
    if not first.satisfied:
        return out
    if k_apps in memo:
        first = memo[k_apps]
    else:
        first = memo[k_apps] = check_application(c, ctx)
    assert first is not None
    out.append(first)
    if not first.satisfied:
        return out
    check: Check | None
    if c.platforms is not None or c.devices is not None or c.client_app_types or c.locations is not None:
        for key, fn in ((k_platform, check_platform), (k_devices, check_devices), (k_client, check_client_app)):
            if key in memo:
                check = memo[key]
            else:
                check = memo[key] = fn(c, ctx)
            if check is not None:
                out.append(check)
                if not check.satisfied:
                    return out
        if c.locations is not None:
            if k_location in memo:
                check = memo[k_location]
            else:
                check = memo[k_location] = check_location(c, ctx, state, names)
            if check is not None:
                out.append(check)
                if not check.satisfied:
                    return out
    if c.sign_in_risk_levels or c.user_risk_levels or c.service_principal_risk_levels or c.insider_risk_levels \
            or c.transfer_methods:
        for check in (
            _levels("signInRisk", "signInRisk", c.sign_in_risk_levels, ctx.sign_in_risk, "sign-in risk"),
            _levels("userRisk", "userRisk", c.user_risk_levels, ctx.user_risk, "user risk"),
            _levels("servicePrincipalRisk", "servicePrincipalRisk", c.service_principal_risk_levels,
                    ctx.service_principal_risk if ctx.service_principal_id else None, "service principal risk"),
            _levels("insiderRisk", "insiderRisk", c.insider_risk_levels, ctx.insider_risk, "insider risk"),
            _levels("authenticationFlows", "authenticationFlow", c.transfer_methods or frozenset(),
                    ctx.authentication_flow, "authentication flow"),
        ):
            if check is not None:
                out.append(check)
                if not check.satisfied:
                    return out
    return out
