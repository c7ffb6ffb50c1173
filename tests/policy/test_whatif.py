from __future__ import annotations

from typing import Any

from tests.conftest import sample
from tests.policy.conftest import HQ_IP, ctx
from vigil.policy.evaluate import PolicySet
from vigil.locations.named import load_named_locations
from vigil.policy.parse import load_policies
from vigil.policy.whatif import whatif


def _by_name(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["displayName"]: v for v in result["value"]}


def test_first_unsatisfied_condition_is_the_reason(only: Any) -> None:
    ps = only("MFA outside trusted locations", "MFA for medium and high sign-in risk", "Disabled: block everyone",
              "Session controls for everyone")
    out = _by_name(whatif(ps, ctx(ip=HQ_IP, platform="windows")))
    assert out["MFA outside trusted locations"]["policyApplies"] is False
    assert out["MFA outside trusted locations"]["analysisReasons"] == "location"
    assert out["MFA for medium and high sign-in risk"]["analysisReasons"] == "signInRisk"
    assert out["Disabled: block everyone"]["analysisReasons"] == "policyNotEnabled"
    assert out["Session controls for everyone"]["policyApplies"] is True
    assert out["Session controls for everyone"]["analysisReasons"] == "notSet"


def test_users_reason_comes_before_others(only: Any) -> None:
    out = whatif(only("Report-only: MFA for Sales"), ctx(ip=HQ_IP))
    assert out["value"][0]["analysisReasons"] == "users"


def test_condition_without_input_does_not_apply(only: Any) -> None:
    ps = only("MFA outside trusted locations")
    supplied = {"user_id", "application_id", "platform", "client_app_type"}
    (v,) = whatif(ps, ctx(ip=None, country=None), supplied=supplied)["value"]
    assert v["policyApplies"] is False and v["analysisReasons"] == "location" and "not supplied" in v["reason"]
    (v,) = whatif(ps, ctx(), supplied=supplied | {"ip"})["value"]
    assert v["policyApplies"] is True


def test_applied_only_and_empty_policy(only: Any) -> None:
    from vigil.policy.parse import parse_policies

    ps = only("MFA outside trusted locations", "Block legacy authentication")
    out = whatif(ps, ctx(), applied_only=True)
    assert [v["displayName"] for v in out["value"]] == ["MFA outside trusted locations"]
    assert out["decision"]["decision"] == "challenge"
    empty = PolicySet(parse_policies({"displayName": "empty", "state": "enabled", "conditions": {
        "users": {"includeUsers": ["All"]}, "applications": {"includeApplications": ["All"]}}}))
    assert whatif(empty, ctx())["value"][0]["analysisReasons"] == "emptyPolicy"


def test_graph_examples_whatif() -> None:
    S = "ca-policies/"
    ps = PolicySet(load_policies(
        sample(S + "ca-policy-graph-v1-example1-exo-mfa-outside-trusted-response.json"),
        sample(S + "ca-policy-graph-v1-example3-all-conditions-response.json")),
        load_named_locations(sample(S + "graph-v1_conditionalaccessroot-list-namedlocations_example1-response.json")),
        allow_unresolved=True)
    out = _by_name(whatif(ps, ctx(user_id="someone-else")))
    assert out["Access to EXO requires MFA"]["analysisReasons"] == "users"
    assert out["Demo app for documentation"]["analysisReasons"] == "policyNotEnabled"
    # Graph's whatIfAnalysisResult carries the policy itself
    assert out["Access to EXO requires MFA"]["grantControls"]["builtInControls"] == ["mfa"]
