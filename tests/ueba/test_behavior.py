from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from tests.builders import insert
from tests.ueba import tenant
from tests.ueba.conftest import build_tenant
from vigil.settings import Settings, load_settings
from vigil.store import Store
from vigil.ueba import stage
from vigil.ueba.insights import DIMENSIONS

COMPARE = ("SELECT * EXCLUDE (TimeProcessed) FROM BehaviorAnalytics ORDER BY TimeGenerated, SourceRecordId")


def _rows(store: Store, where: str = "TRUE") -> list[dict]:  # type: ignore[type-arg]
    return store.query(f"SELECT * FROM BehaviorAnalytics WHERE {where} ORDER BY TimeGenerated, SourceRecordId"
                       ).to_pylist()


def test_one_row_per_signin_and_activity(analysed: tuple[Store, Settings]) -> None:
    store, _ = analysed
    n = store.query("SELECT (SELECT count(*) FROM signins) + (SELECT count(*) FROM activities) AS n").to_pylist()
    assert store.query("SELECT count(*) AS n, count(DISTINCT SourceRecordId) AS d FROM BehaviorAnalytics"
                       ).to_pylist() == [{"n": n[0]["n"], "d": n[0]["n"]}]


def test_bags_are_json_with_the_sentinel_keys(analysed: tuple[Store, Settings]) -> None:
    store, _ = analysed
    types = {r["column_name"]: r["data_type"] for r in store.query(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'BehaviorAnalytics'"
    ).to_pylist()}
    assert types["ActivityInsights"] == types["UsersInsights"] == types["DevicesInsights"] == "JSON"
    row = _rows(store, "UserPrincipalName = 'victim@contoso.com'")[-1]
    act = json.loads(row["ActivityInsights"])
    for d in DIMENSIONS:
        assert set(d.keys()) <= set(act)
    assert act["App"] == "Office 365" and "UncommonHighVolumeOfActions" in act
    users = json.loads(row["UsersInsights"])
    assert set(users) == {"AccountDisplayName", "AccountObjectID", "IsDormantAccount", "IsNewAccount", "BlastRadius"}
    assert users["BlastRadius"] == "High" and users["AccountDisplayName"] == "Victor Tim"
    dev = json.loads(row["DevicesInsights"])
    assert set(dev) == {"Browser", "DeviceFamily", "OperatingSystem", "UserAgentFamily", "ISP",
                        "ThreatIntelIndicatorType"}


def test_attack_rows_flagged_and_explained(analysed: tuple[Store, Settings]) -> None:
    store, _ = analysed
    (attack,) = _rows(store, "SourceIPLocation = 'RU'")
    act = json.loads(attack["ActivityInsights"])
    assert act["FirstTimeUserConnectedFromCountry"] and act["FirstTimeUserConnectedFromDevice"]
    assert act["CountryUncommonlyConnectedFromAmongPeers"] and act["FirstTimeConnectionFromCountryObservedInTenant"]
    assert act["FirstTimeUserConnectedViaISP"] and not act["FirstTimeUserUsedApp"]
    assert attack["ActivityType"] == "LogOn" and attack["ActionType"] == "Sign-in"
    assert attack["InvestigationPriority"] == 8
    reason = attack["InvestigationPriorityReason"]
    assert reason.startswith("8: first time from country 'RU' for the user and for 20/20 peers; "
                             "country never seen in tenant (90 d)")
    assert "attributes from vendor columns" in reason
    # roamer: new country, usual device and ISP -> 4 (country weight 4 x 1 x (0.5 + 0.25 + 0.25))
    (roam,) = _rows(store, "SourceIPLocation = 'FR'")
    assert roam["InvestigationPriority"] == 4
    assert not json.loads(roam["ActivityInsights"])["FirstTimeUserConnectedFromDevice"]


def test_first_time_only_for_the_first_event_of_the_day(analysed: tuple[Store, Settings]) -> None:
    store, _ = analysed
    rows = _rows(store, "UserPrincipalName = 'bruteforced@contoso.com' AND SourceIPLocation = 'NL'")
    flags = [json.loads(r["ActivityInsights"])["FirstTimeUserConnectedFromCountry"] for r in rows]
    assert flags == [True] + [False] * 7
    assert all(json.loads(r["ActivityInsights"])["CountryUncommonlyConnectedFromByUser"] for r in rows[1:])
    assert [r["ActivityType"] for r in rows] == ["FailedLogOn"] * 8


def test_failure_burst_raises_priority(analysed: tuple[Store, Settings]) -> None:
    store, settings = analysed
    rows = _rows(store, "UserPrincipalName = 'bruteforced@contoso.com' AND ActivityType = 'FailedLogOn'")
    burst = [r for r in rows if "failure burst" in r["InvestigationPriorityReason"]]
    assert len(burst) == 8 - settings.ueba.failure_burst_min + 1
    assert "failure burst: 5 failed logons this hour" in burst[0]["InvestigationPriorityReason"]
    assert burst[0]["InvestigationPriority"] == rows[settings.ueba.failure_burst_min - 2]["InvestigationPriority"] + 3


