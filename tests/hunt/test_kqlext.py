"""vigil's duckdb-kql extensions, checked against hand-computed answers on small tables."""
from __future__ import annotations

import json

import pytest

from vigil.errors import QueryError
from vigil.hunt import run_hunt
from vigil.store import Store, open_store


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    s = open_store(tmp_path_factory.mktemp("ext") / "x.duckdb")
    s.execute("""CREATE TABLE Ev AS SELECT * FROM (VALUES
        (1, 'a', '[{"type":"User","upn":"u1"},{"type":"App","upn":"x"}]'::JSON, '{"k":1}'::JSON),
        (2, 'b', '[{"type":"App","upn":"y"}]'::JSON, '{"j":2}'::JSON),
        (3, 'c', '[]'::JSON, '{}'::JSON)) t(id, s, res, bag)""")
    return s


def rows(store: Store, kql: str) -> list[dict[str, object]]:
    return run_hunt(store, kql).to_pylist()


def test_mv_apply_row_wise_subquery_keeps_the_row_and_drops_empty_subtables(store: Store) -> None:
    got = rows(store, "Ev | mv-apply r = res on (where r.type == 'User' | extend who = tostring(r.upn)) "
                      "| project id, who")
    assert got == [{"id": 1, "who": "u1"}]


def test_mv_apply_project_keeps_outer_columns(store: Store) -> None:
    got = rows(store, "Ev | mv-apply r = res on (project t = tostring(r.type)) | project id, t | order by id asc, t asc")
    assert got == [{"id": 1, "t": "App"}, {"id": 1, "t": "User"}, {"id": 2, "t": "App"}]


def test_mv_apply_with_take_is_refused_naming_it(store: Store) -> None:
    with pytest.raises(QueryError, match="mv-apply with a take"):
        rows(store, "Ev | mv-apply r = res on (take 1)")


def test_project_reorder_and_unnamed_mv_expand(store: Store) -> None:
    assert run_hunt(store, "Ev | project-reorder s, bag").column_names == ["s", "bag", "id", "res"]
    got = rows(store, "Ev | where id == 2 | mv-expand todynamic(res) | project id, res")
    assert len(got) == 1 and '"y"' in str(got[0]["res"])


def test_functions_and_aggregates(store: Store) -> None:
    got = rows(store, "print a = set_difference(dynamic([1,2,3]), dynamic([2])), "
                      "k = bag_keys(dynamic({'x':1,'y':2})), e = extract_json('$.a.b', '{\"a\":{\"b\":\"v\"}}'), "
                      "r = range(1, 5, 2), m = bag_merge(dynamic({'a':1}), dynamic({'a':2,'b':3}))")[0]
    assert sorted(str(got["a"]).strip("[]").split(",")) == ["1", "3"]
    assert str(got["k"]).replace(" ", "") == '["x","y"]' and got["e"] == "v"
    assert str(got["r"]).replace(" ", "") == "[1,3,5]"
    assert json.loads(str(got["m"])) == {"a": 1, "b": 3}   # the first bag wins a repeated key
    agg = rows(store, "Ev | summarize b = make_bag(bag), s = make_set_if(s, id > 1)")[0]
    assert str(agg["b"]).replace(" ", "") in ('{"k":1,"j":2}', '{"j":2,"k":1}')
    assert sorted(str(agg["s"]).strip("[]").replace('"', "").split(",")) == ["b", "c"]


def test_bag_unpack_and_column_ifexists_take_their_columns_from_the_data(store: Store) -> None:
    got = rows(store, "Ev | evaluate bag_unpack(bag) | extend kk = column_ifexists('k', -1), q = column_ifexists('q', -1) "
                      "| project id, kk, q, j | order by id asc")
    assert [(r["id"], str(r["kk"]), r["q"], str(r["j"])) for r in got] == [
        (1, "1", -1, "None"), (2, "None", -1, "2"), (3, "None", -1, "None")]
    assert "bag" not in run_hunt(store, "Ev | evaluate bag_unpack(bag, 'p_')").column_names
    with pytest.raises(QueryError, match="already columns"):
        rows(store, "Ev | extend k = 0 | evaluate bag_unpack(bag)")


def test_mv_apply_with_summarize_aggregates_each_rows_subtable(store: Store) -> None:
    got = rows(store, "Ev | mv-apply r = res on (summarize n = count(), "
                      "user = take_anyif(tostring(r.upn), tostring(r.type) == 'User')) | project id, n, user "
                      "| order by id asc")
    # row 3's array is empty: the summarize of an empty sub-table, as Kusto keeps the row
    assert got == [{"id": 1, "n": 2, "user": "u1"}, {"id": 2, "n": 1, "user": None},
                   {"id": 3, "n": 0, "user": None}]


def test_mv_apply_with_a_keyed_summarize_gives_rows_per_key(store: Store) -> None:
    got = rows(store, "Ev | mv-apply r = res on (where r.type != '' | summarize n = count() by t = tostring(r.type)) "
                      "| project id, t, n | order by id asc, t asc")
    assert got == [{"id": 1, "t": "App", "n": 1}, {"id": 1, "t": "User", "n": 1}, {"id": 2, "t": "App", "n": 1}]


def test_project_away_with_wildcards_drops_the_matching_columns(store: Store) -> None:
    got = run_hunt(store, "print a = 1, a1 = 2, b1 = 3, c = 4, ab = 5 | project-away *1, a*b")
    assert got.to_pylist() == [{"a": 1, "c": 4}]


def test_mv_expand_of_an_unnamed_path_is_named_after_the_path(store: Store) -> None:
    got = rows(store, "print d = dynamic({'a': [{'b': [1, 2]}]}) | mv-expand d.a[0].b to typeof(long) | project d_a_0_b")
    assert got == [{"d_a_0_b": 1}, {"d_a_0_b": 2}]


def test_column_ifexists_reads_the_columns_reaching_its_stage(store: Store) -> None:
    got = rows(store, "print a = 1 | extend b = column_ifexists('a', 0), c = columnifexists('zz', 'none')")
    assert got == [{"a": 1, "b": 1, "c": "none"}]
