"""Every log file the simulator writes goes through the spine's adapters with zero quarantines."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.simulate.conftest import LOG_FILES
from vigil.settings import load_settings
from vigil.store import Store, open_store

EXPECTED = {"SigninLogs.json": ("signins", "entra_signin_la"),
            "AADNonInteractiveUserSignInLogs.json": ("signins", "entra_signin_la"),
            "OfficeActivity_ManagementAPI.json": ("activities", "o365_management_api"),
            "AuditLogs.json": ("directory_events", "entra_audit_la"),
            "OktaSystemLog.json": ("signins", "okta_system")}


@pytest.fixture(scope="module")
def ingested(demo: tuple[Path, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, dict[str, Any]]]:
    from vigil.sources.ingest import ingest_paths

    out, _ = demo
    db = tmp_path_factory.mktemp("sim-ingest") / "vigil.duckdb"
    settings = load_settings(overrides={"store.path": str(db)}, environ={})
    store = open_store(db)
    results = {Path(r.path).name: r for r in ingest_paths(store, [out / n for n in LOG_FILES], settings)}
    yield store, results
    store.close()


@pytest.mark.parametrize("name", LOG_FILES)
def test_simulated_logs_ingest_without_quarantine(name: str, demo: tuple[Path, Any],
                                                  ingested: tuple[Store, dict[str, Any]]) -> None:
    _, summary = demo
    store, results = ingested
    result = results[name]
    assert result.error is None, result.error
    assert result.source_format == EXPECTED[name][1]
    assert result.quarantined == 0, result.reasons
    assert result.read == summary.files[name]
    assert result.stored == result.read
    table, fmt = EXPECTED[name]
    n = store.con.execute(f"select count(*) from {table} where source_format = ? and source_file like ?",
                          [fmt, f"%{name}"]).fetchone()
    assert n == (result.stored,)


def test_ingested_rows_keep_the_join_keys(ingested: tuple[Store, dict[str, Any]]) -> None:
    store, _ = ingested
    row = store.con.execute(
        "select count(*) filter (where session_id is null), count(*) filter (where unique_token_id is null), "
        "count(*) filter (where (latitude is null and country is not null) or asn is null) "
        "from signins where result_code = '0'").fetchone()
    assert row == (0, 0, 0)
    orphans = store.con.execute(
        "select count(*) from activities a where not exists (select 1 from signins s "
        "where s.session_id = a.session_id and s.unique_token_id = a.unique_token_id)").fetchone()
    assert orphans == (0,)


def test_labels_resolve_to_stored_events(demo: tuple[Path, Any], ingested: tuple[Store, dict[str, Any]]) -> None:
    import orjson

    out, _ = demo
    store, _ = ingested
    labels = [x for x in map(orjson.loads, (out / "labels.jsonl").read_bytes().splitlines()) if x["kind"] == "event"]
    ids = [x["record_id"] for x in labels]
    found = store.con.execute(
        "select count(distinct source_record_id) from (select source_record_id from signins union all "
        "select source_record_id from activities union all select source_record_id from directory_events) "
        "where source_record_id in (select unnest(?))", [ids]).fetchone()
    assert found == (len(set(ids)),)
