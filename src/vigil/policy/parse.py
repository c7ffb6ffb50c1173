"""Graph ``conditionalAccessPolicy`` JSON -> :mod:`vigil.policy.model`, strictly.

Every property is either understood or the document is rejected with its JSON path and the
reason (:class:`vigil.errors.ConfigError`). Documented constraints are enforced too, e.g.
``passwordChange`` only with ``mfa`` via AND, user risk, all resources and no other condition.
"""
from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

from vigil.errors import ConfigError
from vigil.policy import catalog
from vigil.locations.graphdoc import Node, documents, flags, read_json
from vigil.policy.devicefilter import DeviceFilter, FilterSyntaxError, parse_rule
from vigil.policy.model import (
    BUILT_IN_CONTROLS, CLIENT_APP_TYPES, GUEST_TYPES, INSIDER_RISK_LEVELS, PLATFORMS, RISK_LEVELS, SP_RISK_LEVELS,
    STATES, TRANSFER_METHODS, USER_ACTIONS, Applications, AuthenticationStrength, ClientApplications, Conditions,
    Devices, ExternalTenants, GrantControls, GuestsOrExternalUsers, Locations, Platforms, Policy, SessionControls,
    SignInFrequency, Users,
)

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_AUTH_CONTEXT = re.compile(r"^c([1-9]|[1-9][0-9])$")
_POLICY_KEYS = ("id", "displayName", "description", "createdDateTime", "modifiedDateTime", "templateId", "state",
                "conditions", "grantControls", "sessionControls")
_CONDITION_KEYS = ("users", "applications", "clientApplications", "clientAppTypes", "locations", "platforms",
                   "devices", "signInRiskLevels", "userRiskLevels", "servicePrincipalRiskLevels",
                   "insiderRiskLevels", "authenticationFlows")
_APP_KEYWORDS = ("All", "None", catalog.OFFICE365, catalog.ADMIN_PORTALS)
_NOT_SUPPORTED = {
    "applicationFilter": "filters on custom security attributes of applications cannot be evaluated "
                         "without the tenant's attribute assignments",
    "servicePrincipalFilter": "filters on custom security attributes of service principals cannot be evaluated "
                              "without the tenant's attribute assignments",
}


def _fset(values: tuple[str, ...]) -> frozenset[str]:
    return frozenset(values)


def _ids(node: Node, key: str, keywords: tuple[str, ...] = ()) -> frozenset[str]:
    """Object ids (GUIDs) or the documented keywords; anything else is rejected."""
    values = node.strings(key)
    for i, v in enumerate(values):
        if v not in keywords and not _GUID.match(v):
            allowed = f" or one of {', '.join(keywords)}" if keywords else ""
            raise node.child(key).child(i).error(f"{v!r} is not an object id (GUID){allowed}")
    return frozenset(values)


def _guests(node: Node) -> GuestsOrExternalUsers | None:
    if node.value is None:
        return None
    node.obj(("guestOrExternalUserTypes", "externalTenants"), required=("guestOrExternalUserTypes",))
    types = flags(node, "guestOrExternalUserTypes", GUEST_TYPES)
    tenants = None
    tnode = node.child("externalTenants")
    if tnode.value is not None:
        tnode.obj(("membershipKind", "members"), required=("membershipKind",))
        kind = tnode.string("membershipKind", required=True, choices=("all", "enumerated"))
        members = _ids(tnode, "members")
        if kind == "enumerated" and not members:
            raise tnode.child("members").error("membershipKind enumerated needs at least one tenant id")
        tenants = ExternalTenants(str(kind), members)
    return GuestsOrExternalUsers(frozenset(t for t in types if t != "none"), tenants)


