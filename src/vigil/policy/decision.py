"""The decision point: one loaded policy set answering access decisions in-process.

``vigil.policy.decide(context)`` uses the process-wide point (configure it with
:func:`configure`, or it is built once from settings ``policy.policies`` /
``policy.named_locations``); the HTTP router (:mod:`vigil.api.policy`) uses the same class.
"""
from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from vigil.errors import ConfigError
from vigil.policy.context import SignInContext, context_from_mapping
from vigil.policy.evaluate import Decision, PolicySet
from vigil.locations.named import NamedLocations, load_named_locations
from vigil.policy.parse import load_policies
from vigil.settings import Settings, load_settings

__all__ = ["Decision", "DecisionPoint", "configure", "decide", "load_policy_set"]


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


_default: DecisionPoint | None = None
_lock = threading.Lock()


def configure(point: DecisionPoint | None) -> None:
    """Set (or clear, with None) the process-wide decision point."""
    global _default
    with _lock:
        _default = point


def default_point() -> DecisionPoint:
    global _default
    with _lock:
        if _default is None:
            _default = DecisionPoint.from_settings(load_settings())
        return _default


def decide(context: SignInContext | Mapping[str, Any], point: DecisionPoint | None = None) -> Decision:
    """Evaluate a sign-in context and return the :class:`Decision` (decision, required
    controls, session controls, per-policy results and a human-readable reason)."""
    return (point or default_point()).decide(context)
