"""now() / ago(): one anchor for the CLI, the API and the UI (hunt.now)."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from vigil.errors import ConfigError
from vigil.hunt.clock import resolve_now
from vigil.settings import load_settings
from vigil.store import open_store

NEWEST = datetime(2026, 1, 12, 0, 55, 45)


class _Events:
    """Just what the clock reads of a store: its relations and a connection with event times."""

    def __init__(self, tables: dict[str, list[datetime]]) -> None:
        self.con = duckdb.connect()
        for name, times in tables.items():
            self.con.execute(f"create table {name} (event_time TIMESTAMP)")
            self.con.executemany(f"insert into {name} values (?)", [[t] for t in times])

    def relations(self) -> set[str]:
        return {r[0] for r in self.con.execute("select table_name from information_schema.tables").fetchall()}


@pytest.fixture
def store() -> Any:
    return _Events({"signins": [NEWEST - timedelta(days=3), NEWEST - timedelta(hours=1)], "activities": [NEWEST]})


def test_auto_anchors_historic_logs_to_their_newest_event(store: Any) -> None:
    assert resolve_now(store, "auto", wall=NEWEST + timedelta(days=300))[0] == NEWEST
    # a live store (newest event under a day old) keeps the wall clock
    assert resolve_now(store, "auto", wall=NEWEST + timedelta(hours=2))[0] is None


def test_explicit_settings(store: Any) -> None:
    assert resolve_now(store, "wall")[0] is None
    assert resolve_now(store, "latest", wall=NEWEST)[0] == NEWEST
    assert resolve_now(store, "2026-01-05T10:00:00Z")[0] == datetime(2026, 1, 5, 10)
    with pytest.raises(ConfigError):
        resolve_now(store, "yesterday")


def test_an_empty_store_hunts_on_the_wall_clock(tmp_path: Path) -> None:
    with open_store(tmp_path / "e.duckdb") as empty:
        assert resolve_now(empty, "auto")[0] is None
    assert resolve_now(_Events({}), "latest")[0] is None  # type: ignore[arg-type]


def test_the_setting_is_checked_when_loaded(tmp_path: Path) -> None:
    assert load_settings(overrides={"hunt.now": "latest"}, environ={}).hunt.now == "latest"
    with pytest.raises(ConfigError):
        load_settings(overrides={"hunt.now": "last tuesday"}, environ={})
