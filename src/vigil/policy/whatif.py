"""What-if for one hypothetical sign-in, answered like Graph's ``conditionalAccess/evaluate``.

Each result is a ``whatIfAnalysisResult``: the policy (Graph properties) plus
``policyApplies`` and, when it does not apply, ``analysisReasons`` naming the FIRST
condition that is not satisfied. As documented for the What If tool, a condition whose input
was not supplied does not apply (a location policy needs an IP or a country; a sign-in risk
policy needs a sign-in risk), disabled policies report ``policyNotEnabled`` and a policy with
neither grant nor session controls reports ``emptyPolicy``.
"""
from __future__ import annotations

from collections.abc import Collection
from typing import Any

from vigil.policy.context import SignInContext
from vigil.policy.evaluate import Decision, PolicyResult, PolicySet
from vigil.policy.model import Policy

#: condition flag -> context fields of which at least one must be supplied
_NEEDS = {
    "location": ("ip", "country", "gps_country"),
    "devicePlatform": ("platform",),
    "signInRisk": ("sign_in_risk",),
    "userRisk": ("user_risk",),
    "servicePrincipalRisk": ("service_principal_risk",),
    "insiderRisk": ("insider_risk",),
    "authenticationFlows": ("authentication_flow",),
    "clientType": ("client_app_type",),
}


def _input_free(p: Policy, condition: str) -> bool:
    """A condition every value satisfies needs no input (client apps "all", location "All" only)."""
    c = p.conditions
    if condition == "clientType":
        return "all" in c.client_app_types
    if condition == "location":
        return (c.locations is not None and c.locations.include_locations == {"All"}
                and not c.locations.exclude_locations)
    if condition == "devicePlatform":
        return c.platforms is not None and "all" in c.platforms.include_platforms and not c.platforms.exclude_platforms
    return False


def _result(p: Policy, r: PolicyResult, supplied: Collection[str] | None) -> dict[str, Any]:
    applies, reasons, why = r.applies, [], r.reason
    if p.state == "disabled":
        applies, reasons, why = False, ["policyNotEnabled"], "policy is disabled"
    elif p.grant_controls is None and p.session_controls is None:
        applies, reasons, why = False, ["emptyPolicy"], "policy has neither grant nor session controls"
    else:
        missing = None
        if supplied is not None:
            missing = next((c for c in r.checks if c.condition in _NEEDS and not _input_free(p, c.condition)
                            and not any(f in supplied for f in _NEEDS[c.condition])), None)
        first = r.first_unsatisfied
        if first is not None and (missing is None or r.checks.index(first) < r.checks.index(missing)):
            applies, reasons = False, [first.whatif]
        elif missing is not None:
            applies, reasons = False, [missing.whatif]
            why = f"not applied: {missing.condition} condition configured but not supplied in the what-if request"
    raw = {k: v for k, v in p.raw.items() if not k.startswith("@odata")}
    return {**raw, "id": p.id, "displayName": p.display_name, "state": p.state, "policyApplies": applies,
            "analysisReasons": ",".join(reasons) if reasons else "notSet", "reason": why, "result": r.result,
            "enforcedGrantControls": list(r.enforced_grant_controls),
            "enforcedSessionControls": list(r.enforced_session_controls),
            "unmetGrantControls": list(r.grant.unmet) if r.grant and not r.grant.satisfied else []}


def whatif(policies: PolicySet, ctx: SignInContext, *, supplied: Collection[str] | None = None,
           applied_only: bool = False) -> dict[str, Any]:
    """Evaluate ``ctx`` and answer with ``value`` (whatIfAnalysisResult list) and the decision.

    ``supplied`` lists the context fields the caller actually gave (None: treat all as given)."""
    decision: Decision = policies.evaluate(ctx)
    by_id = {p.id: p for p in policies.policies}
    value = [_result(by_id[r.id], r, supplied) for r in decision.policies]
    if applied_only:
        value = [v for v in value if v["policyApplies"]]
    return {"value": value, "decision": decision.to_dict(policies=False)}
