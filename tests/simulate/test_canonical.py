"""The canonical-Parquet fast path: exact store columns, valid ids, join keys, loadable into a store."""
from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from vigil.simulate.canonical import arrow_schema, guids, ipv4_strings, utis, write_canonical
from vigil.store import Store
from vigil.store.schema import EVENT_TABLES


@pytest.fixture(scope="module")
def canon(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("canon")
    write_canonical(out, users=60, days=8, seed=2)
    return out


def test_tables_have_exactly_the_store_columns(canon: Path) -> None:
    for name, table in EVENT_TABLES.items():
        got = pq.read_schema(canon / f"{name}.parquet")
        assert got.names == table.column_names
        assert got == arrow_schema(table)


def test_event_ids_follow_the_ingest_rule_and_are_unique(canon: Path) -> None:
    for name in EVENT_TABLES:
        t = pq.read_table(canon / f"{name}.parquet", columns=["event_id", "source_format", "source_record_id"])
        rows = t.to_pylist()
        assert len({r["event_id"] for r in rows}) == len(rows)
        for r in rows[:200]:
            want = hashlib.md5(f"{r['source_format']}|{r['source_record_id']}".encode()).hexdigest()[:16]
            assert r["event_id"] == want


def test_activities_join_to_sign_in_tokens_and_sessions(canon: Path) -> None:
    con = duckdb.connect()
    s, a = canon / "signins.parquet", canon / "activities.parquet"
    orphans = con.execute(f"select count(*) from '{a}' x where not exists (select 1 from '{s}' y where "
                      "y.unique_token_id = x.unique_token_id and y.session_id = x.session_id "
                      "and y.user_id = x.user_id)").fetchone()
    assert orphans == (0,)
    assert con.execute(f"select count(*) from '{a}'").fetchone()[0] > 1000  # type: ignore[index]


def test_spray_is_labelled(canon: Path) -> None:
    con = duckdb.connect()
    labels, s = canon / "labels.parquet", canon / "signins.parquet"
    n, joined, codes = con.execute(
        f"select count(*), count(s.event_id), list(distinct s.result_code order by s.result_code) "
        f"from '{labels}' l left join '{s}' s using (event_id)").fetchone()  # type: ignore[misc]
    assert n > 0 and joined == n
    assert set(codes) <= {"50126", "50076"}


def test_canonical_tables_load_into_a_store(canon: Path, store: Store) -> None:
    for name in EVENT_TABLES:  # a store has no file access (docs/hunting.md): the rows arrive as Arrow
        store.con.register("canon_rows", pq.read_table(canon / (name + ".parquet")))
        store.con.execute(f"insert into {name} select * from canon_rows")
        store.con.unregister("canon_rows")
    assert store.count("signins") > 1000


def test_vectorised_helpers() -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    g = guids(rng, 5).to_pylist()
    assert all(len(x) == 36 and x[14] == "4" and x[19] in "89ab" for x in g)
    assert all(len(x) == 22 for x in utis(rng, 5).to_pylist())
    assert ipv4_strings(np.array([3232235777, 16909060])).to_pylist() == ["192.168.1.1", "1.2.3.4"]


def test_same_seed_same_parquet(tmp_path: Path) -> None:
    write_canonical(tmp_path / "a", users=10, days=2, seed=9)
    write_canonical(tmp_path / "b", users=10, days=2, seed=9)
    for name in ("signins.parquet", "activities.parquet"):
        assert pq.read_table(tmp_path / "a" / name).equals(pq.read_table(tmp_path / "b" / name))
