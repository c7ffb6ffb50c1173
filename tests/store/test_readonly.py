"""The first layer of read-only hunting, on its own: what DuckDB itself refuses on a hardened store."""
from __future__ import annotations

import threading
from pathlib import Path

import duckdb
import pytest

from vigil.errors import QueryError, RefusedQuery
from vigil.store import Store, open_store
from vigil.store.readonly import HuntControl, harden, run_select

#: one statement each, past any front check: DuckDB must refuse them on its own
WRITES = [
    "DELETE FROM incidents",
    "INSERT INTO api_tokens VALUES ('x', 'forged', 'admin', 'h', now()::timestamp, 'x', NULL)",
    "CREATE TABLE incidents2 AS SELECT * FROM incidents",
    "DROP TABLE incidents",
    "UPDATE api_tokens SET role = 'admin'",
    "SET enable_external_access = true",
    "RESET threads",
    "CALL checkpoint()",
    "PRAGMA enable_profiling",
    "INSTALL httpfs",
    "LOAD httpfs",
    "COMMIT",
    "SELECT 1; DELETE FROM incidents",
    "CREATE TEMP TABLE t AS SELECT 1",
]


def _fingerprint(store: Store) -> tuple[object, ...]:
    return tuple(store.con.execute(
        f"SELECT count(*), md5(string_agg(t::VARCHAR, '|' ORDER BY t::VARCHAR)) FROM {name} t").fetchall()[0]
        for name in ("incidents", "api_tokens"))


@pytest.fixture
def hardened(tmp_path: Path) -> Store:
    store = open_store(tmp_path / "vigil.duckdb")
    store.con.execute("CREATE TABLE IF NOT EXISTS api_tokens (token_id VARCHAR, name VARCHAR, role VARCHAR, "
                      "token_hash VARCHAR, created_at TIMESTAMP, created_by VARCHAR, revoked_at TIMESTAMP)")
    store.con.execute("INSERT INTO api_tokens VALUES ('a', 'reader', 'reader', 'h', TIMESTAMP '2026-01-01', "
                      "'cli', NULL)")
    store.con.execute("CREATE TABLE IF NOT EXISTS incidents (incident_id VARCHAR, title VARCHAR)")
    store.con.execute("INSERT INTO incidents VALUES ('INC-1', 'x')")
    return store


@pytest.mark.parametrize("sql", WRITES)
def test_statements_other_than_one_select_are_refused(hardened: Store, sql: str) -> None:
    before = _fingerprint(hardened)
    with pytest.raises(RefusedQuery):
        run_select(hardened.con.cursor(), sql)
    assert _fingerprint(hardened) == before


@pytest.mark.parametrize("sql", [
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM glob('/etc/*')",
    "SELECT * FROM sniff_csv('/etc/passwd')",
    "SELECT * FROM parquet_metadata('/etc/passwd')",
])
def test_a_select_cannot_reach_the_file_system(hardened: Store, sql: str) -> None:
    with pytest.raises(RefusedQuery, match="file system"):
        run_select(hardened.con.cursor(), sql)


def test_the_transaction_itself_is_read_only(hardened: Store) -> None:
    """A data-modifying SELECT would still meet DuckDB's read-only transaction (the check runs first)."""
    cur = hardened.con.cursor()
    cur.execute("BEGIN TRANSACTION READ ONLY")
    with pytest.raises(duckdb.TransactionException, match="read-only"):
        cur.execute("DELETE FROM incidents")
    cur.execute("ROLLBACK")


def test_hardening_is_global_and_cannot_be_undone(hardened: Store, tmp_path: Path) -> None:
    """Measured: the setting holds on every cursor of the instance, the writer's included."""
    other = hardened.con.cursor()
    with pytest.raises(duckdb.PermissionException):
        other.execute(f"COPY incidents TO '{tmp_path / 'leak.csv'}'")
    with pytest.raises(duckdb.Error, match="Cannot enable external access"):
        other.execute("SET enable_external_access = true")
    assert not (tmp_path / "leak.csv").exists()
    harden(other)  # idempotent
    other.execute("INSERT INTO incidents VALUES ('INC-2', 'the writer still writes')")
    assert hardened.count("incidents") == 2


def test_a_store_opened_read_only_has_its_configuration_locked(hardened: Store) -> None:
    path = hardened.path
    hardened.close()
    with open_store(path, read_only=True) as ro:
        with pytest.raises(duckdb.Error, match="locked"):
            ro.con.execute("SET threads = 1")
        assert ro.con.cursor().sql("SELECT current_setting('TimeZone')").fetchall() == [("UTC",)]
        harden(ro.con)  # a no-op on a locked, hardened instance


def test_export_still_writes_files(hardened: Store, tmp_path: Path) -> None:
    out = hardened.export("incidents", tmp_path / "incidents.csv", "csv")
    assert out.read_text().splitlines()[1].startswith("INC-1,x")


def test_the_time_limit_interrupts_the_query(hardened: Store) -> None:
    with pytest.raises(QueryError, match="longer than the 0.5 s limit"):
        run_select(hardened.con.cursor(), "SELECT count(*) FROM range(10000000000000)", control=HuntControl(0.5))
    assert run_select(hardened.con.cursor(), "SELECT 42 AS x").to_pylist() == [{"x": 42}]


def test_cancel_interrupts_from_another_thread(hardened: Store) -> None:
    control = HuntControl(None)
    threading.Timer(0.3, control.cancel).start()
    with pytest.raises(QueryError, match="cancelled"):
        run_select(hardened.con.cursor(), "SELECT count(*) FROM range(10000000000000)", control=control)
    with pytest.raises(QueryError, match="cancelled"):  # a cancelled hunt runs no further statement
        run_select(hardened.con.cursor(), "SELECT 1", control=control)


def test_the_snapshot_folder_is_the_only_one_the_instance_opens_files_in(tmp_path: Path) -> None:
    """`vigil serve` writes a backup's store copy in one staging folder; nothing beside or above it opens."""
    staging = tmp_path / "backups" / ".snapshot"
    staging.mkdir(parents=True)
    with open_store(tmp_path / "vigil.duckdb", snapshot_dir=staging) as store:
        store.con.execute(f"ATTACH '{staging / 'copy.duckdb'}' AS copy")
        store.con.execute("DETACH copy")
        for outside in (tmp_path / "backups" / ".snapshot-other.duckdb", tmp_path / "backups" / "k.duckdb",
                        staging / ".." / "up.duckdb"):
            with pytest.raises(duckdb.PermissionException):
                store.con.execute(f"ATTACH '{outside}' AS o")
            assert not outside.exists()
