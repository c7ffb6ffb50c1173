"""Watchlists over HTTP: an admin imports and deletes, a reader lists and reads, hunts see them."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.api.conftest import bearer

VIP = (Path(__file__).resolve().parents[2] / "docs" / "examples" / "watchlists" / "VIPUsers.csv").read_bytes()


def test_admin_imports_reader_reads_and_hunts(service: dict[str, Any]) -> None:
    client, admin, reader = service["client"], bearer(service["admin"]), bearer(service["reader"])
    r = client.put("/api/v1/watchlists/VIPUsers?search_key=User%20Principal%20Name", headers=admin, content=VIP)
    assert r.status_code == 200, r.text
    assert (r.json()["item_count"], r.json()["search_key"]) == (3, "User Principal Name")
    assert [w["alias"] for w in client.get("/api/v1/watchlists", headers=reader).json()] == ["VIPUsers"]
    got = client.get("/api/v1/watchlists/VIPUsers", headers=reader).json()
    assert got["columns_returned"][:3] == ["_DTItemId", "LastUpdatedTimeUTC", "SearchKey"] and len(got["rows"]) == 3
    hunt = client.post("/api/v1/hunt", headers=reader,
                       json={"query": "_GetWatchlist('VIPUsers') | where Tags has 'Admin' | project SearchKey"})
    assert hunt.status_code == 200, hunt.text
    assert hunt.json()["rows"] == [["global.admin@contoso.com"]]
    assert client.delete("/api/v1/watchlists/VIPUsers", headers=admin).json()["deleted"] == "VIPUsers"
    assert client.get("/api/v1/watchlists/VIPUsers", headers=reader).status_code == 404


def test_reader_cannot_write_and_bad_csv_names_the_line(service: dict[str, Any]) -> None:
    client, admin, reader = service["client"], bearer(service["admin"]), bearer(service["reader"])
    assert client.put("/api/v1/watchlists/X", headers=reader, content=VIP).status_code == 403
    r = client.put("/api/v1/watchlists/X", headers=admin, content=b"a,b\n1,2\n3\n")
    assert r.status_code in (400, 422) and "line 3" in r.json()["detail"]
    assert client.put("/api/v1/watchlists/1%20bad", headers=admin, content=VIP).status_code in (400, 422)
