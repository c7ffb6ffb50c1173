"""Schema migrations: a store written by the previous release opens, every table intact, raw text
readable; a store from a newer vigil is refused before anything is touched."""
from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from tests.conftest import FIXTURES
from vigil.errors import StoreError
from vigil.store import open_store
from vigil.store.migrate import stored_version
from vigil.store.schema import SCHEMA_VERSION
from vigil.version import version

V1 = FIXTURES / "store" / "v1-store.duckdb.gz"
V1_COUNTS = json.loads((FIXTURES / "store" / "v1-store.counts.json").read_text())
BEHAVIOR = 'select * from "BehaviorAnalytics" order by SourceRecordId'


def _v1_copy(tmp_path: Path) -> Path:
    db = tmp_path / "old.duckdb"
    with gzip.open(V1) as src, db.open("wb") as out:
        shutil.copyfileobj(src, out)
    return db


def test_v1_store_migrates_forward_with_every_table(tmp_path: Path) -> None:
    db = _v1_copy(tmp_path)
    with duckdb.connect(str(db), read_only=True) as con:
        assert stored_version(con) == 1
        old_raw = dict(con.execute("select event_id, raw from raw_records").fetchall())
        old_behavior = con.execute(BEHAVIOR).fetchall()
    assert len(old_raw) == V1_COUNTS["tables"]["raw_records"] > 0

    with open_store(db) as store:
        tables = set(store.tables())
        for table, n in V1_COUNTS["tables"].items():
            assert table in tables, table
            if table != "vigil_meta":
                assert store.count(table) == n, table
        assert set(V1_COUNTS["views"]) <= tables
        for view in V1_COUNTS["views"]:
            store.scalar(f'select count(*) from "{view}"')  # every view still resolves
        # raw text moved into blocks: every record readable, byte for byte
        assert "raw_records_v1" not in tables
        assert store.count("raw_blocks") > 0
        assert store.raw(list(old_raw)) == {k: v.rstrip("\r\n") for k, v in old_raw.items()}
        # BehaviorAnalytics became a view over typed columns: every row reads back as stored, JSON text and all
        assert store.rows("select table_type from information_schema.tables where table_name = 'BehaviorAnalytics'") \
            == [("VIEW",)]
        assert store.rows(BEHAVIOR) == old_behavior and len(old_behavior) == V1_COUNTS["tables"]["BehaviorAnalytics"]
        assert "ActivityInsights" not in {c for (c,) in store.rows(
            "select column_name from duckdb_columns() where table_name = 'ueba_behavior'")}
        meta = dict(store.con.execute("select key, value from vigil_meta").fetchall())
        assert meta["schema_version"] == str(SCHEMA_VERSION) and meta["migrated_by"] == version()
        # the migrated store takes new work: the analysis re-runs on it
        from vigil.pipeline import run_stages
        from vigil.settings import load_settings

        run_stages(store, load_settings(overrides={"store.path": str(db)}, environ={}))
        assert store.count("signins") == V1_COUNTS["tables"]["signins"]

    with open_store(db) as store:  # a second open has nothing left to do
        assert store.count("raw_records") == len(old_raw)


def test_an_old_store_opened_read_only_names_the_upgrade(tmp_path: Path) -> None:
    db = _v1_copy(tmp_path)
    with pytest.raises(StoreError, match=r"schema version 1 .*`vigil upgrade --db STORE`"):
        open_store(db, read_only=True)
    with duckdb.connect(str(db), read_only=True) as con:
        assert stored_version(con) == 1  # untouched


def test_a_newer_store_is_refused_untouched(tmp_path: Path) -> None:
    db = tmp_path / "new.duckdb"
    with open_store(db) as store:
        store.con.execute("update vigil_meta set value = ? where key = 'schema_version'", [str(SCHEMA_VERSION + 1)])
        store.con.execute("update vigil_meta set value = '9.0.0' where key = 'migrated_by'")
    for read_only in (False, True):
        with pytest.raises(StoreError) as err:
            open_store(db, read_only=read_only)
        msg = str(err.value)
        assert f"schema version {SCHEMA_VERSION + 1}" in msg and "vigil 9.0.0" in msg and "upgrade vigil" in msg
        assert "\n" not in msg
    with duckdb.connect(str(db), read_only=True) as con:
        assert stored_version(con) == SCHEMA_VERSION + 1


def test_a_new_store_records_who_created_it(tmp_path: Path) -> None:
    with open_store(tmp_path / "fresh.duckdb") as store:
        meta = dict(store.con.execute("select key, value from vigil_meta").fetchall())
    assert meta == {"schema_version": str(SCHEMA_VERSION), "created_by": version(), "migrated_by": version()}


def test_v2_store_gets_audit_operation_type_and_details_from_the_raw_records(tmp_path: Path) -> None:
    from vigil.settings import load_settings
    from vigil.sources.ingest import ingest_paths

    db, log = tmp_path / "v2.duckdb", tmp_path / "AuditLogs.json"
    records = [{"TimeGenerated": f"2026-03-02T10:0{i}:00Z", "Id": f"a-{i}", "Type": "AuditLogs",
                "OperationName": op, "Category": "UserManagement", "Result": "success", "AADOperationType": kind,
                "AdditionalDetails": details, "InitiatedBy": {"user": {"userPrincipalName": "admin@contoso.com"}},
                "TargetResources": [{"type": "User", "userPrincipalName": "alice@contoso.com"}]}
               for i, (op, kind, details) in enumerate([
                   ("Update user", "Update", [{"key": "UserType", "value": "Member"}]),
                   ("Delete user", "Delete", json.dumps([{"key": "DeletedBy", "value": "x"}])),  # a JSON string
                   ("Add user", "", [])])]
    log.write_text("\n".join(json.dumps(r) for r in records))
    with open_store(db) as store:
        ingest_paths(store, [log], load_settings(overrides={"store.path": str(db)}, environ={}))
        want = store.query("select operation, operation_type, additional_details from directory_events "
                           "order by operation").to_pylist()
    assert [(w["operation_type"], w["additional_details"] is not None) for w in want] == [
        (None, True), ("Delete", True), ("Update", True)]
    # the store as schema 2 wrote it: no such columns
    with duckdb.connect(str(db)) as con:
        con.execute("alter table directory_events drop column operation_type")
        con.execute("alter table directory_events drop column additional_details")
        con.execute("update vigil_meta set value = '2' where key = 'schema_version'")
    with open_store(db) as store:
        got = store.query("select operation, operation_type, additional_details from directory_events "
                          "order by operation").to_pylist()
        assert store.scalar("select value from vigil_meta where key = 'schema_version'") == str(SCHEMA_VERSION)
    assert [{**g, "additional_details": json.loads(g["additional_details"])} for g in got] == [
        {**w, "additional_details": json.loads(w["additional_details"])} for w in want]
