"""A running service (in-process, httpx TestClient) over the seeded contract tables."""
from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.seed import seed
from tests.conftest import FIXTURES
from vigil.api import tokens
from vigil.web.app import create_app
from vigil.settings import Settings, load_settings
from vigil.store import open_store


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeded store, written once per run; each test gets its own copy."""
    path = tmp_path_factory.mktemp("seed") / "vigil.duckdb"
    with open_store(path) as store:
        seed(store)
        store.con.execute("CHECKPOINT")
    return path


@pytest.fixture
def seeded_settings(tmp_path: Path, seeded_template: Path) -> Settings:
    path = tmp_path / "vigil.duckdb"
    shutil.copyfile(seeded_template, path)
    return load_settings(overrides={"store.path": str(path), "service.max_body_bytes": 64 * 1024,
                                    "policy.policies": str(FIXTURES / "api" / "ca-policies.json"),
                                    "service.max_upload_bytes": 256 * 1024}, environ={})


@pytest.fixture
def service(seeded_settings: Settings) -> Iterator[dict[str, Any]]:
    app = create_app(seeded_settings, host="127.0.0.1")
    with app.state.vigil.db.writer() as store:
        _, admin = tokens.create_token(store.con, "alice-admin", "admin")
        _, reader = tokens.create_token(store.con, "bob-reader", "reader")
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield {"app": app, "client": client, "admin": admin, "reader": reader}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
