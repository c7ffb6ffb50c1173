"""inject.py: labelled campaigns written into a copy of a store, on the store's own users."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import orjson
import pytest

from tests.builders import insert, row
from vigil.errors import InputError
from vigil.simulate.inject import FORMAT, INJECTABLE, inject
from vigil.store import open_store

T = datetime(2026, 1, 20, 9, 0)


def _tenant(users: int) -> list[dict[str, object]]:
    rows = []
    for u in range(users):
        for d in range(5):
            rows.append(row("signins", event_time=T - timedelta(days=d, minutes=u), user_principal_name=f"u{u}@x.com",
                            user_id=f"id-{u}", result="success", is_interactive=True, ip=f"81.2.69.{u}",
                            country="GB", device_id=f"laptop-{u}", session_id=f"s-{u}-{d}",
                            user_agent="Mozilla/5.0 Edge"))
    return rows


def test_campaigns_land_on_the_store_s_own_users_with_labels(tmp_path: Path) -> None:
    store = open_store(tmp_path / "copy.duckdb")
    insert(store, "signins", _tenant(40))
    labels = tmp_path / "labels.jsonl"
    out = inject(store, labels, seed=3)
    assert {c["type"] for c in out["campaigns"]} == set(INJECTABLE)
    users = {f"u{u}@x.com" for u in range(40)}
    assert {c["victim"] for c in out["campaigns"]} <= users
    lines = [orjson.loads(x) for x in labels.read_text().splitlines()]
    ids = {r[0] for r in store.rows(f"SELECT source_record_id FROM signins WHERE source_format = '{FORMAT}' "
                                    f"UNION ALL SELECT source_record_id FROM activities WHERE source_format = '{FORMAT}'")}
    # every label names an injected row and every injected row is labelled
    assert {x["record_id"] for x in lines} == ids and len(ids) == out["signins"] + out["activities"]
    assert all(x["kind"] == "event" and x["malicious"] and x["user"] in users for x in lines)
    # placed within the data's last days; the token replay rides on the victim's own session id
    times = [r[0] for r in store.rows(f"SELECT event_time FROM signins WHERE source_format = '{FORMAT}'")]
    assert min(times) >= T - timedelta(days=4) and max(times) <= T + timedelta(days=1)
    replay = next(c for c in out["campaigns"] if c["type"] == "token_replay")
    sessions = {r[0] for r in store.rows(
        f"SELECT DISTINCT session_id FROM signins WHERE source_format = '{FORMAT}' AND user_principal_name = ?",
        [replay["victim"]])}
    assert sessions and all(s.startswith("s-") for s in sessions)
    store.close()


def test_too_few_users_is_said(tmp_path: Path) -> None:
    store = open_store(tmp_path / "copy.duckdb")
    insert(store, "signins", _tenant(3))
    with pytest.raises(InputError, match="needs at least 7"):
        inject(store, tmp_path / "labels.jsonl")
    with pytest.raises(InputError, match="cannot inject"):
        inject(store, tmp_path / "labels.jsonl", campaigns=["ransomware"])
    store.close()
