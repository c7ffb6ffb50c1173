"""The watchlists page (server-side, no browser): list, one list's rows, import a CSV file, delete."""
from __future__ import annotations

import re
from typing import Any

import pytest

from tests.api.conftest import seeded_settings, seeded_template, service  # noqa: F401  (fixtures)
from tests.conftest import REPO

VIP = (REPO / "docs" / "examples" / "watchlists" / "VIPUsers.csv").read_bytes()


def _signed_in(client: Any, token: str) -> Any:
    pre = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/signin").text).group(1)
    assert client.post("/signin", data={"token": token, "csrf_token": pre}, follow_redirects=False).status_code == 303
    client.csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/hunt").text).group(1)
    return client


@pytest.fixture
def ui(service: dict[str, Any]) -> Any:  # noqa: F811
    return _signed_in(service["client"], service["admin"])


def _import(ui: Any, alias: str, body: bytes, **form: str) -> Any:
    return ui.post("/watchlists", data={"alias": alias, "csrf_token": ui.csrf, **form},
                   files={"file": ("list.csv", body, "text/csv")}, follow_redirects=True)


def test_import_lists_and_shows_the_rows_as_hunts_read_them(ui: Any) -> None:
    assert 'id="watchlists"' in ui.get("/watchlists").text and "No watchlist yet." in ui.get("/watchlists").text
    r = _import(ui, "VIPUsers", VIP, search_key="User Principal Name", description="executives")
    rows = VIP.decode().strip().count("\n")
    assert r.status_code == 200 and f"imported VIPUsers: {rows} rows" in r.text
    assert '<a href="/watchlists/VIPUsers">VIPUsers</a>' in r.text and "executives" in r.text
    page = ui.get("/watchlists/VIPUsers").text
    table = page[page.index('id="watchlist-rows"'):]
    assert table.count("<tr>") == 1 + rows and "SearchKey" in table and "WatchlistItem" in table
    assert re.search(r"_GetWatchlist\((&#39;|')VIPUsers(&#39;|')\)", page)
    # the same rows the API gives
    api = ui.get("/api/v1/watchlists/VIPUsers", headers={"X-CSRF-Token": ui.csrf}).json()
    assert len(api["rows"]) == rows


def test_a_bad_csv_is_refused_on_the_page_with_the_line_at_fault(ui: Any) -> None:
    r = _import(ui, "Broken", b"a,b\n1,2\n3\n")
    assert r.status_code == 400 and 'id="watchlist-error"' in r.text and "line 3" in r.text
    assert 'value="Broken"' in r.text   # the form keeps what was typed
    assert ui.get("/watchlists/Broken").status_code == 404


def test_delete_and_csrf(ui: Any) -> None:
    _import(ui, "Tmp", b"ip\n10.0.0.1\n")
    assert ui.post("/watchlists/Tmp/delete", data={}).status_code == 403          # no CSRF token
    r = ui.post("/watchlists/Tmp/delete", data={"csrf_token": ui.csrf}, follow_redirects=True)
    assert r.status_code == 200 and "deleted Tmp" in r.text
    assert ui.get("/watchlists/Tmp").status_code == 404


def test_a_reader_sees_the_lists_but_cannot_change_them(service: dict[str, Any]) -> None:  # noqa: F811
    admin = _signed_in(service["client"], service["admin"])
    _import(admin, "Keep", b"ip\n10.0.0.1\n")
    admin.post("/signout", data={"csrf_token": admin.csrf})
    reader = _signed_in(service["client"], service["reader"])
    page = reader.get("/watchlists").text
    assert "Keep" in page and 'id="watchlist-form"' not in page and "Delete" not in page
    assert _import(reader, "Nope", b"x\n1\n").status_code == 403
    assert reader.post("/watchlists/Keep/delete", data={"csrf_token": reader.csrf}).status_code == 403
