"""Profiles: the set-based build equals folding the events in one by one; a refresh picks up a user's change."""
from __future__ import annotations

from pathlib import Path

from tests.risk.month import Month
from vigil.risk import actions as risk_actions
from vigil.risk.history import replay_scores
from vigil.risk.profiles import Knowledge
from vigil.store import Store, open_store


def test_build_equals_events_folded_in_one_by_one(month: Month) -> None:
    settings = month.settings()
    with month.open() as store:
        built = Knowledge.build(store, settings)
        folded = replay_scores(store, settings).knowledge
    # profiles with history (the build also keeps users known only from riskyUsers, peers or detections)
    history = {k: p for k, p in built.users.items() if p.seen or p.last_located}
    assert len(history) > 30 and history.keys() == folded.users.keys()
    for key, b in history.items():
        f = folded.users[key]
        assert (b.ok_count, b.ok_first, b.geo_first, b.user_id) == (f.ok_count, f.ok_first, f.geo_first, f.user_id), key
        assert b.seen == f.seen and b.located_first == f.located_first, key
        assert (b.last_located and b.last_located.event_id) == (f.last_located and f.last_located.event_id), key
    assert built.countries == folded.countries
    assert any(p.peers for p in built.users.values()) and any(p.risk for p in built.users.values())
    assert built.ips and built.user_agents and built.sessions


def test_refresh_of_one_user_picks_up_a_risk_change(month: Month, tmp_path: Path) -> None:
    db = month.copy(tmp_path)
    settings = month.settings(db)
    with open_store(str(db)) as store:
        k = Knowledge.build(store, settings)
        key = sorted(p.key for p in k.users.values() if not p.risk and p.name)[0]
        before = k.users[key]
        risk_actions.confirm_compromised(store, [str(before.name)], actor="soc", settings=settings.risk)
        assert not k.users[key].risk  # not until refreshed
        summary = k.refresh(store, settings, [str(before.name)])  # a micro-batch names users by UPN or id
        assert summary["users"] == 1
        after = k.users[key]
        assert [(r.level, r.state, r.source) for r in after.risk] == [("high", "confirmedCompromised", "vigil")]
        assert after.seen == before.seen and after.ok_count == before.ok_count
        # users touched since the build: none (nothing was ingested)
        assert k.refresh(store, settings)["users"] == 0


def test_an_empty_store_gives_empty_profiles(store: Store, tmp_path: Path) -> None:
    from vigil.settings import load_settings

    k = Knowledge.build(store, load_settings(overrides={"store.path": str(tmp_path / "x.duckdb")}, environ={}))
    assert not k.users and k.user("a@b.c", None) is None and k.ip_facts("192.0.2.1").known_by == "none"
