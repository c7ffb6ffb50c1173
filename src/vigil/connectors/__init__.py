"""Connectors: pull sign-ins, audit and risk from the tenant's APIs into the store.

Layer: above ``policy`` and ``risk`` (a connector writes their tables through their own
functions) and below ``pipeline`` / ``api``. Each connector is a module beside the others,
with a section under ``connectors`` in the settings; see docs/connectors.md.
"""
from __future__ import annotations

from typing import Any

from vigil.connectors.base import Connector
from vigil.errors import InputError
from vigil.settings import Settings
from vigil.store import Store


def _classes() -> dict[str, type[Connector]]:
    from vigil.connectors.graph import GraphConnector
    from vigil.connectors.o365 import O365Connector
    from vigil.connectors.okta import OktaConnector

    return {c.name: c for c in (GraphConnector, O365Connector, OktaConnector)}


def names() -> list[str]:
    return list(_classes())


def get(name: str, settings: Settings) -> Connector:
    classes = _classes()
    if name not in classes:
        raise InputError(f"unknown connector {name!r}; known: {', '.join(classes)}")
    return classes[name](settings)


def enabled(settings: Settings) -> list[Connector]:
    return [cls(settings) for name, cls in _classes().items() if getattr(settings.connectors, name).enabled]


def status(store: Store) -> list[dict[str, Any]]:
    """Every connector stream's status (last poll, records, lag behind the source, last error); the
    service's readiness check reads this."""
    from vigil.connectors.state import status_rows

    return status_rows(store)


def readiness(store: Store, settings: Settings) -> None:
    """Raises (naming the streams) while an enabled connector's last poll of a stream failed; the
    service's /readyz runs this."""
    wanted = {c.name for c in enabled(settings)}
    failing = [f"{r['connector']} {r['stream']}" for r in status(store)
               if r["connector"] in wanted and r.get("last_error")]
    if failing:
        raise RuntimeError("connector streams failing: " + ", ".join(failing))
