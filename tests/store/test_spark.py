"""The Spark store: DuckDB's DML meaning on immutable DataFrames, transactions, errors that name the
stage and statement, and the lake round trip."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from vigil.errors import PortabilityError
from vigil.store import Store
from vigil.store.lake import export_lake, load_lake
from vigil.store.spark import SparkStore, open_spark_store

pytestmark = pytest.mark.slow

pytest.importorskip("pyspark", reason="the spark extra is not installed (scripts/setup.sh installs it)")


@pytest.fixture
def db(spark: Any) -> Iterator[SparkStore]:
    s = SparkStore(spark, "mem")
    s.execute("CREATE TABLE kv (k VARCHAR NOT NULL, v INTEGER, note VARCHAR, PRIMARY KEY (k))")
    s.execute("INSERT INTO kv VALUES ('a', 1, NULL), ('b', 2, 'x'), ('c', NULL, 'y')")
    yield s
    s.close()


def test_insert_delete_update_mean_what_they_mean_in_duckdb(db: SparkStore) -> None:
    db.execute("INSERT INTO kv (k) SELECT 'd'")
    assert db.rows("SELECT k, v FROM kv WHERE k = 'd'") == [("d", None)]
    db.execute("DELETE FROM kv WHERE v > 1")  # NULL is not true: 'c' and 'd' stay
    assert db.rows("SELECT k FROM kv ORDER BY k") == [("a",), ("c",), ("d",)]
    db.execute("UPDATE kv SET v = v + 10, note = 'n' || coalesce(CAST(v AS VARCHAR), '-') WHERE k <> 'd'")
    assert db.rows("SELECT k, v, note FROM kv ORDER BY k") == [("a", 11, "n1"), ("c", None, "n-"), ("d", None, None)]
    db.execute("CREATE TEMP TABLE src AS SELECT 'c' AS k, 7 AS w UNION ALL SELECT 'zz', 8")
    db.execute("UPDATE kv t SET v = s.w FROM src s WHERE t.k = s.k")
    assert db.rows("SELECT k, v FROM kv ORDER BY k") == [("a", 11), ("c", 7), ("d", None)]
    assert db.count("kv") == 3 and "src" in db.relations()


def test_insert_or_replace_and_on_conflict_use_the_primary_key(db: SparkStore) -> None:
    db.execute("INSERT OR REPLACE INTO kv VALUES (?, ?, ?), ('e', 5, NULL)", ["a", 100, "new"])
    db.execute("INSERT INTO kv VALUES ('b', 200, 'no'), ('f', 6, NULL) ON CONFLICT DO NOTHING")
    assert db.rows("SELECT k, v FROM kv ORDER BY k") == [("a", 100), ("b", 2), ("c", None), ("e", 5), ("f", 6)]


def test_views_follow_the_tables_under_them(db: SparkStore) -> None:
    db.execute("CREATE OR REPLACE VIEW big AS SELECT k FROM kv WHERE v >= 2")
    assert db.rows("SELECT * FROM big") == [("b",)]
    db.execute("UPDATE kv SET v = 5 WHERE k = 'a'")
    assert sorted(db.rows("SELECT * FROM big")) == [("a",), ("b",)]


def test_a_transaction_rolls_back_whole(db: SparkStore) -> None:
    with pytest.raises(RuntimeError), db.transaction():
        db.execute("DELETE FROM kv")
        db.execute("CREATE TABLE extra (x INTEGER)")
        raise RuntimeError("interrupted")
    assert db.count("kv") == 3 and not db.exists("extra")
    db.execute("BEGIN TRANSACTION")
    db.execute("DELETE FROM kv WHERE k = 'a'")
    db.execute("COMMIT")
    assert db.count("kv") == 2


def test_failures_name_the_stage_and_the_statement(db: SparkStore) -> None:
    db.stage = "sessions"
    with pytest.raises(PortabilityError, match=r"stage sessions: Spark refused .*no_such_column.*SELECT no_such"):
        db.rows("SELECT no_such_column FROM kv")
    with pytest.raises(PortabilityError, match=r"stage sessions: ASOF JOIN"):
        db.execute("CREATE TABLE x AS SELECT * FROM kv a ASOF JOIN kv b ON a.v >= b.v")
    with pytest.raises(PortabilityError, match="no Spark formulation for CREATE MACRO|cannot parse"):
        db.execute("CREATE MACRO m(a) AS a + 1")


def test_lake_round_trip_through_spark(store: Store, tmp_path: Path, spark: Any) -> None:
    store.execute("CREATE TABLE notes (k VARCHAR PRIMARY KEY, ts TIMESTAMP, doc JSON, n DOUBLE)")
    store.execute("INSERT INTO notes VALUES ('x', TIMESTAMP '2026-03-01 10:00:00.123456', '{\"a\": [1]}', 1.5), "
                  "('y', NULL, NULL, NULL)")
    export_lake(store, tmp_path / "lake", ["notes"])
    with open_spark_store(tmp_path / "lake", spark=spark) as s:
        assert s.rows("SELECT k, ts FROM notes ORDER BY k")[0][1].microsecond == 123456
        s.execute("INSERT OR REPLACE INTO notes VALUES ('y', TIMESTAMP '2026-03-02 00:00:00', '[]', 2.0)")
        s.save(tmp_path / "lake")
    assert sorted(p.parent.name for p in (tmp_path / "lake" / "notes").rglob("*.parquet")) == \
        ["date=2026-03-01", "date=2026-03-02"]
    load_lake(store, tmp_path / "lake", ["notes"])
    assert store.rows("SELECT k, ts, doc::VARCHAR, n FROM notes ORDER BY k")[1][1:] == \
        (datetime(2026, 3, 2), "[]", 2.0)


def test_rewritten_constructs_mean_what_they_mean_in_duckdb(db: SparkStore) -> None:
    db.execute("CREATE TABLE ev (g VARCHAR, t INTEGER, i INTEGER, u VARCHAR, doc JSON)")
    db.execute("""INSERT INTO ev VALUES ('a', 1, 1, 'x', '{"k": [1]}'), ('a', 2, NULL, 'y', NULL),
                  ('a', 2, 3, 'z', '[]'), ('a', NULL, 0, 'w', NULL)""")
    # mixed directions: t DESC (NULLs last), then i NULLS FIRST
    assert db.scalar("SELECT list(u ORDER BY t DESC, i NULLS FIRST) FROM ev") == ["y", "z", "x", "w"]
    assert db.scalar("SELECT extract(epoch FROM TIMESTAMP '1970-01-01 00:00:01.25')") == 1.25
    assert db.rows("SELECT DISTINCT count(DISTINCT t, i) OVER (PARTITION BY g) FROM ev") == [(2,)]  # (2, 3), (1, 1)
    docs = db.rows("SELECT json_object('t', t, 'doc', doc, 'big', t > 1) FROM ev WHERE i IS NOT NULL ORDER BY i")
    assert [orjson.loads(r[0]) for r in docs] == [{"t": None, "doc": None, "big": None},
                                                  {"t": 1, "doc": {"k": [1]}, "big": False},
                                                  {"t": 2, "doc": [], "big": True}]
