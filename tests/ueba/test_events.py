from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from tests.builders import insert, row
from tests.ueba import tenant
from tests.ueba.conftest import build_tenant
from vigil.settings import load_settings
from vigil.store import Store
from vigil.ueba import stage
from vigil.ueba.events import event_sources

# The enrichment contract (docs/architecture.md): every signins column plus geo / asn / ua columns.
_ENRICHED = """
CREATE OR REPLACE VIEW signins_enriched AS
SELECT s.*, CASE WHEN s.ip = '198.51.100.7' THEN 'KP' ELSE s.country END AS geo_country,
       NULL::VARCHAR AS geo_state, NULL::VARCHAR AS geo_city, NULL::DOUBLE AS geo_latitude,
       NULL::DOUBLE AS geo_longitude, 'vendor' AS geo_source, s.asn AS asn_number,
       'Org ' || s.asn AS as_org, 'residential' AS ip_class, false AS is_corporate_egress,
       NULL::VARCHAR AS egress_name, CASE WHEN s.ip = '198.51.100.7' THEN 'Botnet' END AS threat_intel,
       'Chrome' AS ua_family, '120' AS ua_major, 'Windows' AS ua_os_family, 'Other' AS ua_device_family,
       'browser' AS ua_class, false AS location_is_stale
FROM signins s;
CREATE OR REPLACE VIEW activities_enriched AS
SELECT a.*, a.country AS geo_country, NULL::VARCHAR AS geo_state, NULL::VARCHAR AS geo_city,
       NULL::DOUBLE AS geo_latitude, NULL::DOUBLE AS geo_longitude, 'vendor' AS geo_source,
       NULL::INTEGER AS asn_number, NULL::VARCHAR AS as_org, 'unknown' AS ip_class, NULL::VARCHAR AS threat_intel,
       NULL::VARCHAR AS ua_family, NULL::VARCHAR AS ua_major, NULL::VARCHAR AS ua_os_family,
       NULL::VARCHAR AS ua_device_family, 'unknown' AS ua_class
FROM activities a;
"""


def test_enriched_views_are_used_when_present(tmp_path: Path) -> None:
    store = build_tenant(tmp_path / "enr", days=9, memory=True)
    assert not event_sources(store).enriched
    store.con.execute(_ENRICHED)
    assert event_sources(store).enriched
    summary = stage.run(store, load_settings(environ={}))
    assert summary["inputs"] == "enriched views"
    (attack,) = store.query("SELECT * FROM BehaviorAnalytics WHERE SourceIPAddress = '198.51.100.7'").to_pylist()
    assert attack["SourceIPLocation"] == "KP"  # geo_country from the view, not the vendor's RU
    dev = json.loads(attack["DevicesInsights"])
    assert dev == {"Browser": "Chrome", "DeviceFamily": None, "OperatingSystem": "Windows",
                   "UserAgentFamily": "Chrome", "ISP": "Org 9009", "ThreatIntelIndicatorType": "Botnet"}
    reason = attack["InvestigationPriorityReason"]
    assert "threat intel on source IP: Botnet" in reason and "signins_enriched" in reason
    assert "first time from country 'KP'" in reason
    assert attack["InvestigationPriority"] == 10  # 8 for country+ISP+device, +2 threat intel
    store.close()


def test_switching_inputs_recomputes(tmp_path: Path) -> None:
    store = build_tenant(tmp_path / "sw", days=8, memory=True)
    settings = load_settings(environ={})
    stage.run(store, settings)
    store.con.execute(_ENRICHED)
    assert stage.run(store, settings)["behavior_mode"] == "full"
    store.close()


def test_dormant_new_account_and_high_volume(store: Store, tmp_path: Path) -> None:
    csv = tmp_path / "d.csv"
    csv.write_text("userPrincipalName,displayName,createdDateTime\nold@x.com,Old,2020-01-01\n"
                   "new@x.com,New,2026-06-01\n")
    from vigil.ueba.directory import ingest_directory
    ingest_directory(store, [csv])
    base = tenant.START
    rows = [row("signins", event_time=base + timedelta(days=d), user_principal_name=u, result="success",
                country="US", app_name="App", device_id="d1")
            for u in ("old@x.com", "new@x.com") for d in range(10)]
    # old@x.com comes back after 200 days; new@x.com is created on 2026-06-01
    rows.append(row("signins", event_time=base + timedelta(days=210), user_principal_name="old@x.com",
                    result="success", country="US", app_name="App", device_id="d1"))
    rows.append(row("signins", event_time=base + timedelta(days=160), user_principal_name="new@x.com",
                    result="success", country="US", app_name="App", device_id="d1"))
    acts = [row("activities", event_time=base + timedelta(days=d, minutes=m), user_principal_name="new@x.com",
                operation="FileDownloaded", workload="SharePoint")
            for d in range(8, 11) for m in range(2 if d < 10 else 30)]
    insert(store, "signins", rows)
    insert(store, "activities", acts)
    stage.run(store, load_settings(environ={}))
    back = store.query("SELECT UsersInsights FROM BehaviorAnalytics WHERE UserPrincipalName = 'old@x.com' "
                       "ORDER BY TimeGenerated DESC LIMIT 1").to_pylist()[0]
    assert json.loads(back["UsersInsights"])["IsDormantAccount"] is True
    fresh = store.query("SELECT UsersInsights FROM BehaviorAnalytics WHERE UserPrincipalName = 'new@x.com' "
                        "ORDER BY TimeGenerated DESC LIMIT 1").to_pylist()[0]
    assert json.loads(fresh["UsersInsights"])["IsNewAccount"] is True
    vol = store.query("SELECT ActivityInsights, InvestigationPriorityReason FROM BehaviorAnalytics "
                      "WHERE ActionType = 'FileDownloaded' ORDER BY TimeGenerated, SourceRecordId").to_pylist()
    flags = [json.loads(r["ActivityInsights"])["UncommonHighVolumeOfActions"] for r in vol]
    # 2/day for two days, then 30 on day 10: flagged from the 20th action (volume_min) on
    assert flags == [False] * 4 + [False] * 19 + [True] * 11
    assert "high volume: 20 x 'FileDownloaded' today vs 0.6/day over 7 d" in vol[23]["InvestigationPriorityReason"]
