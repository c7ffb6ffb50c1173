"""Each condition of the fixture policies, through PolicySet.evaluate (assignments ANDed)."""
from __future__ import annotations

from typing import Any

from tests.policy.conftest import (
    AZURE_MGMT, BREAKGLASS, EXO, GLOBAL_ADMIN, HOME_IP, HQ_IP, PARTNER_IP, SALES, ctx,
)
from vigil.policy.conditions import CONDITION_BITS


def one(only: Any, name: str, **kw: Any) -> Any:
    (r,) = only(name).evaluate(ctx(**kw)).policies
    return r


def test_users_all_with_group_exclusion(only: Any) -> None:
    name = "MFA outside trusted locations"
    assert one(only, name).applies
    r = one(only, name, groups=frozenset({BREAKGLASS}))
    assert not r.applies and r.first_unsatisfied.condition == "users" and "excluded (groupId)" in r.reason
    assert r.to_dict()["excludeRulesSatisfied"] == [{"conditionalAccessCondition": "users", "ruleSatisfied": "groupId"}]


def test_users_groups_roles_by_id_and_name(only: Any) -> None:
    assert one(only, "Report-only: MFA for Sales", groups=frozenset({SALES})).applies
    assert not one(only, "Report-only: MFA for Sales").applies
    admin = "Phishing-resistant MFA for Global Administrators"
    assert one(only, admin, roles=frozenset({GLOBAL_ADMIN})).applies
    assert one(only, admin, roles=frozenset({"Global Administrator"})).applies  # IdentityInfo holds role names
    assert not one(only, admin, roles=frozenset({"Security Reader"})).applies


def test_users_by_upn_and_none_and_guests(only: Any, all_policies: Any) -> None:
    from vigil.policy.evaluate import PolicySet
    from vigil.policy.parse import parse_policies

    doc = {"displayName": "x", "state": "enabled", "grantControls": {"operator": "OR", "builtInControls": ["mfa"]},
           "conditions": {"applications": {"includeApplications": ["All"]},
                          "users": {"includeUsers": ["GuestsOrExternalUsers"]}}}
    ps = PolicySet(parse_policies(doc))
    assert ps.evaluate(ctx(user_type="Guest")).policies[0].applies
    assert not ps.evaluate(ctx()).policies[0].applies
    doc["conditions"]["users"] = {"includeUsers": ["None"]}
    assert not PolicySet(parse_policies(doc)).evaluate(ctx()).policies[0].applies


def test_guests_or_external_user_types_and_tenants(only: Any) -> None:
    name = "Partner guests accept terms of use"
    partner = "33333333-0000-0000-0000-000000000001"
    assert one(only, name, user_type="Guest", external_tenant_id=partner).applies  # default b2bCollaborationGuest
    assert one(only, name, external_user_type="b2bCollaborationMember", external_tenant_id=partner).applies
    assert not one(only, name, user_type="Guest", external_tenant_id="33333333-0000-0000-0000-000000000009").applies
    assert not one(only, name, external_user_type="b2bDirectConnectUser", external_tenant_id=partner).applies
    assert not one(only, name).applies  # a member


def test_applications_all_office365_app_id_and_exclusions(only: Any) -> None:
    o365 = "Office 365 on mobile needs compliant device or app protection"
    assert one(only, o365, platform="iOS").applies  # Exchange Online is in the Office 365 suite
    assert one(only, o365, platform="iOS", application_id=None, application_name="Microsoft Planner").applies
    r = one(only, o365, platform="iOS", application_id=AZURE_MGMT)
    assert not r.applies and r.first_unsatisfied.whatif == "application"
    saw = "Azure management only from SAW devices"
    assert one(only, saw, application_id=AZURE_MGMT, roles=frozenset({GLOBAL_ADMIN})).applies
    assert not one(only, saw, roles=frozenset({GLOBAL_ADMIN})).applies


def test_user_actions_and_auth_context(only: Any) -> None:
    reg = "Register security info only from HQ"
    r = one(only, reg)
    assert not r.applies and r.first_unsatisfied.whatif == "userActions"
    assert one(only, reg, user_action="urn:user:registersecurityinfo").applies
    assert not one(only, reg, user_action="urn:user:registersecurityinfo", ip=HQ_IP).applies
    assert not one(only, reg, user_action="urn:user:registerdevice").applies
    # an All-resources policy does not target user actions
    assert not one(only, "MFA outside trusted locations", user_action="urn:user:registersecurityinfo").applies
    step = "Step-up for sensitive actions (auth context c1)"
    assert not one(only, step).applies and one(only, step).first_unsatisfied.whatif == "authenticationContext"
    assert one(only, step, authentication_context=frozenset({"c1", "c2"})).applies


def test_client_app_types(only: Any) -> None:
    name = "Block legacy authentication"
    assert not one(only, name).applies
    assert one(only, name, client_app_type="other").applies
    assert one(only, name, client_app_type="exchangeActiveSync").applies
    assert not one(only, name, client_app_type="mobileAppsAndDesktopClients").applies


