"""rangejoin.py: the ASOF join and its window-function formulation agree with brute force."""
from __future__ import annotations

import duckdb
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.enrich.rangejoin import asof_sql, window_sql


@st.composite
def ranges_and_points(draw: st.DrawFn) -> tuple[list[tuple[int, int, int, str]], list[tuple[int, int]]]:
    ranges = []
    for fam in (4, 6):
        cuts = sorted(draw(st.sets(st.integers(0, 500), min_size=0, max_size=20)))
        for a, b in zip(cuts[::2], cuts[1::2], strict=False):
            ranges.append((fam, a, b, f"{fam}:{a}"))
    points = draw(st.lists(st.tuples(st.sampled_from([4, 6]), st.integers(-5, 505)), max_size=40))
    return ranges, points


@settings(max_examples=30, deadline=None)
@given(ranges_and_points())
def test_asof_and_window_match_brute_force(data: tuple[list[tuple[int, int, int, str]], list[tuple[int, int]]]) -> None:
    ranges, points = data
    con = duckdb.connect()
    con.register("r", pa.Table.from_pylist(
        [{"family": f, "start_key": s, "end_key": e, "label": label} for f, s, e, label in ranges],
        schema=pa.schema([("family", pa.int32()), ("start_key", pa.int64()), ("end_key", pa.int64()),
                          ("label", pa.string())])))
    con.register("p", pa.Table.from_pylist([{"family": f, "ip_key": k} for f, k in points],
                                           schema=pa.schema([("family", pa.int32()), ("ip_key", pa.int64())])))
    expected = {(f, k): next((label for rf, s, e, label in ranges if rf == f and s <= k <= e), None)
                for f, k in points}
    for sql in (asof_sql("p", "r", ["label"]), window_sql("p", "r", ["label"])):
        got = {(f, k): label for f, k, label in con.sql(sql).fetchall()}
        assert got == expected