def _users(node: Node) -> Users | None:
    if node.value is None:
        return None
    node.obj(("includeUsers", "excludeUsers", "includeGroups", "excludeGroups", "includeRoles", "excludeRoles",
              "includeGuestsOrExternalUsers", "excludeGuestsOrExternalUsers"))
    kw = ("All", "None", "GuestsOrExternalUsers")
    return Users(
        include_users=_ids(node, "includeUsers", kw), exclude_users=_ids(node, "excludeUsers", kw[1:]),
        include_groups=_ids(node, "includeGroups"), exclude_groups=_ids(node, "excludeGroups"),
        include_roles=_ids(node, "includeRoles"), exclude_roles=_ids(node, "excludeRoles"),
        include_guests=_guests(node.child("includeGuestsOrExternalUsers")),
        exclude_guests=_guests(node.child("excludeGuestsOrExternalUsers")),
    )


def _applications(node: Node) -> Applications:
    for key, why in _NOT_SUPPORTED.items():
        if node.present(key):
            raise node.child(key).error(f"not supported: {why}")
    node.obj(("includeApplications", "excludeApplications", "includeUserActions",
              "includeAuthenticationContextClassReferences", "applicationFilter"))
    apps = Applications(
        include_applications=_ids(node, "includeApplications", _APP_KEYWORDS),
        exclude_applications=_ids(node, "excludeApplications", _APP_KEYWORDS[2:]),
        include_user_actions=_fset(node.strings("includeUserActions", choices=USER_ACTIONS)),
        include_auth_context=_fset(node.strings("includeAuthenticationContextClassReferences")),
    )
    for ref in sorted(apps.include_auth_context):
        if not _AUTH_CONTEXT.match(ref):
            raise node.child("includeAuthenticationContextClassReferences").error(
                f"{ref!r} is not an authentication context id (c1 ... c99)")
    targets = [k for k, v in (("includeApplications", apps.include_applications - {"None"}),
                              ("includeUserActions", apps.include_user_actions),
                              ("includeAuthenticationContextClassReferences", apps.include_auth_context)) if v]
    if len(targets) > 1:
        raise node.child(targets[1]).error(
            f"a policy targets applications, user actions or authentication contexts, not both {targets[0]} and "
            f"{targets[1]}")
    return apps


def _client_applications(node: Node) -> ClientApplications | None:
    if node.value is None:
        return None
    if node.present("servicePrincipalFilter"):
        raise node.child("servicePrincipalFilter").error(f"not supported: {_NOT_SUPPORTED['servicePrincipalFilter']}")
    node.obj(("includeServicePrincipals", "excludeServicePrincipals", "servicePrincipalFilter"))
    kw = ("ServicePrincipalsInMyTenant",)
    return ClientApplications(_ids(node, "includeServicePrincipals", kw), _ids(node, "excludeServicePrincipals"))


def _locations(node: Node) -> Locations | None:
    if node.value is None:
        return None
    node.obj(("includeLocations", "excludeLocations"))
    loc = Locations(_ids(node, "includeLocations", ("All", "AllTrusted")),
                    _ids(node, "excludeLocations", ("AllTrusted",)))
    if loc.exclude_locations and not loc.include_locations:
        raise node.child("includeLocations").error("excludeLocations needs includeLocations")
    return loc


def _platforms(node: Node) -> Platforms | None:
    if node.value is None:
        return None
    node.obj(("includePlatforms", "excludePlatforms"))
    plat = Platforms(_fset(node.strings("includePlatforms", choices=PLATFORMS)),
                     _fset(node.strings("excludePlatforms", choices=PLATFORMS[:-1])))
    if not plat.include_platforms:
        raise node.child("includePlatforms").error("a platforms condition needs includePlatforms")
    return plat