def test_locations_all_trusted_named_and_ipv6(only: Any) -> None:
    name = "MFA outside trusted locations"
    assert one(only, name, ip=HOME_IP).applies
    assert not one(only, name, ip=HQ_IP).applies
    assert not one(only, name, ip="2001:db8:1:ffff::5").applies  # trusted IPv6 range published with host bits
    assert one(only, name, ip=PARTNER_IP).applies  # named but not trusted
    assert one(only, name, ip=None, country=None).applies  # All includes an unknown location


def test_country_locations_unknown_and_gps(only: Any) -> None:
    blocked = "Block sign-ins from blocked countries"
    assert one(only, blocked, country="KP").applies
    assert one(only, blocked, country=None).applies  # includeUnknownCountriesAndRegions
    assert not one(only, blocked, country="DE").applies
    gps = "France by GPS needs MFA"
    assert not one(only, gps, country="FR").applies  # IP says France, GPS lookup is what counts
    assert one(only, gps, country="DE", gps_country="FR").applies


def test_mfa_trusted_ips_are_all_trusted(all_policies: Any, locations: Any) -> None:
    from vigil.policy.evaluate import PolicySet

    p = next(p for p in all_policies if p.display_name == "MFA outside trusted locations")
    ps = PolicySet([p], locations, mfa_trusted_ips=["192.0.2.0/24"])
    assert not ps.evaluate(ctx(ip=HOME_IP)).policies[0].applies


def test_platforms(only: Any) -> None:
    name = "Hybrid joined device for Windows"
    assert one(only, name, groups=frozenset({SALES})).applies
    r = one(only, name, groups=frozenset({SALES}), platform="macOS")
    assert not r.applies and r.first_unsatisfied.condition == "devicePlatform"
    assert not one(only, name, groups=frozenset({SALES}), platform=None).applies  # unknown only matches "all"


def test_device_filter_exclude_mode(only: Any) -> None:
    name = "Azure management only from SAW devices"
    base = dict(application_id=AZURE_MGMT, roles=frozenset({GLOBAL_ADMIN}))
    assert one(only, name, **base).applies  # unregistered device: not excluded -> block applies
    saw = {"deviceId": "d1", "extensionAttribute1": "SAW", "trustType": "AzureAD"}
    r = one(only, name, device=saw, **base)
    assert not r.applies and r.first_unsatisfied.condition == "deviceState"
    assert one(only, name, device={**saw, "trustType": "Workplace"}, **base).applies


def test_legacy_device_states(only: Any) -> None:
    name = "Windows hybrid devices excluded via legacy device states"
    assert one(only, name, groups=frozenset({SALES})).applies
    assert not one(only, name, groups=frozenset({SALES}), device={"deviceId": "d", "isCompliant": "True"}).applies
    assert not one(only, name, groups=frozenset({SALES}), device={"deviceId": "d", "trustType": "ServerAD"}).applies


def test_risk_levels(only: Any) -> None:
    name = "MFA for medium and high sign-in risk"
    assert not one(only, name).applies and one(only, name, sign_in_risk="medium").applies
    assert not one(only, name, sign_in_risk="low").applies and not one(only, name, sign_in_risk="hidden").applies
    pwd = "Password change for high user risk"
    assert one(only, pwd, user_risk="high").applies and not one(only, pwd, user_risk="medium").applies


def test_auth_flows_insider_and_workload_identities(only: Any) -> None:
    assert one(only, "Block device code flow", authentication_flow="deviceCodeFlow").applies
    assert not one(only, "Block device code flow").applies
    assert one(only, "Insider risk elevated: block", insider_risk="elevated").applies
    assert not one(only, "Insider risk elevated: block", insider_risk="minor").applies
    wl = "Workload identities: block high service principal risk"
    r = one(only, wl)
    assert not r.applies and r.first_unsatisfied.whatif == "workloadIdentities"
    sp = "55555555-0000-0000-0000-000000000001"
    assert one(only, wl, service_principal_id=sp, service_principal_risk="high").applies
    assert not one(only, wl, service_principal_id=sp, service_principal_risk="low").applies
    # user policies do not apply to workload identities
    assert not one(only, "MFA outside trusted locations", service_principal_id=sp).applies


def test_conditions_flags_and_masks(only: Any) -> None:
    r = one(only, "Office 365 on mobile needs compliant device or app protection", platform="iOS")
    d = r.to_dict()
    assert d["conditionsSatisfied"] == "users,application,devicePlatform,clientType"
    assert d["conditionsSatisfiedMask"] == CONDITION_BITS["users"] + CONDITION_BITS["application"] + \
        CONDITION_BITS["devicePlatform"] + CONDITION_BITS["clientType"]
    assert d["conditionsNotSatisfied"] == "none"
    assert {"conditionalAccessCondition": "application", "ruleSatisfied": "office365"} in d["includeRulesSatisfied"]


def test_app_group_by_name_is_case_insensitive() -> None:
    from vigil.policy.catalog import in_app_group

    assert in_app_group("Office365", None, "office 365 exchange online")
    assert in_app_group("Office365", EXO.upper(), None)
    assert in_app_group("MicrosoftAdminPortals", "c44b4083-3bb0-49c1-b47d-974e53cbdf3c", None)
    assert not in_app_group("Office365", AZURE_MGMT, "Windows Azure Service Management API")
