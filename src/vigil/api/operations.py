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


def dismiss_user_risk(store: Store, user_ids: list[str], actor: str, reason: str | None) -> dict[str, Any]:
    fn = _owner("vigil.risk.actions", "dismiss")
    return dict(fn(store, user_ids, actor=actor, reason=reason))


def confirm_user_compromised(store: Store, user_ids: list[str], actor: str,
                             reason: str | None) -> dict[str, Any]:
    fn = _owner("vigil.risk.actions", "confirm_compromised")
    return dict(fn(store, user_ids, actor=actor, reason=reason))


def ingest(store: Store, paths: list[Path], settings: Settings) -> dict[str, Any]:
    fn = _owner("vigil.sources.ingest", "ingest_paths")
    return dict(fn(store, paths, settings))


def analyze(store: Store, settings: Settings) -> dict[str, Any]:
    from vigil.pipeline import run_stages

    return run_stages(store, settings)


def hunt(store: Store, query: str, now: datetime | None = None) -> Any:
    """Run KQL through the UEBA area's ``vigil.hunt.run_hunt``; returns an Arrow table.

    ``now`` anchors ``now()`` / ``ago()`` (None: the wall clock)."""
    fn = _owner("vigil.hunt", "run_hunt")
    return fn(store, query, now=now)
