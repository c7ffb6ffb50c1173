"""Evaluating a sign-in against a policy set, as Entra documents it.

* Every enabled and report-only policy is evaluated; within a policy the assignments are
  ANDed (:mod:`vigil.policy.conditions`).
* Enforcement uses enabled policies only: any applicable block wins; otherwise the unmet
  grant controls of every applicable policy are required (all applicable policies must be
  satisfied), in Entra's prompt order; then session controls of applicable policies apply.
* Report-only policies get reportOnly* results and never change the decision.

Per-policy results are shaped like Entra's ``appliedConditionalAccessPolicies``.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from vigil.errors import ConfigError
from vigil.policy.conditions import CONDITION_BITS, Check, LocationState, condition_keys, run_checks
from vigil.policy.context import SignInContext
from vigil.policy.grants import ACTIONABLE, GrantOutcome, evaluate_grant
from vigil.locations.named import IpNamedLocation, IpRange, NamedLocations
from vigil.policy.model import CONTROL_ORDER, MFA_TRUSTED_IPS_ID, Policy, SessionControls

_MCAS_RANK = {"monitorOnly": 1, "mcasConfigured": 2, "blockDownloads": 3}


@dataclass(slots=True)
class PolicyResult:
    id: str
    display_name: str
    state: str
    result: str  # success | failure | notApplied | notEnabled | reportOnly{Success,Failure,NotApplied,Interrupted}
    applies: bool
    checks: tuple[Check, ...]
    grant: GrantOutcome | None
    enforced_grant_controls: tuple[str, ...]
    enforced_session_controls: tuple[str, ...]
    reason: str

    @property
    def conditions_satisfied(self) -> list[str]:
        return [c.condition for c in self.checks if c.satisfied]

    @property
    def conditions_not_satisfied(self) -> list[str]:
        return [c.condition for c in self.checks if not c.satisfied]

    @property
    def first_unsatisfied(self) -> Check | None:
        return next((c for c in self.checks if not c.satisfied), None)

    def to_dict(self) -> dict[str, Any]:
        """An ``appliedConditionalAccessPolicy`` (Graph field names) plus vigil's explanation."""
        sat, unsat = self.conditions_satisfied, self.conditions_not_satisfied
        return {
            "id": self.id, "displayName": self.display_name, "result": self.result,
            "enforcedGrantControls": list(self.enforced_grant_controls),
            "enforcedSessionControls": list(self.enforced_session_controls),
            "conditionsSatisfied": ",".join(sat) or "none",
            "conditionsNotSatisfied": ",".join(unsat) or "none",
            "conditionsSatisfiedMask": sum(CONDITION_BITS[c] for c in sat),
            "conditionsNotSatisfiedMask": sum(CONDITION_BITS[c] for c in unsat),
            "includeRulesSatisfied": [{"conditionalAccessCondition": c.condition, "ruleSatisfied": c.include_rule}
                                      for c in self.checks if c.include_rule],
            "excludeRulesSatisfied": [{"conditionalAccessCondition": c.condition, "ruleSatisfied": c.exclude_rule}
                                      for c in self.checks if c.exclude_rule],
            "state": self.state, "reason": self.reason,
            "unmetGrantControls": list(self.grant.unmet) if self.grant and not self.grant.satisfied else [],
            "conditions": [{"condition": c.condition, "satisfied": c.satisfied, "reason": c.reason}
                           for c in self.checks],
        }


@dataclass(frozen=True)
class Decision:
    decision: str  # allow | challenge | block
    conditional_access_status: str  # success | failure | notApplied
    reason: str
    required_controls: tuple[str, ...]
    blocking_policies: tuple[str, ...]
    session_controls: dict[str, Any]
    policies: tuple[PolicyResult, ...]
    report_only_decision: str  # what the decision would be with report-only policies enforced
    inputs: dict[str, Any] = field(default_factory=dict)
    #: the risk levels used and where they came from, when a decision point supplied them
    risk: dict[str, Any] | None = None

    def to_dict(self, *, policies: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "decision": self.decision, "conditionalAccessStatus": self.conditional_access_status,
            "reason": self.reason, "requiredControls": list(self.required_controls),
            "blockingPolicies": list(self.blocking_policies), "sessionControls": self.session_controls,
            "reportOnlyDecision": self.report_only_decision,
        }
        if self.risk is not None:
            out["risk"] = self.risk
        if policies:
            out["appliedConditionalAccessPolicies"] = [p.to_dict() for p in self.policies]
        return out


