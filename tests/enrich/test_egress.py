"""egress.py: declared points, learning thresholds and evidence, analyst decisions honoured next run."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from tests.builders import insert, row
from tests.conftest import FIXTURES
from tests.enrich.geoenv import geo_settings
from vigil.enrich import egress
from vigil.enrich import stage as enrich_stage
from vigil.store import Store, open_store

NAMED = str(FIXTURES / "enrich" / "named-locations.json")
T = datetime(2026, 1, 5, 9, 0)


def _managed(user: int, ip: str, *, mfa: bool = True, managed: bool = True, days: int = 1) -> dict[str, Any]:
    return row("signins", event_time=T - timedelta(days=days, minutes=user), user_principal_name=f"u{user}@x.com",
               ip=ip, result="success", mfa_satisfied=mfa, device_managed=managed, is_interactive=True)


def _points(store: Store) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["kind"], r["value"]): r for r in store.query("SELECT * FROM egress_points").to_pylist()}


def _class(store: Store, ip: str) -> str:
    return str(store.query("SELECT ip_class FROM signins_enriched WHERE ip = ? LIMIT 1", [ip]).to_pylist()[0]["ip_class"])


def test_named_locations_and_configured(tmp_path: Path) -> None:
    s = geo_settings(tmp_path, named_locations=NAMED, corporate_asns=[64500], corporate_cidrs=["193.159.40.0/27"])
    points = {(p["kind"], p["value"], p["origin"]) for p in egress.declared(s.enrich)}
    assert ("cidr", "212.39.70.64/27", "named_location") in points
    assert ("cidr", "45.155.205.0/24", "named_location") in points  # untrusted IP locations count by default
    assert ("asn", "64500", "configured") in points and ("cidr", "193.159.40.0/27", "configured") in points
    s2 = geo_settings(tmp_path / "b", named_locations=NAMED, named_locations_trusted_only=True)
    assert "45.155.205.0/24" not in {p["value"] for p in egress.declared(s2.enrich)}


def test_learning_needs_enough_managed_mfa_users(tmp_path: Path) -> None:
    s = geo_settings(tmp_path, learn_min_users_prefix=3)
    store = open_store(s.store.path)
    rows = [_managed(i, f"212.39.70.{70 + i}") for i in range(3)]  # 3 users -> proposed
    rows += [_managed(i, f"200.155.80.{70 + i}") for i in range(2)]  # 2 users -> not
    rows += [_managed(i, f"193.159.40.{70 + i}", mfa=False) for i in range(5)]  # no MFA -> not
    rows += [_managed(i, f"31.94.0.{10 + i}") for i in range(5)]  # mobile carrier (CGNAT) -> never
    rows += [_managed(i, f"194.60.88.{70 + i}", days=60) for i in range(5)]  # outside lookback -> not
    insert(store, "signins", rows)
    enrich_stage.run(store, s)
    learned = {k: v for k, v in _points(store).items() if v["origin"] == "learned"}
    assert list(learned) == [("cidr", "212.39.70.0/24")]
    point = learned[("cidr", "212.39.70.0/24")]
    evidence = orjson.loads(point["evidence"])
    assert point["status"] == "proposed" and point["distinct_users"] == 3
    assert evidence["countries"] == ["BG"] and evidence["signins"] == 3 and len(evidence["sample_ips"]) == 3
    assert _class(store, "212.39.70.71") == "corporate_egress"
    assert _class(store, "31.94.0.10") == "mobile"
    store.close()


def test_decisions_are_honoured_on_the_next_run(tmp_path: Path) -> None:
    s = geo_settings(tmp_path, learn_min_users_prefix=3)
    store = open_store(s.store.path)
    insert(store, "signins", [_managed(i, f"212.39.70.{70 + i}") for i in range(3)]
           + [_managed(9, "86.128.0.9")])
    enrich_stage.run(store, s)
    egress.decide(store, "cidr", "212.39.70.5/24", "rejected", note="shared co-working space")
    egress.decide(store, "asn", "AS2856", "accepted", name="BT leased line")
    enrich_stage.run(store, s)
    points = _points(store)
    assert points[("cidr", "212.39.70.0/24")]["status"] == "rejected"
    assert orjson.loads(points[("cidr", "212.39.70.0/24")]["evidence"])["decision"]["note"] == "shared co-working space"
    assert points[("asn", "2856")]["status"] == "accepted"
    assert _class(store, "212.39.70.71") == "unknown"  # AS64500 is in no feed and no longer corporate
    row_ = store.query("SELECT ip_class, egress_name FROM signins_enriched WHERE ip = '86.128.0.9'").to_pylist()[0]
    assert row_ == {"ip_class": "corporate_egress", "egress_name": "BT leased line"}
    store.close()


def test_proposals_not_trusted_when_configured(tmp_path: Path) -> None:
    s = geo_settings(tmp_path, learn_min_users_prefix=3, trust_proposed_egress=False)
    store = open_store(s.store.path)
    insert(store, "signins", [_managed(i, f"212.39.70.{70 + i}") for i in range(3)])
    enrich_stage.run(store, s)
    assert _points(store)[("cidr", "212.39.70.0/24")]["status"] == "proposed"
    assert _class(store, "212.39.70.71") == "unknown"
    store.close()


def test_mfa_earlier_on_the_same_device_counts(tmp_path: Path) -> None:
    """Conditional access skips MFA on the office network; the device's earlier MFA vouches for it."""
    s = geo_settings(tmp_path, learn_min_users_prefix=3)
    store = open_store(s.store.path)
    rows = []
    for i in range(3):
        rows.append(row("signins", event_time=T - timedelta(days=3), user_principal_name=f"u{i}@x.com",
                        device_id=f"d{i}", device_managed=True, mfa_satisfied=True, result="success",
                        ip=f"86.128.{i}.1"))  # MFA at home
        rows.append(row("signins", event_time=T - timedelta(days=1), user_principal_name=f"u{i}@x.com",
                        device_id=f"d{i}", device_managed=True, mfa_satisfied=False, result="success",
                        ip=f"212.39.70.{70 + i}"))  # office, single factor
        rows.append(row("signins", event_time=T - timedelta(days=1), user_principal_name=f"u{i}@x.com",
                        device_id=f"other{i}", device_managed=True, mfa_satisfied=False, result="success",
                        ip=f"200.155.80.{70 + i}"))  # a device that never did MFA: does not count
    insert(store, "signins", rows)
    enrich_stage.run(store, s)
    learned = [k for k, v in _points(store).items() if v["origin"] == "learned"]
    assert learned == [("cidr", "212.39.70.0/24")]
    store.close()


