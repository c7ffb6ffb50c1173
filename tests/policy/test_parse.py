from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.conftest import sample
from tests.policy.conftest import POLICIES
from vigil.errors import ConfigError
from vigil.policy.parse import load_policies, parse_policies

S = "ca-policies/"


def test_graph_example1_exo_mfa() -> None:
    (p,) = load_policies(sample(S + "ca-policy-graph-v1-example1-exo-mfa-outside-trusted-response.json"))
    assert p.id == "7359d0e0-d8a9-4afa-8a93-e23e099d7be8" and p.state == "enabled"
    c = p.conditions
    assert c.applications is not None and c.applications.include_applications == {"00000002-0000-0ff1-ce00-000000000000"}
    assert c.users is not None and c.users.include_groups == {"ba8e7ded-8b0f-4836-ba06-8ff1ecc5c8ba"}
    assert c.locations is not None and c.locations.exclude_locations == {"AllTrusted"}
    assert c.client_app_types == {"mobileAppsAndDesktopClients", "browser"}
    assert p.grant_controls is not None and p.grant_controls.built_in == ("mfa",) and p.session_controls is None


def test_graph_example3_all_conditions() -> None:
    (p,) = load_policies(sample(S + "ca-policy-graph-v1-example3-all-conditions-response.json"))
    c = p.conditions
    assert p.state == "disabled" and c.sign_in_risk_levels == {"high", "medium"}
    assert c.users is not None and "GuestsOrExternalUsers" in c.users.exclude_users and len(c.users.include_roles) == 3
    assert c.platforms is not None and c.platforms.exclude_platforms == {"iOS", "windowsPhone"}
    assert c.locations is not None and "00000000-0000-0000-0000-000000000000" in c.locations.exclude_locations
    g = p.grant_controls
    assert g is not None and g.operator == "OR" and len(g.built_in) == 5 and len(g.terms_of_use) == 2
    s = p.session_controls
    assert s is not None and s.cloud_app_security == "blockDownloads"
    assert s.sign_in_frequency is not None and s.sign_in_frequency.seconds == 4 * 3600
    assert s.enforced_names() == ["CloudAppSecurity", "SignInFrequency"]


def test_graph_signin_risk_request_without_id() -> None:
    (p,) = load_policies(sample(S + "ca-policy-graph-v1-signin-risk-mfa-request.json"))
    assert p.display_name == "Policy for risky sign-in" and len(p.id) == 36  # stable id derived from the name
    assert p.conditions.client_app_types == frozenset()  # not configured: every client app


def test_graph_old_2019_list() -> None:
    ps = load_policies(sample(S + "graph-v1_conditionalaccessroot-list-policies-response.json"))
    assert [p.display_name for p in ps] == ["SimplePolicy1", "SimplePolicy2"]
    assert all(p.state == "disabled" and p.conditions.users and p.conditions.users.include_users == {"None"}
               for p in ps)


def test_own_fixture_covers_every_control_and_condition() -> None:
    ps = load_policies(POLICIES)
    controls = {c for p in ps if p.grant_controls for c in p.grant_controls.control_names()}
    assert controls >= {"block", "mfa", "authenticationStrength", "compliantDevice", "domainJoinedDevice",
                        "approvedApplication", "compliantApplication", "passwordChange", "riskRemediation",
                        "termsOfUse"}
    session = {n for p in ps if p.session_controls for n in p.session_controls.enforced_names()}
    assert session >= {"SignInFrequency", "PersistentBrowserSessionMode", "ContinuousAccessEvaluation",
                       "CloudAppSecurity", "AppEnforced", "DisableResilienceDefaults"}
    assert {p.state for p in ps} == {"enabled", "disabled", "enabledForReportingButNotEnforced"}


BASE: dict[str, Any] = {
    "id": "p1", "displayName": "base", "state": "enabled",
    "conditions": {"users": {"includeUsers": ["All"]}, "applications": {"includeApplications": ["All"]},
                   "clientAppTypes": ["all"]},
    "grantControls": {"operator": "OR", "builtInControls": ["mfa"]},
}


