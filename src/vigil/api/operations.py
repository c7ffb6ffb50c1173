"""Writes that other areas own, called through their Python functions (never re-implemented)."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow as pa

from vigil.cae import stage as cae_stage
from vigil.cae.service import CaeService
from vigil.hunt import run_hunt
from vigil.identity import actions as identity_actions
from vigil.incidents import actions as incident_actions
from vigil.pipeline import run_stages
from vigil.risk import actions as risk_actions
from vigil.settings import RiskSettings, Settings
from vigil.sources.ingest import ingest_paths
from vigil.store import Store
from vigil.store.readonly import HuntControl

#: a user-risk admin action of vigil.risk.actions
RiskAction = Callable[..., dict[str, Any]]

#: Graph action name -> function of vigil.risk.actions
RISK_ACTIONS: dict[str, RiskAction] = {
    "dismiss": risk_actions.dismiss,
    "confirmCompromised": risk_actions.confirm_compromised,
    "confirmSafe": risk_actions.confirm_safe,
}


def set_incident_status(store: Store, incident_id: str, status: str, classification: str | None,
                        actor: str) -> dict[str, Any]:
    return dict(incident_actions.set_status(store, incident_id, status=status, classification=classification,
                                            actor=actor))


def add_incident_comment(store: Store, incident_id: str, text: str, actor: str) -> dict[str, Any]:
    return dict(incident_actions.add_comment(store, incident_id, text=text, author=actor))


def risk_action(store: Store, action: str, user_ids: list[str], actor: str, reason: str | None,
                settings: Settings) -> dict[str, Any]:
    """A user-risk admin action through the risk area (recorded in riskActions, lifecycle re-applied)."""
    risk: RiskSettings = settings.risk
    return dict(RISK_ACTIONS[action](store, user_ids, actor=actor, reason=reason, settings=risk))


def identity_link(store: Store, action: str, first: str, second: str, actor: str,
                  reason: str | None) -> dict[str, Any]:
    """Link or unlink two accounts through the identity area (recorded in identity_link_actions)."""
    return identity_actions.record(store, action, first, second, actor=actor, reason=reason)


def ingest(store: Store, paths: list[Path], settings: Settings) -> list[dict[str, Any]]:
    """Ingest files through the sources area; one result per file (errors recorded, not raised)."""
    return [r.as_dict() for r in ingest_paths(store, list(paths), settings)]


def analyze(store: Store, settings: Settings, cae: CaeService | None = None) -> dict[str, Any]:
    """Every stage; the CAE stage records into ``cae`` (the service's own) when given."""
    replace = {"cae": partial(cae_stage.run, service=cae)} if cae is not None else None
    return run_stages(store, settings, replace=replace)


def hunt(store: Store, query: str, now: datetime | None = None, control: HuntControl | None = None) -> pa.Table:
    """Run KQL through ``vigil.hunt.run_hunt``; returns an Arrow table.

    ``now`` anchors ``now()`` / ``ago()`` (None: the wall clock); ``control`` is the hunt's time limit and
    cancellation (:class:`vigil.store.readonly.HuntControl`)."""
    return run_hunt(store, query, now=now, control=control)
