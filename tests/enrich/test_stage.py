"""stage.py + views.py: vendor-first location, ASN, ip_class precedence, user agents, stale IPs, idempotence."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.builders import insert, row
from tests.enrich.geoenv import geo_settings
from vigil.enrich import stage as enrich_stage
from vigil.store import Store, open_store


def _enriched(store: Store, table: str = "signins_enriched") -> dict[str, dict[str, Any]]:
    return {r["ip"]: r for r in store.query(f"SELECT * FROM {table}").to_pylist()}


@pytest.mark.parametrize("flat", [False, True])
def test_location_asn_and_class(tmp_path: Path, flat: bool) -> None:
    s = geo_settings(tmp_path, flat=flat, corporate_asns=[64500])
    store = open_store(s.store.path)
    insert(store, "signins", [
        row("signins", ip="86.128.0.10", user_agent="curl/8.0"),  # BT London via the mmdb
        row("signins", ip="87.126.1.1", country="BG", city="Sofia", latitude=42.7, longitude=23.3, asn=8866),
        row("signins", ip="185.220.101.3", client_app_type="IMAP4"),  # Tor exit (feed) inside a hosting-ish ASN
        row("signins", ip="212.39.70.70"),  # corporate ASN 64500
        row("signins", ip="198.51.100.7"),  # hosting range feed, no geo
        row("signins", ip="203.0.113.66"),  # threat intel
        row("signins", ip="2a00:23c0::1"),  # IPv6, BT
        row("signins", ip="not-an-ip"),
        row("signins", ip="52.208.1.1", is_interactive=False, client_credential_type="clientSecret"),
    ])
    summary = enrich_stage.run(store, s)
    assert summary["distinct_ips"] == 9 and summary["new_user_agents"] == 1
    e = _enriched(store)
    bt = e["86.128.0.10"]
    assert (bt["geo_country"], bt["geo_city"], bt["geo_source"], bt["asn_number"], bt["ip_class"]) == (
        "GB", "London", "mmdb", 2856, "residential")
    assert bt["geo_accuracy_km"] == (50.0 if flat else 20.0)  # flat DB-IP Lite: the mmdb default applies
    assert bt["ua_class"] == "scripted" and bt["ua_family"] == "curl"
    vendor = e["87.126.1.1"]
    assert (vendor["geo_source"], vendor["geo_latitude"], vendor["geo_accuracy_km"], vendor["as_org"]) == (
        "vendor", 42.7, 25.0, "Vivacom Bulgaria EAD")
    assert (e["185.220.101.3"]["ip_class"], e["185.220.101.3"]["ua_class"]) == ("tor", "legacy_protocol")
    assert (e["212.39.70.70"]["ip_class"], e["212.39.70.70"]["is_corporate_egress"]) == ("corporate_egress", True)
    assert (e["198.51.100.7"]["ip_class"], e["198.51.100.7"]["geo_source"]) == ("hosting", "none")
    assert e["203.0.113.66"]["threat_intel"] == "known password-spray source (test)"
    assert (e["2a00:23c0::1"]["asn_number"], e["2a00:23c0::1"]["geo_country"]) == (2856, "GB")
    assert (e["not-an-ip"]["ip_class"], e["not-an-ip"]["geo_source"]) == ("unknown", "none")
    assert e["52.208.1.1"]["location_is_stale"] and not bt["location_is_stale"]
    store.close()


def test_activities_view_and_idempotence(tmp_path: Path) -> None:
    s = geo_settings(tmp_path)
    store = open_store(s.store.path)
    insert(store, "activities", [row("activities", ip="159.89.10.20", user_agent="python-requests/2.31",
                                     country="US", workload="Exchange")])
    first = enrich_stage.run(store, s)
    again = enrich_stage.run(store, s)
    assert again["ip_enrichment"] == first["ip_enrichment"] == 1 and again["new_user_agents"] == 0
    a = _enriched(store, "activities_enriched")["159.89.10.20"]
    assert (a["geo_source"], a["geo_city"], a["ip_class"], a["ua_class"], a["asn_number"]) == (
        "mmdb", "New York", "hosting", "scripted", 14061)
    assert store.query("SELECT count(*) AS n FROM geo_ranges").to_pylist()[0]["n"] > 0
    # only the networks of IPs the logs hold are read from the database, and each IP only once
    assert first["geo_ranges_added"] == first["geo_ranges"] == 1 and again["geo_ranges_added"] == 0
    insert(store, "activities", [row("activities", ip="159.89.10.21"), row("activities", ip="192.0.2.1")])
    third = enrich_stage.run(store, s)
    # .21 shares .20's network; 192.0.2.1 has no record, and its empty network is remembered too
    assert third["geo_ranges_added"] == 1 and third["geo_ranges"] == 2
    assert enrich_stage.run(store, s)["geo_ranges_added"] == 0
    assert _enriched(store, "activities_enriched")["192.0.2.1"]["geo_source"] == "none"
    store.close()


def test_without_geo_database_vendor_fields_still_work(tmp_path: Path) -> None:
    s = geo_settings(tmp_path)
    s.enrich.mmdb_path = None
    store = open_store(s.store.path)
    insert(store, "signins", [row("signins", ip="86.128.0.10", country="GB", latitude=51.5, longitude=-0.12)])
    summary = enrich_stage.run(store, s)
    assert summary["geo_databases"] == [] and summary["geo_ranges"] == 0
    assert _enriched(store)["86.128.0.10"]["geo_source"] == "vendor"
    store.close()


def test_identity_provider_network_verdicts_set_the_class(tmp_path: Path) -> None:
    # Okta's securityContext.isProxy / isTor arrive as anonymizedIPAddress / torExitNode: an anonymising proxy
    # on a residential ISP is a vpn, a Tor flag is tor, whatever the feeds call the range
    s = geo_settings(tmp_path)
    store = open_store(s.store.path)
    insert(store, "signins", [
        row("signins", ip="86.128.0.10", risk_event_types=["anonymizedIPAddress"]),
        row("signins", ip="86.128.0.11", risk_event_types=["anonymizedIPAddress", "torExitNode"]),
        row("signins", ip="86.128.0.12", risk_event_types=["New Device"]),
    ])
    enrich_stage.run(store, s)
    e = _enriched(store)
    assert [e[ip]["ip_class"] for ip in ("86.128.0.10", "86.128.0.11", "86.128.0.12")] == [
        "vpn", "tor", "residential"]
    store.close()


def test_microsoft_service_addresses_in_non_interactive_sign_ins_are_not_locations(tmp_path: Path) -> None:
    s = geo_settings(tmp_path)
    store = open_store(s.store.path)
    insert(store, "signins", [
        row("signins", ip="20.190.1.1", asn=8075, is_interactive=False),  # Microsoft, non-interactive
        row("signins", ip="20.190.1.2", asn=8075, is_interactive=True),  # someone on an Azure VM: a location
        row("signins", ip="86.128.0.10", is_interactive=False),  # the user's own ISP
    ])
    enrich_stage.run(store, s)
    e = _enriched(store)
    assert [e[ip]["location_is_stale"] for ip in ("20.190.1.1", "20.190.1.2", "86.128.0.10")] == [True, False, False]
    store.close()


def _ip_rows(store: Store) -> list[tuple[Any, ...]]:
    return sorted(store.rows("SELECT * FROM ip_enrichment"), key=repr)


def test_only_new_ips_are_looked_up_and_the_result_equals_a_full_run(tmp_path: Path) -> None:
    feeds = tmp_path / "feeds"
    shutil.copytree(Path(geo_settings(tmp_path / "shared").enrich.feeds_dir or ""), feeds)
    s = geo_settings(tmp_path / "inc", feeds_dir=str(feeds))
    first_rows = [row("signins", ip="86.128.0.10"), row("signins", ip="185.220.101.3"),
                  row("activities", ip="159.89.10.20", user_agent="python-requests/2.31")]
    later_rows = [row("signins", ip="86.128.0.10"), row("signins", ip="198.51.100.7", user_agent="curl/8.0"),
                  row("activities", ip="203.0.113.66")]
    with open_store(s.store.path) as store:
        insert(store, "signins", [r for r in first_rows if "is_interactive" in r])
        insert(store, "activities", [r for r in first_rows if "is_interactive" not in r])
        assert enrich_stage.run(store, s)["ip_mode"] == "full"
        insert(store, "signins", [r for r in later_rows if "is_interactive" in r])
        insert(store, "activities", [r for r in later_rows if "is_interactive" not in r])
        second = enrich_stage.run(store, s)
        # the two new IPs looked up and written; the three known ones left as they were
        assert (second["ip_mode"], second["new_ips"], second["ip_enrichment_written"]) == ("new IPs", 2, 2)
        assert (second["distinct_ips"], second["ip_enrichment"], second["new_user_agents"]) == (5, 5, 1)
        incremental = _ip_rows(store)
        # a corporate range declared later re-marks only the IPs inside it (a lookup input did not change)
        corp = geo_settings(tmp_path / "inc", feeds_dir=str(feeds), corporate_cidrs=["86.128.0.0/24"])
        third = enrich_stage.run(store, corp)
        assert (third["ip_mode"], third["new_ips"], third["ip_enrichment_written"]) == ("new IPs", 0, 1)
        assert store.scalar("SELECT egress_name FROM ip_enrichment WHERE ip = '86.128.0.10'") == \
            "configured 86.128.0.0/24"
        # a feed that changes calls every IP again: 159.89.10.20 is threat intel from now on
        with (feeds / "threat-intel.csv").open("a") as f:
            f.write("159.89.10.20,newly listed (test)\n")
        fourth = enrich_stage.run(store, corp)
        assert (fourth["ip_mode"], fourth["new_ips"], fourth["ip_enrichment"]) == ("full", 5, 5)
        assert store.scalar("SELECT threat_intel FROM ip_enrichment WHERE ip = '159.89.10.20'") == \
            "newly listed (test)"
    # the same events enriched in one run give the rows the two runs gave
    once = geo_settings(tmp_path / "once")
    with open_store(once.store.path) as store:
        everything = first_rows + later_rows
        insert(store, "signins", [r for r in everything if "is_interactive" in r])
        insert(store, "activities", [r for r in everything if "is_interactive" not in r])
        enrich_stage.run(store, once)
        assert _ip_rows(store) == incremental