def _devices(node: Node) -> Devices | None:
    if node.value is None:
        return None
    node.obj(("deviceFilter", "includeDevices", "excludeDevices"))
    include = _fset(node.strings("includeDevices", choices=("All",)))
    exclude = _fset(node.strings("excludeDevices", choices=("Compliant", "DomainJoined")))
    fnode = node.child("deviceFilter")
    device_filter = None
    if fnode.value is not None:
        if include or exclude:
            raise fnode.error("deviceFilter cannot be combined with includeDevices/excludeDevices")
        fnode.obj(("mode", "rule"), required=("mode", "rule"))
        mode = str(fnode.string("mode", required=True, choices=("include", "exclude")))
        rule = str(fnode.string("rule", required=True))
        try:
            tree = parse_rule(rule)
        except FilterSyntaxError as exc:
            raise fnode.child("rule").error(f"device filter rule: {exc}") from None
        device_filter = DeviceFilter(mode, rule, tree)
    if exclude and not include:
        raise node.child("includeDevices").error("excludeDevices needs includeDevices [\"All\"]")
    return Devices(device_filter, include, exclude)


def _conditions(node: Node) -> Conditions:
    node.obj(_CONDITION_KEYS, required=("applications",))
    flows = None
    fnode = node.child("authenticationFlows")
    if fnode.value is not None:
        fnode.obj(("transferMethods",), required=("transferMethods",))
        flows = frozenset(flags(fnode, "transferMethods", TRANSFER_METHODS))
    cond = Conditions(
        users=_users(node.child("users")),
        client_applications=_client_applications(node.child("clientApplications")),
        applications=_applications(node.child("applications")),
        client_app_types=_fset(node.strings("clientAppTypes", choices=CLIENT_APP_TYPES)),
        locations=_locations(node.child("locations")),
        platforms=_platforms(node.child("platforms")),
        devices=_devices(node.child("devices")),
        sign_in_risk_levels=_fset(node.strings("signInRiskLevels", choices=RISK_LEVELS)),
        user_risk_levels=_fset(node.strings("userRiskLevels", choices=RISK_LEVELS)),
        service_principal_risk_levels=_fset(node.strings("servicePrincipalRiskLevels", choices=SP_RISK_LEVELS)),
        insider_risk_levels=frozenset(flags(node, "insiderRiskLevels", INSIDER_RISK_LEVELS)),
        transfer_methods=flows,
    )
    if cond.users is None and cond.client_applications is None:
        raise node.error("a policy needs users or clientApplications (workload identities)")
    return cond


def _auth_strength(node: Node) -> AuthenticationStrength | None:
    if node.value is None:
        return None
    node.obj(("id", "displayName", "description", "policyType", "requirementsSatisfied", "allowedCombinations",
              "createdDateTime", "modifiedDateTime", "combinationConfigurations"))
    sid = node.string("id")
    combos = node.strings("allowedCombinations")
    builtin = catalog.BUILTIN_AUTH_STRENGTHS.get(sid or "")
    if not combos:
        if builtin is None:
            raise node.child("allowedCombinations").error(
                "a custom authentication strength needs its allowedCombinations (only the built-in strengths "
                "...0002, ...0003, ...0004 are known by id)")
        combos = builtin[1]
    name = node.string("displayName") or (builtin[0] if builtin else None)
    parsed = []
    for i, combo in enumerate(combos):
        modes = frozenset(m.strip() for m in combo.split(","))
        unknown = modes - catalog.AUTH_METHOD_MODES
        if unknown:
            raise node.child("allowedCombinations").child(i).error(
                f"unknown authentication method mode(s) {', '.join(sorted(unknown))}")
        parsed.append(modes)
    return AuthenticationStrength(sid, name, tuple(parsed))


