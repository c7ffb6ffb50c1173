"""CAE test helpers: settings with the journal and keys in a temporary folder, a service."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from vigil.cae.service import CaeService
from vigil.settings import Settings, load_settings


def cae_settings(tmp_path: Path, name: str = "vigil", **cae: object) -> Settings:
    overrides: dict[str, object] = {"store.path": str(tmp_path / f"{name}.duckdb")}
    overrides.update({f"cae.{k}": v for k, v in cae.items()})
    return load_settings(overrides=overrides, environ={})


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[CaeService]:
    s = CaeService(cae_settings(tmp_path, sync_interval_ms=1))
    yield s
    s.close()
