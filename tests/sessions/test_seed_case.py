"""Issue 4, deliverable 6: the seed's own case, with declared and with learned egress, and its hijack variant."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.builders import insert
from tests.conftest import FIXTURES
from tests.enrich.geoenv import geo_settings
from tests.sessions import seed
from vigil.enrich import stage as enrich_stage
from vigil.sessions import stage as sessions_stage
from vigil.store import Store, open_store

NAMED = str(FIXTURES / "enrich" / "named-locations.json")
EXPECTED_BG_BR = ("BG and BR are both corporate egress points; same session 8f2c4b1e… and device "
                  "since the MFA sign-in in GB at 09:02")


def _analyze(tmp: Path, signins: list[dict[str, Any]], activities: list[dict[str, Any]], **enrich: Any) -> Store:
    settings = geo_settings(tmp, **enrich)
    store = open_store(settings.store.path)
    insert(store, "signins", signins)
    if activities:
        insert(store, "activities", activities)
    enrich_stage.run(store, settings)
    sessions_stage.run(store, settings)
    return store


def _alice_travel(store: Store) -> list[dict[str, Any]]:
    return store.query("SELECT * FROM travel WHERE user_principal_name = ? ORDER BY to_time",
                       [seed.USER]).to_pylist()


@pytest.mark.parametrize("mode", ["named_location", "learned"])
def test_failover_is_egress_change_not_travel(tmp_path: Path, mode: str) -> None:
    signins = seed.failover()
    extra: dict[str, Any] = {}
    if mode == "named_location":
        extra["named_locations"] = NAMED
    else:
        signins += seed.colleagues()
    with _analyze(tmp_path, signins, [seed.failover_activity()], **extra) as store:
        rows = _alice_travel(store)
        assert [r["verdict"] for r in rows] == ["egress_change", "egress_change"]
        assert not [r for r in rows if r["verdict"] in ("improbable", "impossible")]
        gb_bg, bg_br = rows
        assert (gb_bg["from_country"], gb_bg["to_country"]) == ("GB", "BG")
        assert gb_bg["reason"].startswith("BG is a corporate egress point (")
        assert gb_bg["reason"].endswith("; same session 8f2c4b1e… and device since the MFA sign-in in GB at 09:02")
        assert bg_br["reason"] == EXPECTED_BG_BR
        assert bg_br["same_session"] and bg_br["speed_kmh"] > 10_000  # would be "impossible" on IPs alone
        assert store.query("SELECT count(*) AS n FROM session_hijacks").to_pylist()[0]["n"] == 0
        if mode == "learned":
            learned = store.query("SELECT value, status, distinct_users FROM egress_points WHERE origin = 'learned' "
                                  "ORDER BY value").to_pylist()
            assert [(r["value"], r["status"]) for r in learned] == [
                ("200.155.80.0/24", "proposed"), ("212.39.70.0/24", "proposed")]
            assert all(r["distinct_users"] >= 5 for r in learned)
        else:
            assert store.query("SELECT count(*) AS n FROM egress_points WHERE origin = 'learned'").to_pylist()[0][
                "n"] == 0
        # the audit record joined the session through its UniqueTokenId
        link = store.query("SELECT session_key, link_method FROM event_sessions WHERE event_table = 'activities'")
        assert link.to_pylist() == [{"session_key": f"s:{seed.SESSION}", "link_method": "unique_token_id"}]


@pytest.mark.parametrize("mode", ["named_location", "learned"])
def test_session_reused_from_hosting_is_hijack(tmp_path: Path, mode: str) -> None:
    signins = seed.hijacked()
    extra: dict[str, Any] = {}
    if mode == "named_location":
        extra["named_locations"] = NAMED
    else:
        signins += seed.colleagues()
    attacker = signins[2]["event_id"]
    with _analyze(tmp_path, signins, [], **extra) as store:
        found = store.query("SELECT * FROM session_hijacks WHERE session_key = ? ORDER BY kind",
                            [f"s:{seed.SESSION}"]).to_pylist()
        kinds = {f["kind"]: f for f in found}
        assert "token_replay" in kinds
        replay = kinds["token_replay"]
        assert replay["severity"] == "high"
        assert replay["ip"] == seed.HOSTING_US and replay["country"] == "US"
        assert attacker in replay["evidence_event_ids"]
        assert "hosting AS14061" in replay["reason"] and "no device id" in replay["reason"]
        # the root device used the session from BG four minutes earlier: concurrent use
        assert kinds["concurrent_use"]["severity"] == "high"
        # the GB -> BG hop is still an egress change; BG -> hosting is not
        rows = _alice_travel(store)
        assert rows[0]["verdict"] == "egress_change"
        assert rows[1]["verdict"] == "impossible"