def _grant(node: Node) -> GrantControls | None:
    if node.value is None:
        return None
    node.obj(("operator", "builtInControls", "customAuthenticationFactors", "termsOfUse", "authenticationStrength"),
             required=("operator",))
    grant = GrantControls(
        operator=str(node.string("operator", required=True, choices=("AND", "OR"))),
        built_in=node.strings("builtInControls", choices=BUILT_IN_CONTROLS),
        custom_factors=node.strings("customAuthenticationFactors"),
        terms_of_use=tuple(_ids(node, "termsOfUse")),
        authentication_strength=_auth_strength(node.child("authenticationStrength")),
    )
    controls = node.child("builtInControls")
    if "block" in grant.built_in and len(grant.control_names()) > 1:
        raise controls.error("block cannot be combined with other grant controls")
    if "mfa" in grant.built_in and grant.authentication_strength is not None:
        raise node.child("authenticationStrength").error(
            "authenticationStrength cannot be combined with mfa (they are the same requirement)")
    if not grant.control_names():
        raise controls.error("grantControls with no control; omit grantControls instead")
    return grant


def _sif(node: Node) -> SignInFrequency | None:
    if node.value is None:
        return None
    node.obj(("isEnabled", "value", "type", "authenticationType", "frequencyInterval"))
    sif = SignInFrequency(
        is_enabled=bool(node.boolean("isEnabled", default=False)), value=node.integer("value"),
        type=node.string("type", choices=("days", "hours")),
        authentication_type=str(node.string("authenticationType", default="primaryAndSecondaryAuthentication",
                                            choices=("primaryAndSecondaryAuthentication", "secondaryAuthentication"))),
        frequency_interval=str(node.string("frequencyInterval", default="timeBased",
                                           choices=("timeBased", "everyTime"))),
    )
    if sif.is_enabled and sif.frequency_interval == "timeBased":
        if sif.value is None or sif.type is None:
            raise node.error("a time-based signInFrequency needs value and type")
        limit = 365 if sif.type == "days" else 23
        if not 1 <= sif.value <= limit:
            raise node.child("value").error(f"{sif.value} {sif.type}: must be 1-{limit}")
    if sif.frequency_interval == "everyTime" and (sif.value is not None or sif.type is not None):
        raise node.error("signInFrequency everyTime takes no value or type")
    return sif


def _enabled(node: Node, key: str, extra: tuple[str, ...] = ()) -> tuple[bool, Node]:
    sub = node.child(key)
    if sub.value is None:
        return False, sub
    sub.obj(("isEnabled",) + extra)
    return bool(sub.boolean("isEnabled", default=False)), sub


def _session(node: Node, conditions: Conditions) -> SessionControls | None:
    if node.value is None:
        return None
    node.obj(("applicationEnforcedRestrictions", "cloudAppSecurity", "signInFrequency", "persistentBrowser",
              "continuousAccessEvaluation", "disableResilienceDefaults", "secureSignInSession"))
    aer, _ = _enabled(node, "applicationEnforcedRestrictions")
    mcas_on, mcas = _enabled(node, "cloudAppSecurity", ("cloudAppSecurityType",))
    mcas_type = mcas.string("cloudAppSecurityType", choices=("mcasConfigured", "monitorOnly", "blockDownloads")) \
        if mcas.value is not None else None
    pb_on, pb = _enabled(node, "persistentBrowser", ("mode",))
    pb_mode = pb.string("mode", choices=("always", "never")) if pb.value is not None else None
    if pb_on and pb_mode is None:
        raise pb.child("mode").error("an enabled persistentBrowser needs mode always or never")
    apps = conditions.applications
    if pb_on and (apps is None or apps.include_applications != {"All"} or apps.exclude_applications):
        raise pb.error("persistentBrowser requires All resources with no exclusions (documented)")
    cae = node.child("continuousAccessEvaluation")
    cae_mode = None
    if cae.value is not None:
        cae.obj(("mode",), required=("mode",))
        cae_mode = cae.string("mode", choices=("strictEnforcement", "disabled", "strictLocation"))
    ssi, _ = _enabled(node, "secureSignInSession")
    return SessionControls(
        application_enforced_restrictions=aer, cloud_app_security=mcas_type if mcas_on else None,
        sign_in_frequency=_sif(node.child("signInFrequency")), persistent_browser=pb_mode if pb_on else None,
        continuous_access_evaluation=cae_mode,
        disable_resilience_defaults=bool(node.boolean("disableResilienceDefaults", default=False)),
        secure_sign_in_session=ssi,
    )


