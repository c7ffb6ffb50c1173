"""Names that differ only in case stay distinct, as in KQL."""
from __future__ import annotations

import pytest

from vigil.hunt import run_hunt
from vigil.hunt.casenames import distinct_names
from vigil.store import Store, open_store


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    s = open_store(tmp_path_factory.mktemp("case") / "x.duckdb")
    s.execute("CREATE TABLE Au AS SELECT * FROM (VALUES ('{\"u\":1}'::JSON, 'alice')) t(InitiatedBy, Identity)")
    return s


def test_a_new_column_beside_one_of_another_case_keeps_both(store: Store) -> None:
    got = run_hunt(store, "Au | extend Initiatedby = Identity | project InitiatedBy, Initiatedby")
    assert got.column_names == ["InitiatedBy", "Initiatedby"]
    assert got.to_pylist()[0]["Initiatedby"] == "alice"


def test_two_spellings_in_one_query_are_two_columns(store: Store) -> None:
    got = run_hunt(store, "Au | extend x = 1, X = 2 | project x, X").to_pylist()
    assert got == [{"x": 1, "X": 2}]


def test_a_read_of_another_case_is_left_to_the_column_and_strings_are_untouched() -> None:
    text, renamed = distinct_names("Au | where identity == 'Initiatedby' | project InitiatedBy", ["InitiatedBy",
                                                                                                   "Identity"])
    assert (text, renamed) == ("Au | where identity == 'Initiatedby' | project InitiatedBy", {})


def test_every_use_of_a_renamed_name_is_renamed_including_a_range_bound() -> None:
    text, renamed = distinct_names("let T0 = 1; T | where x between (t0 .. T0) | extend t0 = T0", ["x"])
    (internal,) = renamed
    assert renamed[internal] == "t0"
    assert text == f"let T0 = 1; T | where x between ({internal} .. T0) | extend {internal} = T0"


def test_a_query_reading_a_column_in_another_case_still_runs(store: Store) -> None:
    # lenient as before: only a query duckdb-kql refuses for a case clash is renamed
    assert run_hunt(store, "Au | extend X = 1 | project identity, X").to_pylist() == [{"identity": "alice", "X": 1}]
