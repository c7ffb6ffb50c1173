"""Done-when: on a simulated tenant the reference query returns exactly the users whose sign-ins are
first-time device + first-time country + uncommon among peers, checked against a row-by-row
computation written independently of the SQL, and against the simulator's labels."""
from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import orjson
import pytest

from vigil.settings import load_settings
from vigil.store import Store, open_store

simulate = pytest.importorskip("vigil.simulate", reason="the tenant simulator (vigil.simulate) is not there yet")
ingest = pytest.importorskip("vigil.sources.ingest", reason="the vendor adapters (vigil ingest) are not there yet")

REFERENCE = """BehaviorAnalytics
| where TimeGenerated >= ago(24h)
| where ActivityInsights.FirstTimeUserConnectedFromDevice == true
| where ActivityInsights.FirstTimeUserConnectedFromCountry == true
| where ActivityInsights.CountryUncommonlyConnectedFromAmongPeers == true
| extend User = tostring(UsersInsights.AccountDisplayName)
| extend Application = tostring(ActivityInsights.App)
| extend DeviceInsights = extract(@'UserAgentFamily\\":\\"([^\\"]+)\\"', 1,tostring(DevicesInsights))
| summarize by User, UserName, UserPrincipalName, SourceIPLocation, Application, SourceDevice, ActionType, DeviceInsights"""

DAYS = 12


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Any:
    out = tmp_path_factory.mktemp("sim")
    simulate.simulate_tenant(out, users=40, days=DAYS, seed=11)
    path = tmp_path_factory.mktemp("simstore") / "vigil.duckdb"
    settings = load_settings(overrides={"store.path": str(path)}, environ={})
    store = open_store(str(path))
    logs = [out / n for n in ("SigninLogs.json", "AADNonInteractiveUserSignInLogs.json",
                              "OfficeActivity_ManagementAPI.json", "AuditLogs.json") if (out / n).exists()]
    results = ingest.ingest_paths(store, logs, settings)
    assert not [r for r in results if getattr(r, "error", None)]
    from vigil.ueba import stage
    from vigil.ueba.directory import ingest_directory
    ingest_directory(store, [out / "users.json", out / "groups.json"])
    stage.run(store, settings)
    yield out, store, settings
    store.close()


def _independent(store: Store, day_end: datetime, s: Any) -> set[str]:
    """Row by row, from the canonical tables and UserPeerAnalytics, with the documented rules."""
    rows = store.query("""
        SELECT event_id, event_time, lower(user_principal_name) AS u, country,
               coalesce(nullif(device_id, ''), nullif(device_name, ''), device_os || ' / ' || device_browser,
                        nullif(user_agent, '')) AS dev
        FROM signins UNION ALL
        SELECT event_id, event_time, lower(user_principal_name), country,
               coalesce(nullif(device_id, ''), nullif(user_agent, '')) FROM activities""").to_pylist()
    rows.sort(key=lambda r: (r["event_time"], r["event_id"]))
    day = {id(r): r["event_time"].date().toordinal() for r in rows}
    first_day: dict[str, int] = {}
    used: dict[tuple[str, str, str], list[int]] = defaultdict(list)  # (user, dim, value) -> days, ascending
    for r in rows:
        first_day.setdefault(r["u"], day[id(r)])
        for dim in ("country", "dev"):
            if r[dim] is not None:
                used[(r["u"], dim, r[dim])].append(day[id(r)])
    peers: dict[str, list[str]] = defaultdict(list)
    for p in store.query("SELECT user_key, peer_key FROM UserPeerAnalytics").to_pylist():
        peers[p["user_key"]].append(p["peer_key"])

    def used_between(u: str, dim: str, v: str, lo: int, hi: int) -> bool:
        days = used.get((u, dim, v), [])
        i = bisect_left(days, lo)
        return i < len(days) and days[i] <= hi

    seen_today: set[tuple[str, str, str, int]] = set()
    hits: set[str] = set()
    for r in rows:
        d, u = day[id(r)], r["u"]
        first = {}
        for dim, lookback in (("country", s.lookback_country_days), ("dev", s.lookback_device_days)):
            v = r[dim]
            key = (u, dim, v, d)
            first[dim] = v is not None and key not in seen_today and not used_between(u, dim, v, d - lookback, d - 1)
            if v is not None:
                seen_today.add(key)
        if r["event_time"] < day_end - timedelta(hours=24):  # `>= ago(24h)` has no upper bound
            continue
        if d - first_day[u] < s.learning_days or not (first["country"] and first["dev"]):
            continue
        ps = peers.get(u, [])
        n_used = sum(used_between(p, "country", r["country"], d - s.lookback_country_days, d - 1) for p in ps)
        if ps and n_used < s.uncommon_peer_share * len(ps):
            hits.add(u)
    return hits


def test_reference_query_matches_independent_computation(sim: Any) -> None:
    from vigil.hunt import run_hunt

    out, store, settings = sim
    start = store.query("SELECT min(event_time) AS t FROM signins").to_pylist()[0]["t"]
    base = datetime(start.year, start.month, start.day)
    labels = [orjson.loads(x) for x in (out / "labels.jsonl").read_bytes().splitlines() if x.strip()]
    compromised = {x["user"].lower() for x in labels if x["kind"] == "compromise"}
    hits: set[str] = set()
    for d in range(settings.ueba.learning_days, DAYS):
        day_end = base + timedelta(days=d + 1)
        got = {r["UserPrincipalName"] for r in run_hunt(store, REFERENCE, now=day_end).to_pylist()}
        assert got == _independent(store, day_end, settings.ueba), day_end
        # what the query finds on a simulated tenant are labelled compromises
        assert got <= compromised, (day_end, got - compromised)
        hits |= got
    assert hits, "the simulated attacks should produce at least one first-time device+country sign-in"
