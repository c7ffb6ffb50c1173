"""The Database interface as the DuckDB store implements it."""
from __future__ import annotations

import pytest

from vigil.store import Database, Store, transaction


def test_store_is_a_database(store: Store) -> None:
    assert isinstance(store, Database)
    assert store.dialect.name == "duckdb"


def test_relations_exists_and_count(store: Store) -> None:
    store.execute('create table "odd ""name""" (a int)')
    store.execute('insert into "odd ""name""" values (1), (2)')
    store.execute("create temp table _scratch as select 1 as x")
    store.execute("create view v_odd as select * from \"odd \"\"name\"\"\"")
    rel = store.relations()
    assert {'odd "name"', "_scratch", "v_odd", "vigil_meta"} <= rel
    assert store.tables() == sorted(rel)
    assert store.exists('odd "name"') and store.exists("v_odd") and store.exists("_scratch")
    assert not store.exists("nope")
    assert store.count('odd "name"') == 2 and store.count("v_odd") == 2


def test_fetch(store: Store) -> None:
    assert store.rows("select ?::int + 1", [1]) == [(2,)]
    assert store.scalar("select 1 where false") is None
    assert store.query("select 1 as a union all select 2").column("a").to_pylist() == [1, 2]


def test_transaction_commits_or_rolls_back_everything(store: Store) -> None:
    store.execute("create table t (a int)")
    with store.transaction():
        store.execute("insert into t values (1)")
    with pytest.raises(KeyboardInterrupt), store.transaction():
        store.execute("insert into t values (2)")
        raise KeyboardInterrupt  # not an Exception: still rolled back
    assert store.rows("select a from t") == [(1,)]


def test_transaction_on_sqlite_with_its_own_begin() -> None:
    import sqlite3

    con = sqlite3.connect(":memory:", isolation_level=None)
    con.execute("create table t (a int)")
    with pytest.raises(ValueError), transaction(con, "BEGIN IMMEDIATE"):
        con.execute("insert into t values (1)")
        raise ValueError
    with transaction(con, "BEGIN IMMEDIATE"):
        con.execute("insert into t values (2)")
    assert con.execute("select a from t").fetchall() == [(2,)]
