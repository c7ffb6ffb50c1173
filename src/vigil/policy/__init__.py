"""Conditional access: Graph policy model, exact evaluation, what-if and the decision point.

``vigil.locations.named`` is light and imported by other areas; the evaluator is loaded
lazily so importing this package stays cheap.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vigil.policy.decision import Decision, DecisionPoint


def decide(context: Any, point: DecisionPoint) -> Decision:
    """Evaluate a sign-in context (a ``SignInContext`` or a dict of its fields) against the
    policies of ``point`` (``DecisionPoint.from_settings(settings)``) and return the decision."""
    from vigil.policy.decision import decide as _decide

    return _decide(context, point)


__all__ = ["decide"]
