"""Entra ID Protection risk import: Graph, diagnostic and Log Analytics shapes; defects quarantined."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import FIXTURES, sample
from vigil.errors import InputError
from vigil.risk import vendor
from vigil.store import Store


def test_diagnostic_records_with_published_defects(store: Store) -> None:
    r = vendor.import_file(store, sample("idp-risk/elastic_test-userriskevents-raw.log"))
    assert (r.detections, r.quarantined) == (2, 0)
    rows = store.query("""select id, riskEventType, riskLevel, detectedDateTime::varchar as d, ipAddress,
                          userPrincipalName, source, additionalInfo->>'$.riskType' as rt
                          from "riskDetections" order by id""").to_pylist()
    spray = next(x for x in rows if x["riskEventType"] == "passwordSpray")
    # "2022-09-09T8:48:50.361Z" (one-digit hour as published) is read, not rejected
    assert spray["d"].startswith("2022-09-09 08:48:50.361")
    assert spray["source"] == "IdentityProtection" and spray["rt"] == "generic"
    assert {x["ipAddress"] for x in rows} == {"67.43.156.42"}


def test_risky_users_diagnostic(store: Store) -> None:
    r = vendor.import_file(store, sample("idp-risk/elastic_test-rickyusers-raw.log"))
    assert (r.users, r.quarantined) == (2, 0)
    rows = store.query("""select userPrincipalName, riskLevel, isDeleted from "riskyUsers" order by 1""").to_pylist()
    assert rows[1] == {"userPrincipalName": "joel.miller@mauriziobrancaoutlook.onmicrosoft.com",
                       "riskLevel": "high", "isDeleted": True}


def test_graph_samples_defects_are_quarantined_with_path(store: Store) -> None:
    r = vendor.import_file(store, sample("idp-risk/graph-v1_riskdetection-list-response.json"))
    assert (r.detections, r.quarantined) == (0, 1)
    assert "$.value[0].ipAddress" in r.reasons[0] and "123.456.7.89" in r.reasons[0]
    r = vendor.import_file(store, sample("idp-risk/graph-v1_riskyuser-list-response.json"))
    assert (r.users, r.quarantined) == (0, 1)
    assert "riskLastUpdatedDateTime" in r.reasons[0]
    q = store.query("select source_file, reason, raw from quarantine order by reason").to_pylist()
    assert len(q) == 2 and all(x["raw"] for x in q)


def test_log_analytics_export(store: Store) -> None:
    r = vendor.import_file(store, FIXTURES / "risk" / "aaduserriskevents-la.json")
    assert (r.detections, r.users, r.quarantined) == (1, 1, 2)
    assert any("$[1].riskLevel: 'severe'" in x for x in r.reasons)
    assert any("$[3]: neither a riskDetection nor a riskyUser" in x for x in r.reasons)
    det = store.query("""select userPrincipalName, ipAddress, location->>'$.countryOrRegion' as c,
                         activityDateTime::varchar as t from "riskDetections" """).to_pylist()[0]
    assert det == {"userPrincipalName": "ada@contoso.com", "ipAddress": "2001:db8::1", "c": "NG",
                   "t": "2026-01-05 09:00:00.123456"}
    # re-import replaces, never duplicates
    vendor.import_file(store, FIXTURES / "risk" / "aaduserriskevents-la.json")
    assert store.count("riskDetections") == 1 and store.count("riskyUsers") == 1


def test_broken_lines_and_missing_file(store: Store, tmp_path: Path) -> None:
    p = tmp_path / "bad.jsonl"
    p.write_text('{"category": "UserRiskEvents", "properties": {"id": "x"}}\nnot json\n', encoding="utf-8")
    r = vendor.import_file(store, p)
    assert r.quarantined == 2
    assert r.reasons[0].startswith("bad.jsonl:1 $.riskEventType: missing")
    assert r.reasons[1].startswith("bad.jsonl:2 $: not valid JSON")
    with pytest.raises(InputError, match="not found"):
        vendor.import_file(store, tmp_path / "nope.json")
