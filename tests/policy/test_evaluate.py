"""Grant controls, AND/OR, report-only results, block wins, collected controls, session controls."""
from __future__ import annotations

from typing import Any

import pytest

from tests.policy.conftest import GLOBAL_ADMIN, HQ_IP, SALES, ctx
from vigil.errors import ConfigError
from vigil.policy.evaluate import PolicySet
from vigil.policy.parse import parse_policies

MFA_OUT = "MFA outside trusted locations"
LEGACY = "Block legacy authentication"
RISK = "MFA for medium and high sign-in risk"
PWD = "Password change for high user risk"
O365 = "Office 365 on mobile needs compliant device or app protection"


def test_not_applied_means_allow_not_applied(only: Any) -> None:
    d = only(MFA_OUT).evaluate(ctx(ip=HQ_IP))
    assert (d.decision, d.conditional_access_status) == ("allow", "notApplied")
    assert d.policies[0].result == "notApplied"


def test_mfa_required_then_satisfied(only: Any) -> None:
    d = only(MFA_OUT).evaluate(ctx())
    assert d.decision == "challenge" and d.required_controls == ("mfa",) and d.policies[0].result == "failure"
    assert "requires multifactor authentication" in d.reason
    d = only(MFA_OUT).evaluate(ctx(mfa_satisfied=True))
    assert (d.decision, d.conditional_access_status, d.policies[0].result) == ("allow", "success", "success")
    assert d.policies[0].enforced_grant_controls == ("Mfa",)


def test_any_block_wins(only: Any) -> None:
    d = only(MFA_OUT, LEGACY).evaluate(ctx(client_app_type="other", mfa_satisfied=True))
    assert d.decision == "block" and d.conditional_access_status == "failure"
    assert d.blocking_policies == ("99999999-0000-0000-0000-000000000001",)
    assert "blocked by 'Block legacy authentication'" in d.reason and "client app other" in d.reason
    assert d.session_controls == {}


def test_all_applicable_policies_must_be_satisfied(only: Any) -> None:
    d = only(MFA_OUT, PWD).evaluate(ctx(user_risk="high"))
    assert d.decision == "challenge" and d.required_controls == ("mfa", "passwordChange")
    d = only(MFA_OUT, PWD).evaluate(ctx(user_risk="high", mfa_satisfied=True))
    assert d.required_controls == ("passwordChange",)
    d = only(MFA_OUT, PWD).evaluate(ctx(user_risk="high", mfa_satisfied=True, password_changed=True))
    assert d.decision == "allow" and [r.result for r in d.policies] == ["success", "success"]


def test_or_needs_one_and_device_controls_cannot_be_prompted(only: Any) -> None:
    ps = only(O365)
    d = ps.evaluate(ctx(platform="iOS"))
    assert d.decision == "block" and "cannot be satisfied in this sign-in" in d.reason
    assert ps.evaluate(ctx(platform="iOS", device={"deviceId": "d", "isCompliant": "True"})).decision == "allow"
    assert ps.evaluate(ctx(platform="iOS", app_protection_policy=True)).decision == "allow"


def test_each_builtin_control(only: Any) -> None:
    win = only("Hybrid joined device for Windows")
    assert win.evaluate(ctx(groups=frozenset({SALES}))).decision == "block"
    assert win.evaluate(ctx(groups=frozenset({SALES}), device={"deviceId": "d", "trustType": "ServerAD"})
                        ).decision == "allow"
    ios = only("Approved client app on iOS")
    assert ios.evaluate(ctx(groups=frozenset({SALES}), platform="iOS")).decision == "block"
    assert ios.evaluate(ctx(groups=frozenset({SALES}), platform="iOS", approved_client_app=True)).decision == "allow"
    tou = only("Partner guests accept terms of use")
    guest = dict(user_type="Guest", external_tenant_id="33333333-0000-0000-0000-000000000001")
    d = tou.evaluate(ctx(**guest))
    assert d.decision == "challenge" and d.required_controls == ("termsOfUse:44444444-0000-0000-0000-000000000001",)
    assert tou.evaluate(ctx(terms_of_use_accepted=frozenset({"44444444-0000-0000-0000-000000000001"}),
                            **guest)).decision == "allow"