def test_learning_period_marked_not_scored(analysed: tuple[Store, Settings]) -> None:
    store, settings = analysed
    early = _rows(store, "TimeGenerated < TIMESTAMP '2026-01-01' + INTERVAL 7 DAY")
    assert early and all(r["InLearningPeriod"] and r["InvestigationPriority"] == 0 for r in early)
    assert early[0]["InvestigationPriorityReason"].startswith("0: user in learning period (first seen 2026-01-01")
    assert not any(json.loads(r["ActivityInsights"])["FirstTimeUserConnectedFromCountry"] for r in early)
    later = _rows(store, "TimeGenerated >= TIMESTAMP '2026-01-08'")
    assert not any(r["InLearningPeriod"] for r in later)


def test_normal_days_are_quiet(analysed: tuple[Store, Settings]) -> None:
    store, _ = analysed
    quiet = _rows(store, "TimeGenerated BETWEEN '2026-01-08' AND '2026-01-19 23:59:59'")
    assert quiet and max(r["InvestigationPriority"] for r in quiet) == 0
    assert quiet[0]["InvestigationPriorityReason"].startswith("0: nothing unusual")


def test_priority_matches_documented_formula(analysed: tuple[Store, Settings]) -> None:
    """Recompute InvestigationPriority in Python from the row's own insight flags."""
    store, _ = analysed
    weights = {d.name: d.weight for d in DIMENSIONS}
    for r in _rows(store, "NOT InLearningPeriod"):
        act = json.loads(r["ActivityInsights"])
        total = 0.0
        for d in DIMENSIONS:
            fu, uu, up, ft, ut = (bool(act[k]) for k in d.keys())
            rarity = 1.0 if fu else 0.5 if uu else 0.0
            context = 0.5 + (0.25 if up else 0) + (0.25 if ft else 0.125 if ut else 0)
            total += weights[d.name] * rarity * context
        total += 3 if "failure burst" in r["InvestigationPriorityReason"] else 0
        total += 2 if act["UncommonHighVolumeOfActions"] else 0
        expected = min(10, int(total + 0.5))
        assert r["InvestigationPriority"] == expected, r["InvestigationPriorityReason"]
        assert r["InvestigationPriorityReason"].startswith(f"{expected}: ")


def _copy(src: Store, dst: Store, where: str) -> int:
    n = 0
    for table in ("signins", "activities"):
        rows = src.query(f"SELECT * FROM {table} WHERE {where}").to_pylist()
        if rows:
            insert(dst, table, rows)
        n += len(rows)
    return n


def test_incremental_equals_full_recomputation(tmp_path: Path) -> None:
    settings = load_settings(environ={})
    # the events, with fixed ids; ten days, the attacks on the last one (2026-01-10)
    source = build_tenant(tmp_path / "source", days=10, attack=True, memory=True)
    inc = build_tenant(tmp_path / "inc", days=0, attack=False, memory=True)
    full = build_tenant(tmp_path / "full", days=0, attack=False, memory=True)
    _copy(source, inc, "event_time < '2026-01-10'")
    assert stage.run(inc, settings)["behavior_mode"] == "full"
    # a new day arrives (the attack day): only its rows are computed
    n_new = _copy(source, inc, "event_time >= '2026-01-10'")
    second = stage.run(inc, settings)
    assert second["behavior_mode"] == "incremental" and second["behavior_rows_written"] == n_new
    _copy(source, full, "TRUE")
    stage.run(full, settings)
    assert inc.query(COMPARE).to_pylist() == full.query(COMPARE).to_pylist()
    for t in ("ueba_user_daily", "ueba_tenant_daily", "ueba_active_daily"):
        q = f"SELECT * FROM {t} ORDER BY ALL"
        assert inc.query(q).to_pylist() == full.query(q).to_pylist()
    assert stage.run(inc, settings)["behavior_rows_written"] == 0  # nothing new, nothing written
    # late data for an analysed day restarts there and still equals a full run
    victim = next(u for u in tenant.users() if u["upn"] == "victim@contoso.com")
    late = [tenant.signin(victim, tenant.START + timedelta(days=8, hours=5), country="BR", device="dev-late")]
    insert(inc, "signins", late)
    insert(full, "signins", late)
    third = stage.run(inc, settings)
    assert third["behavior_mode"] == "incremental" and third["behavior_rows_written"] < third["behavior_rows"]
    stage.run(full, settings, full=True)
    assert inc.query(COMPARE).to_pylist() == full.query(COMPARE).to_pylist()
    (late_row,) = inc.query("SELECT * FROM BehaviorAnalytics WHERE SourceIPLocation = 'BR'").to_pylist()
    assert late_row["InvestigationPriority"] >= 6
    for s in (inc, full, source):
        s.close()


def test_settings_change_recomputes_everything(tmp_path: Path) -> None:
    store = build_tenant(tmp_path / "v", days=8, memory=True)
    stage.run(store, load_settings(environ={}))
    summary = stage.run(store, load_settings(overrides={"ueba.learning_days": 3}, environ={}))
    assert summary["behavior_mode"] == "full"
    assert store.query("SELECT count(*) AS n FROM BehaviorAnalytics WHERE InLearningPeriod").to_pylist()[0]["n"] == \
        store.query("SELECT count(*) AS n FROM BehaviorAnalytics WHERE TimeGenerated < '2026-01-04'").to_pylist()[0]["n"]
    store.close()