class PolicySet:
    """Policies plus the named locations they refer to, ready to evaluate sign-ins.

    Every location id a policy names must be loaded (or be the built-in MFA trusted IPs id),
    otherwise construction fails naming the policy — unless ``allow_unresolved`` is set, in
    which case an unknown location id never matches and each affected result says so.
    """

    def __init__(self, policies: Sequence[Policy], locations: NamedLocations | None = None, *,
                 mfa_trusted_ips: Iterable[str] = (), allow_unresolved: bool = False) -> None:
        self.policies = tuple(policies)
        self.locations = locations or NamedLocations()
        ranges = []
        for cidr in mfa_trusted_ips:
            try:
                ranges.append(IpRange(cidr, ipaddress.ip_network(cidr, strict=False)))
            except ValueError:
                raise ConfigError(f"MFA trusted IP {cidr!r} is not a CIDR range", path="policy.mfa_trusted_ips") \
                    from None
        self.mfa_trusted = IpNamedLocation.create(MFA_TRUSTED_IPS_ID, "MFA trusted IPs", tuple(ranges),
                                                  is_trusted=True) if ranges else None
        self.unresolved: dict[str, set[str]] = {}
        for p in self.policies:
            missing = {i for i in p.location_ids() if i not in self.locations and i != MFA_TRUSTED_IPS_ID}
            if missing:
                if not allow_unresolved:
                    raise ConfigError(
                        f"policy {p.display_name!r} refers to named location(s) {', '.join(sorted(missing))} "
                        "that are not loaded (pass the tenant's namedLocations)", path=p.source)
                self.unresolved[p.id] = missing
        #: policies with CAE strict location enforcement (re-evaluated with the resource provider's IP)
        self._strict = tuple(p for p in self.policies if p.session_controls is not None
                             and p.session_controls.continuous_access_evaluation == "strictLocation"
                             and p.conditions.locations is not None)
        intern: dict[Any, int] = {}
        self._keys = {p.id: condition_keys(p, intern) for p in self.policies}
        # Entra's names for each policy's controls, computed once
        self._names = {p.id: (tuple(p.grant_controls.enforced_names()) if p.grant_controls else (),
                              tuple(p.session_controls.enforced_names()) if p.session_controls else ())
                       for p in self.policies}

    def __len__(self) -> int:
        return len(self.policies)

    def evaluate(self, ctx: SignInContext, *, enforce_report_only: bool = False) -> Decision:
        """Evaluate ``ctx``. ``enforce_report_only`` treats report-only policies as enabled
        (what-if for a proposed set)."""
        cache: list[LocationState] = []

        def state() -> LocationState:
            if not cache:
                cache.append(LocationState(ctx, self.locations, self.mfa_trusted))
            return cache[0]

        memo: dict[Any, Any] = {}  # condition verdicts shared between policies for this sign-in
        results = tuple(self._policy(p, ctx, state, enforce_report_only, memo) for p in self.policies)
        decision = _decide(results, self.policies, enforce_report_only)
        if ctx.resource_ip and ctx.resource_ip != ctx.ip and decision.decision != "block" and self._strict:
            return self._strict_location(ctx, decision, enforce_report_only)
        return decision

    def _strict_location(self, ctx: SignInContext, decision: Decision, enforce_ro: bool) -> Decision:
        """CAE strict location enforcement: policies with the session control
        ``continuousAccessEvaluation.mode = strictLocation`` are evaluated again with the IP the
        resource provider sees; one that blocks there blocks access (documented: an IP seen by the
        resource that the policy does not allow is blocked)."""
        seen = ctx.with_(ip=ctx.resource_ip)
        cache: list[LocationState] = []

        def state() -> LocationState:
            if not cache:
                cache.append(LocationState(seen, self.locations, self.mfa_trusted))
            return cache[0]

        memo: dict[Any, Any] = {}
        for p in self._strict:
            if p.state == "disabled" or (p.report_only and not enforce_ro):
                continue
            r = self._policy(p, seen, state, enforce_ro, memo)
            if r.applies and r.grant is not None and r.grant.blocked:
                why = (f"blocked by {p.display_name!r} under strict location enforcement: the resource provider "
                       f"sees {ctx.resource_ip} ({'; '.join(c.reason for c in r.checks if c.condition == 'location')})")
                return replace(decision, decision="block", conditional_access_status="failure", reason=why,
                               required_controls=(), blocking_policies=(p.id,), session_controls={})
        return decision

    def _policy(self, p: Policy, ctx: SignInContext, state: Any, enforce_ro: bool,
                memo: dict[Any, Any]) -> PolicyResult:
        grant_names, session_names = self._names[p.id]
        if p.state == "disabled":
            return PolicyResult(p.id, p.display_name, p.state, "notEnabled", False, (), None, grant_names,
                                session_names, "policy is disabled")
        report_only = p.report_only and not enforce_ro
        prefix = "reportOnly" if report_only else ""
        checks = tuple(run_checks(p, ctx, state, self.locations, memo, self._keys[p.id]))
        missing = self.unresolved.get(p.id)
        note = f" (named location(s) {', '.join(sorted(missing))} not loaded never match)" if missing else ""
        failed = checks[-1] if checks and not checks[-1].satisfied else None  # run_checks stops at it
        if failed is not None:
            result = "reportOnlyNotApplied" if report_only else "notApplied"
            return PolicyResult(p.id, p.display_name, p.state, result, False, checks, None, grant_names,
                                session_names, f"not applied: {failed.reason}{note}")
        if p.grant_controls is None:
            result = prefix + ("Success" if prefix else "success")
            why = "applies; session controls " + (", ".join(session_names) or "none")
            return PolicyResult(p.id, p.display_name, p.state, result, True, checks, None, grant_names,
                                session_names, why + note)
        outcome = evaluate_grant(p.grant_controls, ctx)
        if outcome.satisfied:
            result = "reportOnlySuccess" if report_only else "success"
            why = "applies; grant controls already satisfied"
        elif report_only:
            result = "reportOnlyInterrupted" if outcome.actionable else "reportOnlyFailure"
            why = f"applies; would {'block' if outcome.blocked else outcome.describe(p.grant_controls.operator)}"
        else:
            result = "failure"
            why = f"applies; {outcome.describe(p.grant_controls.operator)}"
        return PolicyResult(p.id, p.display_name, p.state, result, True, checks, outcome, grant_names,
                            session_names, why + note)


