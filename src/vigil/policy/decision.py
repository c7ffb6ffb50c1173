"""The decision point: one loaded policy set answering access decisions in-process.

Build a :class:`DecisionPoint` once (``DecisionPoint.from_settings(settings)`` reads
``policy.policies`` / ``policy.named_locations``) and keep it where it is used: the HTTP router
(:mod:`vigil.api.policy`) holds its own in the application's state.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from vigil.errors import ConfigError
from vigil.policy.context import SignInContext, context_from_mapping
from vigil.policy.evaluate import Decision, PolicySet
from vigil.locations.named import NamedLocations, load_named_locations
from vigil.policy.parse import load_policies
from vigil.settings import Settings

__all__ = ["Decision", "DecisionPoint", "decide", "load_policy_set"]


def load_policy_set(policies: str | Path | Sequence[str | Path], named_locations: str | Path | None = None, *,
                    mfa_trusted_ips: list[str] | None = None, allow_unresolved: bool = False) -> PolicySet:
    """Read policy file(s) and named locations and check that every reference resolves."""
    paths = [policies] if isinstance(policies, (str, Path)) else list(policies)
    locs = load_named_locations(named_locations) if named_locations else NamedLocations()
    return PolicySet(load_policies(*paths), locs, mfa_trusted_ips=mfa_trusted_ips or (),
                     allow_unresolved=allow_unresolved)


class DecisionPoint:
    """A policy set plus the evaluation entry point; thread-safe (evaluation is pure)."""

    def __init__(self, policies: PolicySet) -> None:
        self.policies = policies

    @classmethod
    def from_settings(cls, settings: Settings) -> DecisionPoint:
        s = settings.policy
        if not s.policies:
            raise ConfigError("no conditional access policies configured (set policy.policies to a Graph "
                              "conditionalAccessPolicy JSON file)")
        locations = s.named_locations or settings.enrich.named_locations
        return cls(load_policy_set(s.policies, locations, mfa_trusted_ips=s.mfa_trusted_ips,
                                   allow_unresolved=s.allow_unresolved_locations))

    def decide(self, context: SignInContext | Mapping[str, Any]) -> Decision:
        ctx = context if isinstance(context, SignInContext) else context_from_mapping(context)
        return self.policies.evaluate(ctx)


def decide(context: SignInContext | Mapping[str, Any], point: DecisionPoint) -> Decision:
    """Evaluate a sign-in context against ``point`` and return the :class:`Decision` (decision,
    required controls, session controls, per-policy results and a human-readable reason)."""
    return point.decide(context)
