"""Pipeline stage ``detections``: run every enabled detection, replace vigil's riskDetections."""
from __future__ import annotations

from typing import Any

from vigil.detections import engine
from vigil.settings import Settings
from vigil.store import Store


def run(store: Store, settings: Settings) -> dict[str, Any]:
    return engine.summary(engine.run(store, settings))
