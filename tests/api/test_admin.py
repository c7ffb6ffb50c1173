"""Admin operations go through the owning areas' functions: incidents, risk, ingest."""
from __future__ import annotations

from typing import Any

from tests.api.conftest import bearer
from tests.conftest import FIXTURES, sample


def test_incident_status_and_comment(service: dict[str, Any]) -> None:
    client, admin = service["client"], bearer(service["admin"])
    r = client.patch("/api/v1/incidents/INC-1", headers=admin,
                     json={"status": "active", "classification": "truePositive"})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["classification"]) == ("active", "truePositive")
    r = client.post("/api/v1/incidents/INC-1/comments", headers=admin, json={"text": "revoking sessions"})
    assert r.status_code == 201
    texts = [(c["author"], c["text"]) for c in r.json()["comments"]]
    assert ("alice-admin", "revoking sessions") in texts  # the token's name is the author
    q = client.get("/api/v1/incidents?status=active", headers=admin).json()
    assert [i["incident_id"] for i in q["items"]] == ["INC-1", "INC-2"]
    assert client.patch("/api/v1/incidents/INC-9", headers=admin, json={"status": "closed"}).status_code == 404
    r = client.patch("/api/v1/incidents/INC-1", headers=admin, json={"status": "closed", "classification": "meh"})
    assert r.status_code == 422 and "classification" in r.json()["detail"]


def test_risk_dismissal_is_recorded_with_who(service: dict[str, Any]) -> None:
    client, admin = service["client"], bearer(service["admin"])
    r = client.post("/api/v1/riskyUsers/dismiss", headers=admin, json={"userIds": ["u-alice"], "reason": "known"})
    assert r.status_code == 200, r.text
    assert r.json()["actor"] == "alice-admin"
    user = client.get("/api/v1/users/u-alice?days=2", headers=admin).json()
    assert user["risk"]["current"]["riskState"] == "dismissed"
    assert [a["action"] for a in user["risk"]["actions"]] == ["dismiss"]
    assert client.post("/api/v1/riskyUsers/forgive", headers=admin, json={"userIds": ["u-alice"]}).status_code == 422


def test_ingest_upload_stores_and_reports_per_file(service: dict[str, Any]) -> None:
    client, admin = service["client"], bearer(service["admin"])
    junk = {"files": ("notes.txt", b"this is not a log\\n", "text/plain")}
    r = client.post("/api/v1/ingest", headers=admin, files=junk)
    assert r.status_code in (415, 422), r.text  # nothing readable: an error, never an empty success
    assert "notes.txt" in r.json()["detail"]
    path = sample("entra-signin/elastic_test-signinlogs-sample.log")
    data = path.read_bytes()
    assert len(data) < 200 * 1024  # under the test service's upload limit
    r = client.post("/api/v1/ingest", headers=admin, files=[("files", (path.name, data, "application/json")),
                                                             ("files", ("notes.txt", b"nope", "text/plain"))])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["errors"] == 1 and body["files"][0]["path"] == path.name and body["files"][0]["stored"] > 0


def test_ingest_upload_of_a_hostile_file_quarantines_it(service: dict[str, Any]) -> None:
    client, admin = service["client"], bearer(service["admin"])
    deep = b"[" * 100_000 + b"]" * 100_000 + b"\n"  # a record nested 10^5 levels deep: a 500 before
    good = (FIXTURES / "sources" / "entra" / "SigninLogs.ndjson").read_bytes().splitlines()[0] + b"\n"
    r = client.post("/api/v1/ingest", headers=admin, files=[("files", ("deep.json", deep, "application/json")),
                                                             ("files", ("good.json", good, "application/json"))])
    assert r.status_code == 200, r.text
    deep_result, good_result = r.json()["files"]
    assert (deep_result["read"], deep_result["quarantined"], deep_result["error"]) == (1, 1, None)
    assert deep_result["reasons"] == {"nested deeper than the 256-level limit": 1}
    assert good_result["read"] == good_result["stored"] + good_result["duplicate"] == 1