def test_authentication_strength(only: Any) -> None:
    ps = only("Phishing-resistant MFA for Global Administrators")
    admin = dict(roles=frozenset({GLOBAL_ADMIN}))
    d = ps.evaluate(ctx(mfa_satisfied=True, authentication_methods=frozenset({"password", "microsoftAuthenticatorPush"}),
                        **admin))
    assert d.decision == "challenge" and d.required_controls == ("authenticationStrength:Phishing-resistant MFA",)
    assert ps.evaluate(ctx(authentication_methods=frozenset({"fido2"}), **admin)).decision == "allow"


def test_risk_remediation_and_session_every_time(only: Any) -> None:
    ps = only("Risk remediation for medium user risk")
    d = ps.evaluate(ctx(user_risk="medium"))
    assert d.decision == "challenge"
    assert d.required_controls == ("authenticationStrength:Multifactor authentication", "riskRemediation")
    d = ps.evaluate(ctx(user_risk="medium", risk_remediated=True,
                        authentication_methods=frozenset({"password", "sms"})))
    assert d.decision == "allow" and d.session_controls["signInFrequency"]["seconds"] == 0


def test_report_only_results(only: Any) -> None:
    ro = "Report-only: MFA for Sales"
    sales = dict(groups=frozenset({SALES}))
    d = only(ro).evaluate(ctx(**sales))
    assert d.decision == "allow" and d.conditional_access_status == "notApplied"  # never enforced
    assert d.policies[0].result == "reportOnlyInterrupted" and d.report_only_decision == "challenge"
    assert only(ro).evaluate(ctx(mfa_satisfied=True, **sales)).policies[0].result == "reportOnlySuccess"
    assert only(ro).evaluate(ctx()).policies[0].result == "reportOnlyNotApplied"
    # enforcing report-only (what-if for a proposal) changes the decision
    assert only(ro).evaluate(ctx(**sales), enforce_report_only=True).decision == "challenge"


def test_report_only_failure_for_block_and_device_controls() -> None:
    doc = {"id": "r", "displayName": "ro block", "state": "enabledForReportingButNotEnforced",
           "conditions": {"users": {"includeUsers": ["All"]}, "applications": {"includeApplications": ["All"]}},
           "grantControls": {"operator": "OR", "builtInControls": ["block"]}}
    d = PolicySet(parse_policies(doc)).evaluate(ctx())
    assert d.policies[0].result == "reportOnlyFailure" and d.decision == "allow" and d.report_only_decision == "block"
    doc["grantControls"] = {"operator": "AND", "builtInControls": ["mfa", "compliantDevice"]}
    assert PolicySet(parse_policies(doc)).evaluate(ctx()).policies[0].result == "reportOnlyFailure"
    doc["grantControls"] = {"operator": "OR", "builtInControls": ["mfa", "compliantDevice"]}
    assert PolicySet(parse_policies(doc)).evaluate(ctx()).policies[0].result == "reportOnlyInterrupted"


def test_disabled_is_not_enabled(only: Any) -> None:
    d = only("Disabled: block everyone").evaluate(ctx())
    assert d.decision == "allow" and d.policies[0].result == "notEnabled"


def test_session_controls_merge_most_restrictive(only: Any) -> None:
    d = only("Session controls for everyone", "Risk remediation for medium user risk").evaluate(
        ctx(user_risk="medium", risk_remediated=True, authentication_methods=frozenset({"fido2"})))
    s = d.session_controls
    assert d.decision == "allow" and s["signInFrequency"]["seconds"] == 0  # every time beats 4 hours
    assert s["persistentBrowser"] == "never" and s["continuousAccessEvaluation"] == ["strictLocation"]
    assert s["cloudAppSecurity"] == "monitorOnly" and s["applicationEnforcedRestrictions"] is True
    assert s["disableResilienceDefaults"] is True
    r = d.policies[0]
    assert r.result == "success" and "SignInFrequency" in r.enforced_session_controls


