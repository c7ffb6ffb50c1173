from __future__ import annotations

from pathlib import Path

import pytest

from tests.builders import insert, row
from tests.hunt.conftest import NOW
from vigil.errors import QueryError
from vigil.hunt import run_hunt, translate
from vigil.store import Store, open_store


def test_reference_query_file_from_docs_runs(hunt_store: Store) -> None:
    # The older docs example uses top-level columns; in the table they are ActivityInsights keys.
    q = ("BehaviorAnalytics | where ActivityType == \"FailedLogOn\" "
         "| where ActivityInsights.FirstTimeUserConnectedFromCountry == True "
         "| where ActivityInsights.CountryUncommonlyConnectedFromAmongPeers == True | project UserPrincipalName")
    assert [r["UserPrincipalName"] for r in run_hunt(hunt_store, q, now=NOW).to_pylist()] == [
        "bruteforced@contoso.com"]


@pytest.mark.parametrize("kql, message", [
    ("SigninLogs | evaluate pivot(AppDisplayName)", "unsupported KQL construct"),
    ("SigninLogs | make-series n = count() on ResultType step 10", "make-series on a numeric axis"),
    ("SigninLogs | where", "KQL syntax error"),
    ("NoSuchTable | take 1", "unknown table 'NoSuchTable'"),
    ("SigninLogs | extend p = prev(Location)", "prev() needs serialized rows"),
    ("SigninLogs | order by TimeGenerated | extend p = prev(strcat(Location, 'x'))", "over an expression"),
    ("SigninLogs | order by TimeGenerated | extend p = prev(Location, 1, Location)", "default must be a literal"),
    ("", "empty KQL query"),
])
def test_errors_name_the_construct(hunt_store: Store, kql: str, message: str) -> None:
    with pytest.raises(QueryError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run_hunt(hunt_store, kql, now=NOW)


def test_unknown_ueba_table_points_to_analyze(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "v.duckdb"))
    with pytest.raises(QueryError, match="vigil analyze"):
        run_hunt(store, "BehaviorAnalytics | take 1")
    store.close()


def test_read_only_store_without_views_gets_temporary_ones(tmp_path: Path) -> None:
    path = str(tmp_path / "v.duckdb")
    store = open_store(path)
    insert(store, "signins", [row("signins", user_principal_name="a@x.com", country="FR", result="success")])
    store.close()
    ro = open_store(path, read_only=True)
    got = run_hunt(ro, "SigninLogs | project UserPrincipalName, Location, Country = tostring(LocationDetails.countryOrRegion)")
    assert got.to_pylist() == [{"UserPrincipalName": "a@x.com", "Location": "FR", "Country": "FR"}]
    ro.close()


def test_helper_columns_do_not_leak(hunt_store: Store) -> None:
    got = run_hunt(hunt_store, "SigninLogs | order by TimeGenerated asc | extend p = prev(Location) | take 1", now=NOW)
    assert not [c for c in got.column_names if c.startswith("_vigil")]
    assert "p" in got.column_names


def test_user_let_overrides_prelude(hunt_store: Store) -> None:
    got = run_hunt(hunt_store, "let ipv4_is_private = (ip:string) { true }; print x = ipv4_is_private('8.8.8.8')")
    assert got.to_pylist() == [{"x": True}]


def test_translate_shows_sql() -> None:
    sql = translate("SigninLogs | where Location == 'FR' | count")
    assert "SigninLogs" in sql and "SELECT" in sql
