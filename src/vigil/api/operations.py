"""Writes that other areas own, called through their Python functions (never re-implemented).

Each function imports its owner lazily so a missing area gives a clear 501, naming the
module, instead of an import error at start-up.
"""
from __future__ import annotations

import importlib
from datetime import datetime
from pathlib import Path
from typing import Any

from vigil.errors import VigilError
from vigil.settings import Settings
from vigil.store import Store


class NotAvailable(VigilError):
    """The area that owns this operation is not installed (HTTP 501)."""


def _owner(module_name: str, attr: str) -> Any:
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise NotAvailable(f"{module_name} is not installed, so {attr} is not available") from None
        raise
    fn = getattr(module, attr, None)
    if fn is None:
        raise NotAvailable(f"{module_name} has no {attr}()")
    return fn


def set_incident_status(store: Store, incident_id: str, status: str, classification: str | None,
                        actor: str) -> dict[str, Any]:
    fn = _owner("vigil.incidents.actions", "set_status")
    return dict(fn(store, incident_id, status=status, classification=classification, actor=actor))


def add_incident_comment(store: Store, incident_id: str, text: str, actor: str) -> dict[str, Any]:
    fn = _owner("vigil.incidents.actions", "add_comment")
    return dict(fn(store, incident_id, text=text, author=actor))


#: Graph action name -> function of vigil.risk.actions
RISK_ACTIONS = {"dismiss": "dismiss", "confirmCompromised": "confirm_compromised", "confirmSafe": "confirm_safe"}


def risk_action(store: Store, action: str, user_ids: list[str], actor: str, reason: str | None,
                settings: Settings) -> dict[str, Any]:
    """A user-risk admin action through the risk area (recorded in riskActions, lifecycle re-applied)."""
    fn = _owner("vigil.risk.actions", RISK_ACTIONS[action])
    return dict(fn(store, user_ids, actor=actor, reason=reason, settings=getattr(settings, "risk", None)))


def ingest(store: Store, paths: list[Path], settings: Settings) -> list[dict[str, Any]]:
    """Ingest files through the sources area; one result per file (errors recorded, not raised)."""
    fn = _owner("vigil.sources.ingest", "ingest_paths")
    return [r.as_dict() for r in fn(store, list(paths), settings)]


def analyze(store: Store, settings: Settings) -> dict[str, Any]:
    from vigil.pipeline import run_stages

    return run_stages(store, settings)


def hunt(store: Store, query: str, now: datetime | None = None) -> Any:
    """Run KQL through the UEBA area's ``vigil.hunt.run_hunt``; returns an Arrow table.

    ``now`` anchors ``now()`` / ``ago()`` (None: the wall clock)."""
    fn = _owner("vigil.hunt", "run_hunt")
    return fn(store, query, now=now)