def test_named_locations_kept_in_the_store_feed_egress_without_a_setting(tmp_path: Path) -> None:
    """`vigil policy load` and the Graph connector keep the tenant's named locations in the store:
    they are corporate egress with no `enrich.named_locations` file."""
    from vigil.locations.named import load_named_locations
    from vigil.policy.evaluate import PolicySet
    from vigil.policy.tables import save

    s = geo_settings(tmp_path)
    store = open_store(s.store.path)
    assert egress.stored_named_locations(store) is None
    assert not [p for p in egress.declared(s.enrich, None) if p["origin"] == "named_location"]
    save(store, PolicySet([], load_named_locations(NAMED)))
    stored = egress.stored_named_locations(store)
    points = {p["value"]: p for p in egress.declared(s.enrich, stored) if p["origin"] == "named_location"}
    assert "212.39.70.64/27" in points and points["212.39.70.64/27"]["evidence"]["from"] == "store: named_locations"
    # the same file in the settings too: each range once
    both = geo_settings(tmp_path / "b", named_locations=NAMED)
    values = [p["value"] for p in egress.declared(both.enrich, stored) if p["origin"] == "named_location"]
    assert len(values) == len(set(values)) == len(points)
    insert(store, "signins", [row("signins", event_time=T, user_principal_name="u@x.com", ip="212.39.70.70",
                                  result="success")])
    enrich_stage.run(store, s)
    assert _class(store, "212.39.70.70") == "corporate_egress"


def test_consumer_isp_asns_are_never_learned(tmp_path: Path) -> None:
    # managed employees with MFA at home all sign in through one consumer ISP, each from their own prefix: the
    # ASN looks "used by the organisation" but is not its network; an AS whose users come from a few gateway
    # prefixes is learned
    s = geo_settings(tmp_path, learn_min_users_prefix=50, learn_min_users_asn=3)
    store = open_store(s.store.path)
    homes = [{**_managed(i, f"198.18.{i}.5"), "asn": 64512} for i in range(8)]
    offices = [{**_managed(20 + i, f"198.19.{i % 2}.{10 + i}"), "asn": 64513} for i in range(6)]
    insert(store, "signins", homes + offices)
    enrich_stage.run(store, s)
    learned = [k for k, v in _points(store).items() if v["origin"] == "learned"]
    assert learned == [("asn", "64513")]
    assert _class(store, "198.18.3.5") != "corporate_egress"
    store.close()