def _with(path: str, value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(BASE)
    *parents, leaf = path.split(".")
    node = doc
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value
    return doc


@pytest.mark.parametrize("path, value, where, why", [
    ("state", "on", "$.state", "not one of"),
    ("color", "red", "$.color", "unknown property"),
    ("conditions.times", {}, "$.conditions.times", "unknown property"),
    ("conditions.users.includeUsers", ["alice"], "$.conditions.users.includeUsers[0]", "not an object id"),
    ("conditions.clientAppTypes", ["legacy"], "$.conditions.clientAppTypes[0]", "not one of"),
    ("conditions.signInRiskLevels", ["severe"], "$.conditions.signInRiskLevels[0]", "not one of"),
    ("conditions.platforms", {"includePlatforms": ["beos"]}, "$.conditions.platforms.includePlatforms[0]",
     "not one of"),
    ("conditions.platforms", {"excludePlatforms": ["iOS"]}, "$.conditions.platforms.includePlatforms",
     "needs includePlatforms"),
    ("conditions.locations", {"excludeLocations": ["AllTrusted"]}, "$.conditions.locations.includeLocations",
     "needs includeLocations"),
    ("conditions.devices", {"deviceFilter": {"mode": "include", "rule": "device.model -like \"x\""}},
     "$.conditions.devices.deviceFilter.rule", "device filter rule"),
    ("conditions.devices", {"deviceFilter": {"mode": "sometimes", "rule": "device.model -eq \"x\""}},
     "$.conditions.devices.deviceFilter.mode", "not one of"),
    ("conditions.applications", {"includeApplications": ["All"], "applicationFilter": {"mode": "include",
     "rule": "x"}}, "$.conditions.applications.applicationFilter", "not supported"),
    ("conditions.applications", {"includeApplications": ["All"], "includeUserActions":
     ["urn:user:registersecurityinfo"]}, "$.conditions.applications.includeUserActions", "not both"),
    ("conditions.applications", {"includeUserActions": ["urn:user:deleteeverything"]},
     "$.conditions.applications.includeUserActions[0]", "not one of"),
    ("conditions.applications", {"includeAuthenticationContextClassReferences": ["c100"]},
     "$.conditions.applications.includeAuthenticationContextClassReferences", "c1 ... c99"),
    ("conditions.authenticationFlows", {"transferMethods": "carrierPigeon"},
     "$.conditions.authenticationFlows.transferMethods", "not one of"),
    ("conditions.insiderRiskLevels", "huge", "$.conditions.insiderRiskLevels", "not one of"),
    ("conditions.users", {"includeGuestsOrExternalUsers": {"guestOrExternalUserTypes": "b2bCollaborationGuest",
     "externalTenants": {"membershipKind": "enumerated", "members": []}}},
     "$.conditions.users.includeGuestsOrExternalUsers.externalTenants.members", "at least one tenant"),
    ("conditions.users", None, "$.conditions", "needs users or clientApplications"),
    ("conditions.applications", None, "$.conditions.applications", "required property is missing"),
    ("grantControls", {"operator": "XOR", "builtInControls": ["mfa"]}, "$.grantControls.operator", "not one of"),
    ("grantControls", {"operator": "OR", "builtInControls": ["blockAndPray"]},
     "$.grantControls.builtInControls[0]", "not one of"),
    ("grantControls", {"operator": "OR", "builtInControls": ["block", "mfa"]}, "$.grantControls.builtInControls",
     "cannot be combined"),
    ("grantControls", {"operator": "OR", "builtInControls": ["mfa"], "authenticationStrength":
     {"id": "00000000-0000-0000-0000-000000000004"}}, "$.grantControls.authenticationStrength", "same requirement"),
    ("grantControls", {"operator": "OR", "builtInControls": [], "authenticationStrength": {"id": "custom"}},
     "$.grantControls.authenticationStrength.allowedCombinations", "custom authentication strength"),
    ("grantControls", {"operator": "OR", "authenticationStrength": {"id": "x", "allowedCombinations":
     ["password,carrierPigeon"]}}, "$.grantControls.authenticationStrength.allowedCombinations[0]", "unknown"),
    ("grantControls", {"operator": "OR", "builtInControls": []}, "$.grantControls.builtInControls", "no control"),
    ("grantControls", {"operator": "AND", "builtInControls": ["passwordChange"]},
     "$.grantControls.builtInControls", "combined with mfa using the AND operator"),
    ("grantControls", {"operator": "OR", "builtInControls": ["mfa", "passwordChange"]},
     "$.grantControls.builtInControls", "AND operator"),
    ("grantControls", {"operator": "AND", "builtInControls": ["mfa", "passwordChange"]},
     "$.conditions.userRiskLevels", "requires a user risk condition"),
    ("grantControls", {"operator": "OR", "builtInControls": ["riskRemediation"]},
     "$.conditions.userRiskLevels", "requires a user risk condition"),
    ("sessionControls", {"signInFrequency": {"isEnabled": True, "value": 30, "type": "hours"}},
     "$.sessionControls.signInFrequency.value", "1-23"),
    ("sessionControls", {"signInFrequency": {"isEnabled": True}}, "$.sessionControls.signInFrequency",
     "needs value and type"),
    ("sessionControls", {"signInFrequency": {"isEnabled": True, "value": 1, "type": "hours",
     "frequencyInterval": "everyTime"}}, "$.sessionControls.signInFrequency", "takes no value"),
    ("sessionControls", {"persistentBrowser": {"isEnabled": True}}, "$.sessionControls.persistentBrowser.mode",
     "always or never"),
    ("sessionControls", {"continuousAccessEvaluation": {"mode": "sometimes"}},
     "$.sessionControls.continuousAccessEvaluation.mode", "not one of"),
    ("sessionControls", {"cloudAppSecurity": {"isEnabled": True, "cloudAppSecurityType": "x"}},
     "$.sessionControls.cloudAppSecurity.cloudAppSecurityType", "not one of"),
    ("sessionControls", {"networkAccessSecurity": {}}, "$.sessionControls.networkAccessSecurity", "unknown"),
    ("sessionControls", {"disableResilienceDefaults": "yes"}, "$.sessionControls.disableResilienceDefaults",
     "true or false"),
])
def test_rejected_with_json_path_and_reason(path: str, value: Any, where: str, why: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_policies(_with(path, value), "p.json")
    assert f"p.json:{where}" in str(info.value) and why in str(info.value)


def test_password_change_rules() -> None:
    ok = _with("grantControls", {"operator": "AND", "builtInControls": ["mfa", "passwordChange"]})
    ok["conditions"]["userRiskLevels"] = ["high"]
    (p,) = parse_policies(ok)
    assert p.grant_controls is not None and p.grant_controls.control_names() == ["mfa", "passwordChange"]
    for key, value, where in (("locations", {"includeLocations": ["All"]}, "locations"),
                              ("signInRiskLevels", ["high"], "signInRiskLevels"),
                              ("applications", {"includeApplications": ["00000002-0000-0ff1-ce00-000000000000"]},
                               "applications")):
        bad = copy.deepcopy(ok)
        bad["conditions"][key] = value
        with pytest.raises(ConfigError, match=rf"\$\.conditions\.{where}"):
            parse_policies(bad)


def test_persistent_browser_needs_all_apps_and_report_only_user_actions() -> None:
    doc = _with("sessionControls", {"persistentBrowser": {"isEnabled": True, "mode": "never"}})
    doc["conditions"]["applications"] = {"includeApplications": ["Office365"]}
    with pytest.raises(ConfigError, match="persistentBrowser requires All resources"):
        parse_policies(doc)
    doc = _with("conditions.applications", {"includeUserActions": ["urn:user:registerdevice"]})
    doc["state"] = "enabledForReportingButNotEnforced"
    with pytest.raises(ConfigError, match=r"\$\.state: report-only is not supported"):
        parse_policies(doc)


def test_duplicates_and_shapes() -> None:
    with pytest.raises(ConfigError, match=r"\$\.value\[1\]\.id: duplicate"):
        parse_policies({"value": [BASE, BASE]})
    with pytest.raises(ConfigError, match="expected a Graph object"):
        parse_policies("nope")
    with pytest.raises(ConfigError, match=r"\$\.nextLink: unknown property beside"):
        parse_policies({"value": [BASE], "nextLink": "x"})
    assert len(parse_policies([BASE])) == 1 and len(parse_policies({"@odata.nextLink": "x", "value": [BASE]})) == 1


def test_file_errors(tmp_path: Any) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="bad.json: not valid JSON"):
        load_policies(bad)
    with pytest.raises(ConfigError, match="cannot read"):
        load_policies(tmp_path / "missing.json")
