"""POST /api/v1/backup: admin only, a folder name inside service.backup_dir, never a path."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.api.conftest import bearer
from vigil.backup import verify_backup


def test_backup_through_the_service(service: dict[str, Any]) -> None:
    client = service["client"]
    assert client.post("/api/v1/backup", json={"name": "b1"}, headers=bearer(service["reader"])).status_code == 403
    r = client.post("/api/v1/backup", json={"name": "b1"}, headers=bearer(service["admin"]))
    assert r.status_code == 201, r.text
    path = Path(r.json()["path"])
    assert path.parent == Path(service["app"].state.vigil.settings.store.path).resolve().parent / "backups"
    assert verify_backup(path)["tables"]["api_tokens"] == 2
    again = client.post("/api/v1/backup", json={"name": "b1"}, headers=bearer(service["admin"]))
    assert again.status_code == 422 and "not an empty folder" in again.json()["detail"]


def test_backup_names_cannot_be_paths(service: dict[str, Any]) -> None:
    for name in ("../escape", "/tmp/x", "a/b", ".hidden", ""):
        r = service["client"].post("/api/v1/backup", json={"name": name}, headers=bearer(service["admin"]))
        assert r.status_code == 422, (name, r.status_code)
