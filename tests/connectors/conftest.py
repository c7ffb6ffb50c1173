"""A fake tenant per test, and settings pointing the connectors at it."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.connectors.fakes import CLIENT_SECRET, OKTA_TOKEN, FakeServer
from vigil.settings import Settings, load_settings
from vigil.store import Store, open_store

SECRETS = {"VIGIL_GRAPH_CLIENT_SECRET": CLIENT_SECRET, "VIGIL_O365_CLIENT_SECRET": CLIENT_SECRET,
           "VIGIL_OKTA_TOKEN": OKTA_TOKEN}


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeServer]:
    with FakeServer(tmp_path) as server:
        yield server


def fake_settings(fake: FakeServer, tmp_path: Path, **extra: Any) -> Settings:
    import yaml

    cfg = tmp_path / "vigil.yaml"
    cfg.write_text(yaml.safe_dump(fake.settings(tmp_path / "vigil.duckdb", **extra)), encoding="utf-8")
    return load_settings(cfg, environ=SECRETS)


@pytest.fixture
def csettings(fake: FakeServer, tmp_path: Path) -> Settings:
    return fake_settings(fake, tmp_path)


class OneStore:
    """The CLI's write path: one connection, opened once."""

    def __init__(self, settings: Settings) -> None:
        self.store = open_store(settings.store.path)
        self.closed = False

    @contextmanager
    def __call__(self) -> Iterator[Store]:
        yield self.store

    def close(self) -> None:
        if not self.closed:
            self.store.close()
            self.closed = True


@pytest.fixture
def writer(csettings: Settings) -> Iterator[OneStore]:
    w = OneStore(csettings)
    yield w
    w.close()
