"""A campaign incident's accounts, source networks and time line, from a handful of sign-ins."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from vigil.api.campaigns import campaign
from vigil.store import Store, open_store

ROWS = [  # event_id, time, upn, ip, result, asn, country, class, user agent
    ("e1", "2026-01-06 00:00:00", "a@x.com", "203.0.113.1", "failure", 64500, "NL", "hosting", "spray/1"),
    ("e2", "2026-01-06 00:10:00", "b@x.com", "203.0.113.2", "failure", 64500, "NL", "hosting", "spray/1"),
    ("e3", "2026-01-06 00:20:00", "c@x.com", "198.51.100.7", "interrupted", 64501, "DE", "vpn", "spray/1"),
    ("e4", "2026-01-06 01:50:00", "a@x.com", "198.51.100.8", "success", 64501, "DE", "vpn", "spray/1"),
    # not the campaign: another user agent from an IP no detection names, and a user outside it
    ("e5", "2026-01-06 00:30:00", "a@x.com", "192.0.2.9", "success", 64502, "GB", "residential", "Edge/131"),
    ("e6", "2026-01-06 00:30:00", "z@x.com", "203.0.113.1", "failure", 64500, "NL", "hosting", "spray/1"),
]


@pytest.fixture
def store() -> Iterator[Store]:
    with open_store(":memory:") as s:
        s.con.execute("create table signins_enriched (event_id varchar, event_time timestamp, "
                      "user_principal_name varchar, ip varchar, result varchar, asn_number integer, "
                      "geo_country varchar, ip_class varchar, user_agent varchar, as_org varchar)")
        s.con.executemany("insert into signins_enriched values (?, ?, ?, ?, ?, ?, ?, ?, ?, null)", ROWS)
        yield s


def _incident(key: str, accounts: list[str]) -> dict[str, Any]:
    evidence = {"first_attempt": "2026-01-06 00:00:00", "last_attempt": "2026-01-06 01:50:00"}
    return {"campaign_key": key, "accounts": accounts, "first_activity": "2026-01-06T00:10:00Z",
            "last_activity": "2026-01-06T00:20:00Z",
            "detections": [{"userPrincipalName": u, "ipAddress": ip, "riskState": "atRisk",
                            "additionalInfo": {"evidence": evidence}}
                           for u, ip in (("a@x.com", "203.0.113.1"), ("b@x.com", "203.0.113.2"),
                                         ("c@x.com", "198.51.100.7"))]}


def test_rotating_campaign_counts_its_own_attempts(store: Store) -> None:
    c = campaign(store, _incident("spray:rotating:spray/1", ["a@x.com", "b@x.com", "c@x.com"]))
    assert c is not None and (c["kind"], c["source"]) == ("rotating", "spray/1")
    # the evidence widens the window to the campaign's first and last attempt (e1 .. e4)
    assert str(c["start"]) == "2026-01-06 00:00:00" and str(c["end"]) == "2026-01-06 01:50:00"
    accounts = {a["account"]: a for a in c["accounts"]}
    assert c["accounts"][0]["account"] == "a@x.com"  # the account that signed in comes first
    assert accounts["a@x.com"]["attempts"] == 2 and accounts["a@x.com"]["successes"] == 1  # not e5: other UA
    assert accounts["c@x.com"]["interrupted"] == 1 and accounts["b@x.com"]["failures"] == 1
    assert "z@x.com" not in accounts
    nets = {n["asn"]: n for n in c["networks"]}
    assert set(nets) == {64500, 64501}
    assert nets[64501]["ips"] == 2 and nets[64501]["successes"] == 1 and nets[64501]["countries"] == "DE"
    tl = c["timeline"]
    assert sum(1 for _ in tl["bars"]) == 4 and tl["peak"] == 1 and tl["bucket_minutes"] == 2
    assert all(0 <= b["x"] <= tl["width"] and b["h"] > 0 for b in tl["bars"])


def test_ip_campaign_takes_only_detection_ips(store: Store) -> None:
    c = campaign(store, _incident("spray:ip:203.0.113.1", ["a@x.com", "b@x.com", "c@x.com"]))
    assert c is not None
    attempts = {a["account"]: a["attempts"] for a in c["accounts"]}
    assert attempts == {"a@x.com": 1, "b@x.com": 1, "c@x.com": 1}  # the detections' IPs, no UA match


def test_not_a_campaign(store: Store) -> None:
    assert campaign(store, {"campaign_key": None, "accounts": ["a@x.com"]}) is None
