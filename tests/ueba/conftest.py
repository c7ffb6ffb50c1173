from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ueba import tenant
from vigil.settings import Settings, load_settings
from vigil.store import Store, open_store
from vigil.ueba import stage
from vigil.ueba.directory import ingest_directory


def build_tenant(path: Path, days: int = 20, *, directory: bool = True, attack: bool = True,
                 memory: bool = False) -> Store:
    """The test tenant in a store at ``path`` (in memory when ``memory``; ``path`` then only
    names the folder for the directory CSV)."""
    store = open_store(":memory:" if memory else str(path))
    if directory:
        csv = path.parent / f"{path.stem}-directory.csv"
        csv.write_text(tenant.directory_csv())
        ingest_directory(store, [csv])
    tenant.build(store, days, attack=attack)
    return store


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Settings]]:
    """The test tenant with a directory, analysed once for the whole module."""
    path = tmp_path_factory.mktemp("ueba") / "vigil.duckdb"
    settings = load_settings(overrides={"store.path": str(path)}, environ={})
    store = build_tenant(path)
    stage.run(store, settings)
    yield store, settings
    store.close()
