"""The recorder of real-time detections: off the request path, nothing lost on shutdown."""
from __future__ import annotations

import threading
from functools import partial
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.risk.helpers import add_detections, detection
from vigil.risk import lifecycle
from vigil.risk.recorder import DetectionRecorder, detection_rows, write_detections
from vigil.settings import RiskSettings
from vigil.store import Store

SIGNAL = {"riskEventType": "unfamiliarFeatures", "riskLevel": "medium", "reason": "asn, location and device new",
          "detection": "unfamiliarFeatures", "evidence": {"unfamiliar": ["asn", "location", "device"]}}
T = datetime(2026, 1, 20, 9, 0, tzinfo=UTC).timestamp()


def rows(n: int, tag: str = "c") -> list[dict[str, Any]]:
    return detection_rows([SIGNAL], correlation_id=f"{tag}-{n}", when=T + n, user_id="ada-id",
                          user_principal_name="Ada@contoso.com", ip="198.51.100.7", country="BR", session_id="s1")


def test_close_drains_everything_queued_behind_a_slow_store() -> None:
    written: list[dict[str, Any]] = []

    def slow(batch: list[dict[str, Any]]) -> None:
        time.sleep(0.01)
        written.extend(batch)

    rec = DetectionRecorder(slow, batch=7).start()
    for i in range(300):
        rec.record(rows(i) if i % 2 else partial(rows, i))  # rows, or a function making them on the writer
    stats = rec.close()
    assert stats["written"] == 300 and stats["pending"] == 0 and stats["spilled"] == 0
    assert sorted(r["requestId"] for r in written) == sorted(f"c-{i}" for i in range(300))
    with pytest.raises(RuntimeError, match="closed"):
        rec.record(rows(1))


def test_record_never_waits_for_the_store() -> None:
    gate = threading.Event()
    written: list[dict[str, Any]] = []

    def blocked(batch: list[dict[str, Any]]) -> None:
        gate.wait()
        written.extend(batch)

    rec = DetectionRecorder(blocked).start()
    for i in range(50):
        rec.record(rows(i))  # returns although the writer is stuck
    assert not written
    gate.set()
    assert rec.close()["written"] == 50 and len(written) == 50


def test_rows_that_cannot_be_written_are_spilled_and_written_at_the_next_start(tmp_path: Path) -> None:
    spill = tmp_path / "store.duckdb.realtime-detections.jsonl"

    def failing(batch: list[dict[str, Any]]) -> None:
        raise OSError("disk full")

    rec = DetectionRecorder(failing, spill=spill, retry_s=0.01).start()
    for i in range(20):
        rec.record(rows(i))
    stats = rec.close()
    assert stats["written"] == 0 and stats["spilled"] == 20 and rec.last_error == "disk full"
    assert len(spill.read_bytes().splitlines()) == 20

    written: list[dict[str, Any]] = []
    again = DetectionRecorder(written.extend, spill=spill).start()
    assert again.close()["written"] == 20 and not spill.exists()
    assert sorted(r["requestId"] for r in written) == sorted(f"c-{i}" for i in range(20))
    assert isinstance(written[0]["activityDateTime"], datetime)


def test_written_rows_are_risk_detections_and_give_way_to_the_batch_row(store: Store) -> None:
    assert write_detections(store, rows(0) + rows(1)) == 2
    assert write_detections(store, rows(0)) == 1  # the same decision again: kept once
    got = store.query("""select riskEventType, riskLevel, riskState, detectionTimingType, activity, userPrincipalName,
                           session_key, detection, json_extract_string(additionalInfo, '$.reason') as why
                         from "riskDetections" order by requestId""").to_pylist()
    assert len(got) == 2
    assert got[0] == {"riskEventType": "unfamiliarFeatures", "riskLevel": "medium", "riskState": "atRisk",
                      "detectionTimingType": "realtime", "activity": "signin", "userPrincipalName": "ada@contoso.com",
                      "session_key": "s:s1", "detection": "decisionPoint", "why": SIGNAL["reason"]}
    # the sign-in reaches the logs and the batch detection raises the same type for it: one detection stays
    add_detections(store, [detection(riskEventType="unfamiliarFeatures", userPrincipalName="ada@contoso.com",
                                     ipAddress="198.51.100.7", activityDateTime=datetime.fromtimestamp(T + 30, UTC).replace(tzinfo=None),
                                     event_id="e1")])
    lifecycle.apply(store, RiskSettings())
    left = store.rows("""select detection, count(*) from "riskDetections" group by 1 order by 1""")
    assert left == [("unfamiliarFeatures", 1)]


def test_a_sign_in_decided_twice_keeps_one_detection(store: Store) -> None:
    """Asked again after the MFA step-up: the same signal on the same user and IP minutes later."""
    write_detections(store, rows(0, "first") + rows(120, "again") + rows(3600, "later"))
    lifecycle.apply(store, RiskSettings())
    kept = [r[0] for r in store.rows("""select requestId from "riskDetections" order by activityDateTime""")]
    assert kept == ["first-0", "later-3600"]