def _check_password_change(node: Node, cond: Conditions, grant: GrantControls) -> None:
    """Documented: with mfa via AND, user risk set, all resources without exclusions, no other condition."""
    where = node.child("grantControls").child("builtInControls")
    if grant.operator != "AND" or "mfa" not in grant.built_in and grant.authentication_strength is None:
        raise where.error("passwordChange must be combined with mfa using the AND operator")
    others = set(grant.built_in) - {"passwordChange", "mfa"}
    if others or grant.terms_of_use or grant.custom_factors:
        raise where.error("passwordChange can only be combined with mfa")
    _check_risk_policy(node, cond, "passwordChange")


def _check_risk_policy(node: Node, cond: Conditions, control: str) -> None:
    cnode = node.child("conditions")
    if not cond.user_risk_levels:
        raise cnode.child("userRiskLevels").error(f"{control} requires a user risk condition (userRiskLevels)")
    apps = cond.applications
    if apps is None or apps.include_applications != {"All"} or apps.exclude_applications:
        raise cnode.child("applications").error(f"{control} requires All resources with no exclusions")
    extra = [name for name, present in (
        ("locations", cond.locations is not None), ("platforms", cond.platforms is not None),
        ("devices", cond.devices is not None), ("signInRiskLevels", bool(cond.sign_in_risk_levels)),
        ("clientAppTypes", bool(cond.client_app_types - {"all"})),
        ("authenticationFlows", cond.transfer_methods is not None),
        ("insiderRiskLevels", bool(cond.insider_risk_levels))) if present]
    if extra:
        raise cnode.child(extra[0]).error(f"{control} allows only users, all resources and user risk conditions")


def parse_policy(node: Node) -> Policy:
    node.obj(_POLICY_KEYS, required=("displayName", "state", "conditions"))
    name = str(node.string("displayName", required=True))
    state = str(node.string("state", required=True, choices=STATES))
    pid = node.string("id") or str(uuid.uuid5(uuid.NAMESPACE_URL, f"vigil-policy:{name}"))
    cond = _conditions(node.child("conditions"))
    grant = _grant(node.child("grantControls"))
    session = _session(node.child("sessionControls"), cond)
    if grant is not None and "passwordChange" in grant.built_in:
        _check_password_change(node, cond, grant)
    if grant is not None and "riskRemediation" in grant.built_in:
        _check_risk_policy(node, cond, "riskRemediation")
    apps = cond.applications
    if state == "enabledForReportingButNotEnforced" and apps is not None and apps.include_user_actions:
        raise node.child("state").error("report-only is not supported for policies scoped to user actions")
    where = f"{node.source}:{node.path}" if node.source else node.path
    return Policy(pid, name, state, cond, grant, session, node.string("description"), where, node.value)


def parse_policies(data: Any, source: str | None = None) -> list[Policy]:
    """Policies from parsed Graph JSON: a single object, a ``value`` list or a bare list."""
    out: list[Policy] = []
    seen: dict[str, str] = {}
    for node in documents(data, source):
        policy = parse_policy(node)
        if policy.id in seen:
            raise node.child("id").error(f"duplicate policy id {policy.id!r} (also at {seen[policy.id]})")
        seen[policy.id] = node.path
        out.append(policy)
    return out


def load_policies(*paths: str | Path) -> list[Policy]:
    """Read one or more Graph ``conditionalAccessPolicy`` JSON files."""
    out: list[Policy] = []
    for path in paths:
        out.extend(parse_policies(read_json(path), str(path)))
    ids = [p.id for p in out]
    dup = next((i for i in ids if ids.count(i) > 1), None)
    if dup is not None:
        raise ConfigError(f"policy id {dup!r} appears in more than one file")
    return out
