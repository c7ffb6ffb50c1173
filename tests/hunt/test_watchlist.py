"""Watchlists: CSV import (replace, errors naming the line) and _GetWatchlist() in hunts."""
from __future__ import annotations

from pathlib import Path

import pytest

from vigil.errors import InputError, QueryError
from vigil.hunt import run_hunt
from vigil.hunt.watchlist import delete, import_csv, list_watchlists
from vigil.store import Store, open_store

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples" / "watchlists"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return open_store(tmp_path / "w.duckdb")


def test_import_then_get_watchlist_answers_sentinel_columns(store: Store) -> None:
    wl = import_csv(store, "VIPUsers", (EXAMPLES / "VIPUsers.csv").read_text(), source="VIPUsers.csv",
                    search_key="user principal name")
    assert wl.search_key == "User Principal Name" and wl.item_count == 3
    rows = run_hunt(store, "_GetWatchlist('VIPUsers') | where Tags has 'Finance'").to_pylist()
    assert len(rows) == 1
    row = rows[0]
    assert list(row)[:4] == ["_DTItemId", "LastUpdatedTimeUTC", "SearchKey", "WatchlistItem"]
    assert row["SearchKey"] == "cfo@contoso.com" and row["User Identifier"] == "cfo"


def test_reimport_replaces_and_delete_removes(store: Store) -> None:
    import_csv(store, "TrustedIPs", "IP Subnet,Range Name\n10.0.0.0/8,lan\n", source="a.csv")
    import_csv(store, "TrustedIPs", "IP Subnet,Range Name\n203.0.113.0/24,hq\n198.51.100.0/24,vpn\n", source="b.csv")
    assert [w.item_count for w in list_watchlists(store)] == [2]
    assert run_hunt(store, "_GetWatchlist('TrustedIPs') | count").to_pylist() == [{"Count": 2}]
    assert delete(store, "TrustedIPs") and list_watchlists(store) == []


@pytest.mark.parametrize("text, message", [
    ("", "empty file"),
    ("a,,b\n1,2,3\n", "line 1: a header cell is empty"),
    ("a,A\n1,2\n", "header names repeat"),
    ("a,b\n1,2\n3\n", "line 3: 1 fields, the header has 2"),
])
def test_malformed_csv_is_refused_naming_the_line(store: Store, text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        import_csv(store, "X", text, source="x.csv")


def test_bad_alias_and_unknown_search_key(store: Store) -> None:
    with pytest.raises(InputError, match="alias"):
        import_csv(store, "1bad; drop", "a\n1\n", source="x.csv")
    with pytest.raises(InputError, match="search key column 'nope'"):
        import_csv(store, "X", "a\n1\n", source="x.csv", search_key="nope")


def test_unknown_watchlist_is_an_error_not_an_empty_result(store: Store) -> None:
    import_csv(store, "Known", "a\n1\n", source="x.csv")
    with pytest.raises(QueryError, match="unknown watchlist 'Missing'.*watchlists: Known"):
        run_hunt(store, "_GetWatchlist('Missing')")