def test_unresolved_locations() -> None:
    doc = {"id": "x", "displayName": "needs a location", "state": "enabled",
           "conditions": {"users": {"includeUsers": ["All"]}, "applications": {"includeApplications": ["All"]},
                          "locations": {"includeLocations": ["12345678-0000-0000-0000-000000000000"]}},
           "grantControls": {"operator": "OR", "builtInControls": ["block"]}}
    pols = parse_policies(doc, "x.json")
    with pytest.raises(ConfigError, match="x.json:\\$: policy 'needs a location' refers to named location"):
        PolicySet(pols)
    lenient = PolicySet(pols, allow_unresolved=True)
    r = lenient.evaluate(ctx()).policies[0]
    assert not r.applies and "not loaded never match" in r.reason


def test_graph_examples_evaluate() -> None:
    from tests.conftest import sample
    from vigil.locations.named import load_named_locations
    from vigil.policy.parse import load_policies

    S = "ca-policies/"
    pols = load_policies(sample(S + "ca-policy-graph-v1-example1-exo-mfa-outside-trusted-response.json"),
                         sample(S + "ca-policy-graph-v1-signin-risk-mfa-request.json"))
    locs = load_named_locations(sample(S + "graph-v1_conditionalaccessroot-list-namedlocations_example1-response.json"))
    ps = PolicySet(pols, locs)
    member = ctx(user_id="4628e7df-dff3-407c-a08f-75f08c0806dc",
                 groups=frozenset({"ba8e7ded-8b0f-4836-ba06-8ff1ecc5c8ba"}))
    d = ps.evaluate(member.with_(ip="6.5.4.3"))  # a named but untrusted location: EXO policy applies
    assert [r.result for r in d.policies] == ["failure", "notApplied"] and d.required_controls == ("mfa",)
    d = ps.evaluate(member.with_(ip="2001:4898:80e8:1::1", sign_in_risk="high"))  # trusted IPv6: only risk policy
    assert [r.result for r in d.policies] == ["notApplied", "failure"]
    assert ps.evaluate(member.with_(ip="2001:4898:80e8:1::1")).decision == "allow"


def test_cae_strict_location_uses_the_ip_seen_by_the_resource(locations: Any) -> None:
    doc = {"id": "s", "displayName": "Block outside HQ, strictly", "state": "enabled",
           "conditions": {"users": {"includeUsers": ["All"]}, "applications": {"includeApplications": ["All"]},
                          "locations": {"includeLocations": ["All"], "excludeLocations": ["AllTrusted"]}},
           "grantControls": {"operator": "OR", "builtInControls": ["block"]},
           "sessionControls": {"continuousAccessEvaluation": {"mode": "strictLocation"}}}
    ps = PolicySet(parse_policies(doc), locations)
    assert ps.evaluate(ctx(ip=HQ_IP)).decision == "allow"
    assert ps.evaluate(ctx(ip=HQ_IP, resource_ip="203.0.113.99")).decision == "allow"  # both trusted
    d = ps.evaluate(ctx(ip=HQ_IP, resource_ip="192.0.2.50"))
    assert d.decision == "block" and d.blocking_policies == ("s",)
    assert "strict location enforcement" in d.reason and "192.0.2.50" in d.reason
    # without strict enforcement the resource provider's IP is not a condition
    del doc["sessionControls"]
    assert PolicySet(parse_policies(doc), locations).evaluate(ctx(ip=HQ_IP, resource_ip="192.0.2.50")
                                                              ).decision == "allow"
