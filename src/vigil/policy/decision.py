"""The decision point: one loaded policy set answering access decisions in-process.

Build a :class:`DecisionPoint` once (``DecisionPoint.from_settings(settings)`` reads
``policy.policies`` / ``policy.named_locations``) and keep it where it is used: the HTTP router
(:mod:`vigil.api.policy`) holds its own in the application's state.

With :class:`~vigil.policy.riskinput.RiskInputs` (``DecisionPoint.from_settings(settings, store=...)``)
the decision uses vigil's own risk where the request gives none: the user's ``riskyUsers`` level
and a real-time score of the presented sign-in; the answer's ``risk`` says which levels were used
and where each came from.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from vigil.errors import ConfigError, StoreError
from vigil.policy.context import SignInContext, context_from_mapping
from vigil.policy.evaluate import Decision, PolicySet
from vigil.locations.named import NamedLocations, load_named_locations
from vigil.policy.parse import load_policies
from vigil.policy.riskinput import RiskInputs
from vigil.risk.recorder import DetectionRecorder
from vigil.settings import Settings
from vigil.store import Store

__all__ = ["Decision", "DecisionPoint", "decide", "load_policy_set"]


def load_policy_set(policies: str | Path | Sequence[str | Path], named_locations: str | Path | None = None, *,
                    mfa_trusted_ips: list[str] | None = None, allow_unresolved: bool = False) -> PolicySet:
    """Read policy file(s) and named locations and check that every reference resolves."""
    paths = [policies] if isinstance(policies, (str, Path)) else list(policies)
    locs = load_named_locations(named_locations) if named_locations else NamedLocations()
    return PolicySet(load_policies(*paths), locs, mfa_trusted_ips=mfa_trusted_ips or (),
                     allow_unresolved=allow_unresolved)


class DecisionPoint:
    """A policy set plus the evaluation entry point; thread-safe (evaluation is pure, profiles are
    swapped whole and the recorder is a queue)."""

    def __init__(self, policies: PolicySet, risk: RiskInputs | None = None,
                 risk_unavailable: str | None = None) -> None:
        self.policies = policies
        self.risk = risk
        #: why vigil's own risk is not applied although asked for (said in every answer)
        self.risk_unavailable = risk_unavailable

    @classmethod
    def from_settings(cls, settings: Settings, store: Store | None = None,
                      recorder: DetectionRecorder | None = None) -> DecisionPoint:
        """The configured policies; with ``store``, vigil's own risk from its profiles too (unless
        ``policy.realtime_risk`` is off)."""
        s = settings.policy
        if not s.policies:
            raise ConfigError("no conditional access policies configured (set policy.policies to a Graph "
                              "conditionalAccessPolicy JSON file)")
        locations = s.named_locations or settings.enrich.named_locations
        policies = load_policy_set(s.policies, locations, mfa_trusted_ips=s.mfa_trusted_ips,
                                   allow_unresolved=s.allow_unresolved_locations)
        risk, unavailable = None, None
        if store is not None and s.realtime_risk:
            try:
                risk = RiskInputs.from_store(store, settings, recorder)
            except StoreError as exc:  # decide on the request's risk alone, and say so in every answer
                unavailable = str(exc)
        return cls(policies, risk, unavailable)

    def decide(self, context: SignInContext | Mapping[str, Any], *, supplied: Collection[str] | None = None,
               score: bool | None = None, now: float | None = None, record: bool = True) -> Decision:
        """Decide ``context``. ``supplied`` names the fields the caller gave (a mapping's keys by
        default; for a context, a risk field counts as given when it is not ``none``); ``score``
        asks for real-time scoring even when a sign-in risk is given (None: only when not)."""
        if isinstance(context, SignInContext):
            ctx = context
        else:
            ctx = context_from_mapping(context)
            supplied = set(context) if supplied is None else supplied
        if self.risk is None:
            d = self.policies.evaluate(ctx)
            if self.risk_unavailable is None:
                return d
            return dataclasses.replace(d, reason=f"{d.reason}; vigil's own risk not applied: {self.risk_unavailable}",
                                       risk={"unavailable": self.risk_unavailable})
        ctx, assessment = self.risk.assess(ctx, supplied, score_sign_in=score, now=now, record=record)
        d = self.policies.evaluate(ctx)
        return dataclasses.replace(d, reason=f"{d.reason}; {assessment.summary()}", risk=assessment.to_dict())


def decide(context: SignInContext | Mapping[str, Any], point: DecisionPoint) -> Decision:
    """Evaluate a sign-in context against ``point`` and return the :class:`Decision` (decision,
    required controls, session controls, per-policy results, a human-readable reason and, when the
    point has vigil's risk, the levels used and the real-time signals)."""
    return point.decide(context)
