"""Benign life that fools naive rules raises no incident (issue 19): a tenant with no attack at all, its
false-alarm scenarios turned up (travellers with a flight and their managed laptop, CGNAT phones whose gateways
sit in other cities, iCloud Private Relay and commercial VPNs, Microsoft services refreshing tokens from their
own IPs, sign-ins with no location, VPN egress failover), simulated, ingested and analysed end to end."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import orjson
import pytest

from vigil.simulate.engine import DEFAULT_CAMPAIGNS
from vigil.store import Store, open_store

SCENARIOS = ("travel", "mobile_cgnat", "consumer_vpn", "microsoft_service_ip", "no_location", "vpn_egress_failover")


@pytest.fixture(scope="module")
def benign(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from vigil.notebook import analyze, ingest
    from vigil.settings import load_settings
    from vigil.simulate import simulate_tenant
    from vigil.ueba.directory import ingest_directory

    folder = tmp_path_factory.mktemp("benign")
    sim = folder / "sim"
    rates = {**{c: 0.0 for c in DEFAULT_CAMPAIGNS}, "travel": 0.5, "mobile_users": 1.0, "consumer_vpn": 1.0,
             "ms_service_ip": 0.3, "no_location": 0.2, "vpn_failover": 0.3, "multi_device": 0.6}
    simulate_tenant(sim, users=40, days=14, seed=5, rates=rates)
    db = folder / "benign.duckdb"
    settings = load_settings(overrides={"store.path": str(db),
                                        "enrich.named_locations": str(sim / "namedLocations.json")}, environ={})
    with open_store(str(db)) as store:
        ingest(store, [sim / n for n in ("SigninLogs.json", "AADNonInteractiveUserSignInLogs.json",
                                         "OfficeActivity_ManagementAPI.json", "AuditLogs.json")])
        ingest_directory(store, [sim / "users.json", sim / "groups.json"])
        analyze(store, settings=settings)
    return sim, db


def _scenarios(sim: Path) -> list[dict[str, object]]:
    return [orjson.loads(x) for x in (sim / "scenarios.jsonl").read_bytes().splitlines() if x.strip()]


def test_every_false_alarm_scenario_is_simulated(benign: tuple[Path, Path]) -> None:
    sim, db = benign
    counts = Counter(str(s["scenario"]) for s in _scenarios(sim))
    assert all(counts[s] > 0 for s in SCENARIOS), counts
    relays = [s for s in _scenarios(sim) if s["scenario"] == "consumer_vpn"]
    assert {bool(s["private_relay"]) for s in relays} == {True, False}  # both Private Relay and a commercial VPN
    with open_store(str(db), read_only=True) as store:
        ids = [str(r) for s in _scenarios(sim) if s["scenario"] in ("microsoft_service_ip", "no_location", "consumer_vpn")
               for r in s["record_ids"]]  # type: ignore[attr-defined]
        classes = dict(store.rows(f"""
            select s.ip_class || '/' || coalesce(s.location_is_stale, false)::varchar
                     || '/' || (s.geo_country is null)::varchar, count(*)
            from signins_enriched s where s.source_record_id in ({", ".join(f"'{i}'" for i in ids)}) group by 1"""))
    # Microsoft service IPs are stale (not the user's location), unlocated sign-ins have no country, the relays
    # and VPNs are anonymisers
    assert classes.get("hosting/true/false", 0) > 0 and classes.get("vpn/false/false", 0) > 0, classes
    assert any(k.endswith("/true") for k in classes), classes


def test_no_incident_on_benign_life(benign: tuple[Path, Path]) -> None:
    sim, db = benign
    with open_store(str(db), read_only=True) as store:
        incidents = store.rows("select user_principal_name, title, reason from incidents")
        assert incidents == [], incidents
        _no_high_travel_or_country(store)


def _no_high_travel_or_country(store: Store) -> None:
    # travel, CGNAT gateways in other cities, relays and service IPs: never more than low-fidelity telemetry
    loud = store.rows("""select riskEventType, riskLevel, reason from "riskDetections"
                         where riskEventType in ('mcasImpossibleTravel', 'unlikelyTravel', 'unfamiliarFeatures',
                                                 'riskyIPAddress', 'anomalousToken')""")
    assert loud == [], loud
