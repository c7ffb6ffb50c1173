"""Every log file the simulator writes goes through the spine's adapters with zero quarantines."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.simulate.conftest import LOG_FILES
from vigil.settings import Settings
from vigil.store import Store

EXPECTED_TABLE = {"SigninLogs.json": "signins", "AADNonInteractiveUserSignInLogs.json": "signins",
                  "OfficeActivity_ManagementAPI.json": "activities", "AuditLogs.json": "directory_events"}


@pytest.mark.parametrize("name", LOG_FILES)
def test_simulated_logs_ingest_without_quarantine(name: str, demo: tuple[Path, Any], store: Store,
                                                  settings: Settings) -> None:
    from vigil.sources.ingest import ingest_paths

    out, summary = demo
    (result,) = ingest_paths(store, [out / name], settings)
    assert result.error is None, result.error
    assert result.quarantined == 0, result.reasons
    assert result.read == summary.files[name]
    assert result.stored == result.read
    table = EXPECTED_TABLE[name]
    n = store.count(table)
    assert n == result.stored


def test_ingested_sign_ins_keep_the_join_keys(demo: tuple[Path, Any], store: Store, settings: Settings) -> None:
    from vigil.sources.ingest import ingest_paths

    out, _ = demo
    ingest_paths(store, [out / "SigninLogs.json", out / "AADNonInteractiveUserSignInLogs.json"], settings)
    row = store.con.execute(
        "select count(*) filter (where session_id is null), count(*) filter (where unique_token_id is null), "
        "count(*) filter (where latitude is null or asn is null) from signins where result_code = '0'").fetchone()
    assert row == (0, 0, 0)