def _decide(results: tuple[PolicyResult, ...], policies: tuple[Policy, ...], enforce_ro: bool) -> Decision:
    by_id = {p.id: p for p in policies}
    enforced = [r for r in results if r.applies and (r.state == "enabled" or (enforce_ro and r.state != "disabled"))]
    decision, status, reason, required, blockers = _outcome(enforced, by_id)
    ro_enforced = [r for r in results if r.applies]
    ro_decision = _outcome(ro_enforced, by_id)[0]
    session = _merge_session([by_id[r.id] for r in enforced if decision != "block"])
    return Decision(decision, status, reason, required, blockers, session, results, ro_decision)


def _outcome(applied: list[PolicyResult], by_id: dict[str, Policy]
             ) -> tuple[str, str, str, tuple[str, ...], tuple[str, ...]]:
    if not applied:
        return "allow", "notApplied", "no enabled policy applies", (), ()
    blockers = [r for r in applied if r.grant is not None and r.grant.blocked]
    if blockers:
        names = ", ".join(repr(r.display_name) for r in blockers)
        first = blockers[0]
        cond = "; ".join(c.reason for c in first.checks if c.condition != "application") or "all conditions met"
        return ("block", "failure", f"blocked by {names} ({cond})", (), tuple(r.id for r in blockers))
    unmet = [r for r in applied if r.grant is not None and not r.grant.satisfied]
    if not unmet:
        names = ", ".join(repr(r.display_name) for r in applied)
        return "allow", "success", f"granted: {names} satisfied", (), ()
    hard = [r for r in unmet if r.grant is not None and not r.grant.actionable]
    required: list[str] = []
    for r in unmet:
        assert r.grant is not None
        operator = _operator(by_id[r.id])
        # with OR the user is prompted for the first option they can complete (documented prompt order)
        options = [u for u in r.grant.unmet if u.split(":", 1)[0] in ACTIONABLE]
        picks = options[:1] if operator == "OR" else options
        required.extend(x for x in picks if x not in required)
    required.sort(key=lambda x: CONTROL_ORDER.index(x.split(":", 1)[0]))
    details = "; ".join(f"{r.display_name!r} {r.grant.describe(_operator(by_id[r.id]))}"
                        for r in unmet if r.grant is not None)
    if hard:
        return ("block", "failure", f"cannot be satisfied in this sign-in: {details}", tuple(required),
                tuple(r.id for r in hard))
    return "challenge", "failure", f"user action required: {details}", tuple(required), ()


def _operator(policy: Policy) -> str:
    return policy.grant_controls.operator if policy.grant_controls is not None else "AND"


def _merge_session(applied: list[Policy]) -> dict[str, Any]:
    """The session controls of all applicable policies, most restrictive winning."""
    out: dict[str, Any] = {}
    for p in applied:
        s: SessionControls | None = p.session_controls
        if s is None:
            continue
        sif = s.sign_in_frequency
        if sif is not None and sif.seconds is not None:
            cur = out.get("signInFrequency")
            if cur is None or sif.seconds < cur["seconds"]:
                out["signInFrequency"] = {"seconds": sif.seconds, "frequencyInterval": sif.frequency_interval,
                                          "authenticationType": sif.authentication_type, "policy": p.display_name}
        if s.persistent_browser and out.get("persistentBrowser") != "never":
            out["persistentBrowser"] = s.persistent_browser
        if s.cloud_app_security and _MCAS_RANK[s.cloud_app_security] > _MCAS_RANK.get(
                out.get("cloudAppSecurity", ""), 0):
            out["cloudAppSecurity"] = s.cloud_app_security
        if s.continuous_access_evaluation:
            modes = out.setdefault("continuousAccessEvaluation", [])
            if s.continuous_access_evaluation not in modes:
                modes.append(s.continuous_access_evaluation)
        for key, on in (("applicationEnforcedRestrictions", s.application_enforced_restrictions),
                        ("disableResilienceDefaults", s.disable_resilience_defaults),
                        ("secureSignInSession", s.secure_sign_in_session)):
            if on:
                out[key] = True
    return out
