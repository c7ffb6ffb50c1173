"""Every detection's own cases (``rules/<module>.yml``): events in, expected findings out."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.detections.cases import load, run_case
from vigil.detections import registry
from vigil.store import Store


def _params() -> list[Any]:
    out = []
    for det in registry.all_detections():
        spec = load(det)
        for case in spec.get("cases", []):
            out.append(pytest.param(det, spec, case, id=f"{det.id}:{case['name']}"))
    return out


@pytest.mark.parametrize(("det", "spec", "case"), _params())
def test_case(det: Any, spec: dict[str, Any], case: dict[str, Any], store: Store, tmp_path: Path) -> None:
    found = run_case(store, tmp_path, det, spec, case)
    keys = ("event_id", "risk_level", "user_principal_name")
    want = sorted(tuple(e.get(k) for k in keys if k in e) for e in case["expect"])
    got_keys = [k for k in keys if case["expect"] and k in case["expect"][0]] or ["event_id", "risk_level"]
    got = sorted(tuple(f[k] for k in got_keys) for f in found)
    assert got == want, f"findings: {[(f['event_id'], f['risk_level'], f['reason']) for f in found]}"
    for f in found:  # every finding explains itself
        assert f["reason"], f
        info = orjson.loads(f["additionalInfo"])
        assert info["detection"] == det.id and info["evidence"], info
    # an expected finding may pin evidence values and words of its reason
    by_event = {f["event_id"]: f for f in found}
    for e in case["expect"]:
        f = by_event.get(e.get("event_id"))
        if f is None:
            continue
        evidence = orjson.loads(f["additionalInfo"])["evidence"]
        for key, value in (e.get("evidence") or {}).items():
            assert evidence.get(key) == value, (key, evidence)
        for word in e.get("reason_has") or []:
            assert word in f["reason"], (word, f["reason"])
