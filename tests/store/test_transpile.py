"""DuckDB -> Spark: each of vigil's rewrites where sqlglot alone gets it wrong, and the loud failures."""
from __future__ import annotations

import pytest

pytest.importorskip("sqlglot", reason="the spark extra is not installed (scripts/setup.sh installs it)")

from vigil.errors import PortabilityError  # noqa: E402
from vigil.store.transpile import bind, parse, spark_type, to_spark  # noqa: E402


def spark(sql: str) -> str:
    return to_spark(parse(sql)[0], sql)


@pytest.mark.parametrize(("duckdb", "expected"), [
    ("select epoch(ts) from t", "UNIX_MICROS(CAST(ts AS TIMESTAMP)) / 1e6"),
    ("select epoch_ms(ts) from t", "UNIX_MILLIS(CAST(ts AS TIMESTAMP))"),
    ("select quantile_cont(x, 0.9) from t", "PERCENTILE(x, 0.9)"),
    ("select count(distinct x) over (partition by y) from t", "SIZE(COLLECT_SET(x) OVER (PARTITION BY y))"),
    ("select count(distinct a, b) over (partition by y) from t",
     "SIZE(COLLECT_SET(CASE WHEN NOT a IS NULL AND NOT b IS NULL THEN NAMED_STRUCT('c0', a, 'c1', b) END) OVER"),
    ("select len(list(x)) from t", "SIZE((CASE WHEN SIZE(TRANSFORM(COLLECT_LIST(NAMED_STRUCT('v', x))"),
    ("select time_bucket(interval 5 minute, ts) from t",
     "CAST(TIMESTAMP_MICROS(CAST(FLOOR(UNIX_MICROS(CAST(ts AS TIMESTAMP)) / 300000000) * 300000000 AS BIGINT))"),
    ("select list(x order by k)[1] from t",
     "TRANSFORM(ARRAY_SORT(COLLECT_LIST(NAMED_STRUCT('n0', k IS NULL, 'k0', k, 'v', x))), s -> s.v) END)[0]"),
    ("select list(distinct c order by c) filter (where c is not null) from t",
     "ARRAY_SORT(COLLECT_SET(c) FILTER(WHERE NOT c IS NULL))"),
    ("select string_agg(distinct x, ', ' order by x) from t", "ARRAY_JOIN(ARRAY_SORT(COLLECT_SET(x)), ', ')"),
    ("select l[2:3] from t", "SLICE(l, 2, 3 - 2 + 1)"),
    ("select s::JSON, [1, 2]::JSON from t", "SELECT s, TO_JSON(ARRAY(1, 2), MAP('timestampNTZFormat'"),
    ("select ts - interval (n) minute from t", "ts - (n) * INTERVAL '1' MINUTE"),
    ("select * from a semi join b on a.x = b.y", "LEFT SEMI JOIN b"),
    ("select json_object('a', 1, 'b', case when x then json_object('c', y) end) from t",
     "TO_JSON(NAMED_STRUCT('a', 1, 'b', CASE WHEN x THEN NAMED_STRUCT('c', y) END), MAP('timestampNTZFormat', "
     "'yyyy-MM-dd HH:mm:ss.SSSSSS'"),
    ("select j::VARCHAR[] from t", "FROM_JSON(j, 'ARRAY<STRING>')"),
])
def test_rewrites(duckdb: str, expected: str) -> None:
    assert expected in spark(duckdb)


def test_asof_join_fails_loudly_naming_the_statement() -> None:
    with pytest.raises(PortabilityError, match=r"ASOF JOIN .*select \* from a asof"):
        spark("select * from a asof left join b on a.x >= b.y")


def test_unparseable_statement_names_the_line() -> None:
    with pytest.raises(PortabilityError, match=r"cannot parse .* near 'frm t'"):
        parse("select 1\nfrm t")


def test_bind_skips_quotes_and_comments() -> None:
    assert bind("select '?', \"?\" -- ?\n, ? /* ? */, ?::BIGINT", ["o'k", 5]) == \
        "select '?', \"?\" -- ?\n, 'o''k' /* ? */, 5::BIGINT"
    with pytest.raises(PortabilityError, match="more"):
        bind("select ?, ?", [1])
    with pytest.raises(PortabilityError, match="left over"):
        bind("select ?", [1, 2])


def test_types() -> None:
    assert [spark_type(t) for t in ("JSON", "TIMESTAMP", "VARCHAR[]", "BIGINT")] == \
        ["STRING", "TIMESTAMP_NTZ", "ARRAY<STRING>", "BIGINT"]


def test_descending_lists_reverse_the_ascending_sort() -> None:
    out = spark("select list(u order by t desc, i desc) from x")
    assert "REVERSE(ARRAY_SORT(COLLECT_LIST(NAMED_STRUCT('n0', NOT t IS NULL, 'k0', t, 'n1', NOT i IS NULL" in out


def test_mixed_directions_and_nulls_first_sort_with_a_comparator() -> None:
    out = spark("select list(u order by t desc, i nulls first) from x")
    assert "ARRAY_SORT(COLLECT_LIST(NAMED_STRUCT('k0', t, 'k1', i, 'v', u)), (l, r) -> CASE" in out
    assert "WHEN l.k0 < r.k0 THEN 1" in out and "WHEN l.k1 IS NULL AND NOT r.k1 IS NULL THEN -1" in out
    with pytest.raises(PortabilityError, match="DISTINCT"):
        spark("select list(distinct u order by u desc) from x")


def test_extract_epoch_keeps_microseconds() -> None:
    assert spark("select extract(epoch from ts), date_part('epoch', ts) from t").count(
        "UNIX_MICROS(CAST(ts AS TIMESTAMP)) / 1e6") == 2


def test_json_object_values_may_be_comparisons() -> None:
    assert "NAMED_STRUCT('ok', x = 1, 'n', y > 2 AND z IS NULL)" in spark(
        "select json_object('ok', x = 1, 'n', y > 2 and z is null) from t")


def test_json_values_are_embedded_as_documents_not_text() -> None:
    out = spark("select json_object('a', 1, 'doc', d::JSON, 'sub', json_object('e', e::JSON)) from t")
    assert "CONCAT('\"doc\":', COALESCE(d, 'null'))" in out and "CONCAT('\"e\":', COALESCE(e, 'null'))" in out
    sql = "select json_object('p', params) from t"
    assert "COALESCE(params, 'null')" in to_spark(parse(sql)[0], sql, json_columns=frozenset({"params"}))


def test_len_of_a_list_column_is_its_size() -> None:
    sql = "select len(ids), len(name) from t"
    assert "SIZE(ids), LENGTH(name)" in to_spark(parse(sql)[0], sql, frozenset({"ids"}))


def test_unnest_of_a_json_array_path_parses_the_array() -> None:
    assert "EXPLODE(FLATTEN(FROM_JSON(m, 'ARRAY<ARRAY<STRING>>')))" in spark(
        "select unnest(json_extract(m, '$[*][*]')) as p from t")
    assert "EXPLODE(FROM_JSON(m, 'ARRAY<STRING>'))" in spark("select unnest(json_extract(m, '$[*]')) from t")


def test_from_json_structure_becomes_a_spark_schema() -> None:
    assert "FROM_JSON(d, 'ARRAY<STRING>')" in spark("""select from_json(d, '["VARCHAR"]') from t""")
    assert "FROM_JSON(d, 'STRUCT<`a`: BIGINT>')" in spark("""select from_json(d, '{"a": "BIGINT"}') from t""")
