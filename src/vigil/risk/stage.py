"""Pipeline stage ``risk``: sign-in and user risk from detections, remediation and admin actions."""
from __future__ import annotations

from typing import Any

from vigil.risk import lifecycle
from vigil.settings import Settings
from vigil.store import Store


def run(store: Store, settings: Settings) -> dict[str, Any]:
    return lifecycle.apply(store, settings.risk)
