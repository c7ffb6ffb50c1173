"""Grant controls: which are satisfied by a sign-in, AND/OR, and what a user could still do.

Requirements are atoms (each built-in control, the authentication strength, each terms of
use, each custom factor). ``AND`` needs every atom, ``OR`` any one. An unmet atom is
*actionable* when the user can satisfy it inside the sign-in (MFA, authentication strength,
password change, risk remediation, terms of use, custom factors); device and app controls
and block are not — that is what separates Entra's reportOnlyInterrupted ("user action
required") from reportOnlyFailure.
"""
from __future__ import annotations

from dataclasses import dataclass

from vigil.policy.context import SignInContext
from vigil.policy.model import GrantControls

ACTIONABLE = frozenset({"mfa", "authenticationStrength", "passwordChange", "riskRemediation", "termsOfUse",
                        "customAuthenticationFactors"})

_WHY = {
    "block": "access is blocked",
    "mfa": "multifactor authentication",
    "compliantDevice": "a device marked compliant",
    "domainJoinedDevice": "a Microsoft Entra hybrid joined device",
    "approvedApplication": "an approved client app",
    "compliantApplication": "an app protection policy",
    "passwordChange": "a secure password change",
    "riskRemediation": "risk remediation",
    "termsOfUse": "accepting the terms of use",
    "customAuthenticationFactors": "a custom control",
}


@dataclass(frozen=True)
class GrantOutcome:
    satisfied: bool
    unmet: tuple[str, ...]  # control names not satisfied (for OR: every option, none met)
    actionable: bool  # the user could satisfy the policy within the sign-in
    blocked: bool

    def describe(self, operator: str) -> str:
        if self.blocked:
            return "block"
        joiner = " and " if operator == "AND" else " or "
        return "requires " + joiner.join(_WHY.get(u.split(":", 1)[0], u) for u in self.unmet)


def _atoms(grant: GrantControls, ctx: SignInContext) -> list[tuple[str, bool]]:
    atoms: list[tuple[str, bool]] = []
    for control in grant.control_names():
        if control == "block":
            atoms.append(("block", False))
        elif control == "mfa":
            atoms.append(("mfa", ctx.mfa_satisfied))
        elif control == "authenticationStrength":
            strength = grant.authentication_strength
            assert strength is not None
            ok = any(combo <= ctx.authentication_methods for combo in strength.allowed_combinations)
            atoms.append((f"authenticationStrength:{strength.display_name or strength.id}", ok))
        elif control == "compliantDevice":
            atoms.append(("compliantDevice", ctx.device_compliant))
        elif control == "domainJoinedDevice":
            atoms.append(("domainJoinedDevice", ctx.device_hybrid_joined))
        elif control == "approvedApplication":
            atoms.append(("approvedApplication", ctx.approved_client_app))
        elif control == "compliantApplication":
            atoms.append(("compliantApplication", ctx.app_protection_policy))
        elif control == "passwordChange":
            atoms.append(("passwordChange", ctx.password_changed))
        elif control == "riskRemediation":
            atoms.append(("riskRemediation", ctx.risk_remediated))
        elif control == "termsOfUse":
            atoms.extend((f"termsOfUse:{t}", t in ctx.terms_of_use_accepted) for t in grant.terms_of_use)
        elif control == "customAuthenticationFactors":
            atoms.extend((f"customAuthenticationFactors:{f}", f in ctx.custom_factors_satisfied)
                         for f in grant.custom_factors)
    return atoms


def evaluate_grant(grant: GrantControls, ctx: SignInContext) -> GrantOutcome:
    atoms = _atoms(grant, ctx)
    blocked = any(name == "block" for name, _ in atoms)
    unmet = tuple(name for name, ok in atoms if not ok)
    satisfied = (not unmet) if grant.operator == "AND" else any(ok for _, ok in atoms)
    if satisfied:
        return GrantOutcome(True, (), False, False)
    kinds = [u.split(":", 1)[0] for u in unmet]
    # AND: every unmet control must be one the user can complete; OR: one such option suffices
    check = all if grant.operator == "AND" else any
    actionable = check(k in ACTIONABLE for k in kinds)
    return GrantOutcome(False, unmet, actionable and not blocked, blocked)
