"""Pipeline stage ``incidents``: group detections and behaviour into incidents (ids stable)."""
from __future__ import annotations

from typing import Any

from vigil.incidents import build
from vigil.settings import Settings
from vigil.store import Store


def run(store: Store, settings: Settings) -> dict[str, Any]:
    return build.build(store, settings.incidents)
