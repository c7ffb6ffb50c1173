"""A simulated month, ingested and analysed once per test session (the issue-20 tenant).

Import the fixture into a test module: ``from tests.risk.month import Month, month  # noqa: F401``.
Tests that write copy the store file first (:meth:`Month.copy`).
"""
from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from vigil.settings import Settings, load_settings
from vigil.store import Store, open_store

USERS, DAYS, SEED = 40, 30, 3
LOGS = ("SigninLogs.json", "AADNonInteractiveUserSignInLogs.json", "OfficeActivity_ManagementAPI.json",
        "AuditLogs.json")


@dataclass
class Month:
    folder: Path  # the simulator's output (labels, scenarios, leaked list)
    db: Path

    def settings(self, db: Path | None = None, **overrides: Any) -> Settings:
        return load_settings(overrides={"store.path": str(db or self.db),
                                        "detections.leaked_credentials_path": str(self.folder / "leaked_credentials.txt"),
                                        **overrides}, environ={})

    def open(self) -> Store:
        return open_store(str(self.db))

    def copy(self, dest: Path) -> Path:
        """A private copy of the analysed store for a test that writes."""
        target = dest / "month.duckdb"
        shutil.copyfile(self.db, target)
        return target

    def scenarios(self, name: str) -> list[dict[str, Any]]:
        lines = (self.folder / "scenarios.jsonl").read_bytes().splitlines()
        return [r for r in (orjson.loads(x) for x in lines if x.strip()) if r["scenario"] == name]


@pytest.fixture(scope="session")
def month(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Month]:
    from vigil.notebook import analyze, ingest
    from vigil.simulate import simulate_tenant
    from vigil.ueba.directory import ingest_directory

    folder = tmp_path_factory.mktemp("month")
    sim = folder / "sim"
    simulate_tenant(sim, users=USERS, days=DAYS, seed=SEED)
    m = Month(sim, folder / "month.duckdb")
    settings = m.settings()
    with open_store(str(m.db)) as store:
        results = ingest(store, [sim / n for n in LOGS])
        assert not [r for r in results.to_pylist() if r.get("error")], results.to_pylist()
        ingest_directory(store, [sim / "users.json", sim / "groups.json"])
        analyze(store, settings=settings)
    yield m
