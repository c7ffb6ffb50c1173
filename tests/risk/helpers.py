"""Risk-detection rows for risk and incident tests (as the detections stage writes them)."""
from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from tests.detections.upstream import insert
from vigil.detections.tables import RISK_DETECTIONS
from vigil.store import Store


def detection(**values: Any) -> dict[str, Any]:
    d: dict[str, Any] = {
        "riskEventType": "unfamiliarFeatures", "riskLevel": "medium", "riskState": "atRisk", "riskDetail": "none",
        "detectionTimingType": "offline", "activity": "signin", "activityDateTime": datetime(2026, 1, 5, 9),
        "detectedDateTime": datetime(2026, 1, 5, 9), "userPrincipalName": "ada@contoso.com", "userId": "ada",
        "source": "vigil", "additionalInfo": {"reason": "test", "evidence": {"x": 1}}, "mitre": [],
        "reason": "test finding",
    }
    d.update(values)
    d.setdefault("detection", d["riskEventType"])
    if not d.get("id"):
        d["id"] = hashlib.md5(repr(sorted(d.items(), key=lambda kv: kv[0])).encode()).hexdigest()[:16]
    return d


def add_detections(store: Store, rows: list[dict[str, Any]]) -> None:
    store.ensure([RISK_DETECTIONS])
    insert(store, "riskDetections", rows)
