"""vigil's tenant simulator: a tenant's logs in the vendors' own formats, with ground truth.

``simulate_tenant(out_dir, users=..., days=..., seed=...)`` writes SigninLogs, AADNonInteractiveUserSignInLogs,
Office 365 Management API audit records, Entra AuditLogs, the Graph directory, named locations and
conditional-access policies, plus ``labels.jsonl`` and ``scenarios.jsonl``; see docs/simulate.md.
"""
from __future__ import annotations

from vigil.simulate.engine import (
    DEFAULT_CAMPAIGNS,
    DEFAULT_RATES,
    PRESETS,
    SimulationSummary,
    parse_rates,
    simulate_tenant,
)

__all__ = ["DEFAULT_CAMPAIGNS", "DEFAULT_RATES", "PRESETS", "SimulationSummary", "parse_rates", "simulate_tenant"]
