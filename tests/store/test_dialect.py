"""Quoting round-trips through DuckDB: what goes in comes back out, whatever the characters."""
from __future__ import annotations

from datetime import date, datetime

import duckdb
from hypothesis import given
from hypothesis import strategies as st

from vigil.store import DUCKDB, array, ident, in_list, literal

con = duckdb.connect()
text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)


@given(text)
def test_literal_round_trips_any_text(value: str) -> None:
    assert con.execute(f"select {literal(value)}").fetchall()[0][0] == value


@given(text.filter(lambda s: s.strip() != ""))
def test_ident_round_trips_any_name(name: str) -> None:
    rel = con.sql(f"select 1 as {ident(name)}")
    assert rel.columns == [name]


def test_literal_types() -> None:
    got = con.execute(f"select {literal(None)}, {literal(True)}, {literal(3)}, {literal(2.5)}, "
                      f"{literal(date(2026, 1, 2))}, {literal(datetime(2026, 1, 2, 3, 4, 5))}").fetchall()[0]
    assert got == (None, True, 3, 2.5, date(2026, 1, 2), datetime(2026, 1, 2, 3, 4, 5))


def test_lists() -> None:
    values = ["x", "it's"]
    assert con.execute(f"select 'b' in {in_list(['a', 'b'])}, {array(values)}").fetchall()[0] == (True, values)


def test_named_constructs_run_in_duckdb() -> None:
    d = DUCKDB
    con.execute("create or replace temp table t as select * from (values "
                "(1, timestamp '2026-01-02 03:04:05', 'b'), (2, timestamp '2026-01-03 00:00:00', null), "
                "(3, timestamp '2026-01-04 00:00:00', 'a')) v(i, ts, s)")
    row = con.execute(
        f"select {d.epoch_seconds('min(ts)')}, {d.format_time('min(ts)', '%Y-%m-%d')}, {d.arg_max('s', 'i')}, "
        f"{d.string_agg('s', '; ', order_by='s', distinct=True)} from t").fetchall()[0]
    assert row == (1767323045.0, "2026-01-02", "a", "a; b")
    last = con.execute(f"select {d.last_non_null('s')} over (order by i rows between unbounded preceding "
                       "and current row) from t order by i").fetchall()
    assert [r[0] for r in last] == ["b", "b", "a"]
    # row_key: distinct per row of the table read, so a temp table can be joined back to itself on it
    keys = con.execute(f"select {d.row_key()} as k, i from t").fetchall()
    assert len({k for k, _ in keys}) == 3
    joined = con.execute(f"select a.i, b.i from (select {d.row_key()} as k, i from t) a "
                         f"join (select {d.row_key()} as k, i from t) b on a.k = b.k").fetchall()
    assert sorted(joined) == [(1, 1), (2, 2), (3, 3)]
