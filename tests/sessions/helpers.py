"""Run enrich + sessions over canonical rows in a fresh store built on the test geography."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.builders import insert
from tests.enrich.geoenv import geo_settings
from vigil.enrich import stage as enrich_stage
from vigil.sessions import stage as sessions_stage
from vigil.store import Store, open_store


def analyze(tmp: Path, signins: list[dict[str, Any]], activities: list[dict[str, Any]] | None = None,
            **enrich: Any) -> Store:
    settings = geo_settings(tmp, **enrich)
    store = open_store(settings.store.path)
    if signins:
        insert(store, "signins", signins)
    if activities:
        insert(store, "activities", activities)
    enrich_stage.run(store, settings)
    sessions_stage.run(store, settings)
    return store


def rows(store: Store, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    return store.query(sql, params).to_pylist()
