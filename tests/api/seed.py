"""A small tenant written straight into the contract tables (docs/architecture.md).

Used by the API and browser tests so they exercise the service against the contracts,
independently of the batch stages. alice@contoso.com signs in at London HQ (corporate
egress), hops GB -> BG -> BR through egress changes within one session (benign), then her
token is replayed from Lagos (impossible travel) and an inbox rule is created: incident.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import orjson

from tests.builders import insert, row
from vigil.store import Store

T0 = datetime(2026, 1, 5, 8, 0)
ALICE = {"user_id": "u-alice", "user_principal_name": "alice@contoso.com", "user_display_name": "Alice Example"}
BOB = {"user_id": "u-bob", "user_principal_name": "bob@contoso.com", "user_display_name": "Bob Example"}

#: (minutes after T0, ip, country, city, lat, lon, ip_class, corporate, session, device, result)
ALICE_SIGNINS = [
    (0, "81.2.69.160", "GB", "London", 51.5074, -0.1278, "corporate_egress", True, "S1", "dev-a", "success"),
    (120, "185.94.188.10", "BG", "Sofia", 42.6977, 23.3219, "vpn", False, "S1", "dev-a", "success"),
    (240, "177.54.144.20", "BR", "Sao Paulo", -23.5505, -46.6333, "vpn", False, "S1", "dev-a", "success"),
    (250, "105.112.0.9", "NG", "Lagos", 6.5244, 3.3792, "hosting", False, "S2", None, "success"),
]
ENRICH_COLS = ("geo_country VARCHAR, geo_state VARCHAR, geo_city VARCHAR, geo_latitude DOUBLE, geo_longitude DOUBLE,"
               " geo_accuracy_km DOUBLE, geo_source VARCHAR, asn_number INTEGER, as_org VARCHAR, ip_class VARCHAR,"
               " is_corporate_egress BOOLEAN, egress_name VARCHAR, threat_intel VARCHAR, ua_family VARCHAR,"
               " ua_major VARCHAR, ua_os_family VARCHAR, ua_device_family VARCHAR, ua_class VARCHAR,"
               " location_is_stale BOOLEAN")

DDL = [
    f"create table _enrich_s (event_id VARCHAR, {ENRICH_COLS})",
    "create view signins_enriched as select s.*, e.* exclude (event_id) from signins s "
    "left join _enrich_s e using (event_id)",
    "create view activities_enriched as select a.*, null::VARCHAR as geo_country, null::VARCHAR as geo_city, "
    "null::DOUBLE as geo_latitude, null::DOUBLE as geo_longitude from activities a",
    "create table egress_points (kind VARCHAR, value VARCHAR, name VARCHAR, origin VARCHAR, status VARCHAR,"
    " distinct_users INTEGER, evidence JSON)",
    "create table sessions (session_key VARCHAR, session_id VARCHAR, user_id VARCHAR, user_principal_name VARCHAR,"
    " inferred BOOLEAN, stitch_method VARCHAR, first_time TIMESTAMP, last_time TIMESTAMP, root_event_id VARCHAR,"
    " root_time TIMESTAMP, root_ip VARCHAR, root_country VARCHAR, root_city VARCHAR, root_latitude DOUBLE,"
    " root_longitude DOUBLE, root_device_id VARCHAR, root_os VARCHAR, root_browser VARCHAR,"
    " root_user_agent VARCHAR, root_mfa BOOLEAN, root_ip_class VARCHAR, event_count INTEGER,"
    " signin_count INTEGER, activity_count INTEGER, hop_count INTEGER, countries JSON, ips JSON)",
    "create table event_sessions (event_id VARCHAR, event_table VARCHAR, session_key VARCHAR, link_method VARCHAR)",
    "create table session_hops (session_key VARCHAR, event_id VARCHAR, hop_time TIMESTAMP, hop_kind VARCHAR,"
    " from_value VARCHAR, to_value VARCHAR)",
    "create table travel (user_id VARCHAR, user_principal_name VARCHAR, from_event_id VARCHAR, to_event_id VARCHAR,"
    " from_time TIMESTAMP, to_time TIMESTAMP, from_ip VARCHAR, to_ip VARCHAR, from_country VARCHAR,"
    " to_country VARCHAR, from_city VARCHAR, to_city VARCHAR, from_latitude DOUBLE, from_longitude DOUBLE,"
    " to_latitude DOUBLE, to_longitude DOUBLE, distance_km DOUBLE, adjusted_distance_km DOUBLE, elapsed_s DOUBLE,"
    " speed_kmh DOUBLE, same_session BOOLEAN, session_key VARCHAR, from_ip_class VARCHAR, to_ip_class VARCHAR,"
    " to_failed BOOLEAN, verdict VARCHAR, reason VARCHAR)",
    'create table "BehaviorAnalytics" (TimeGenerated TIMESTAMP, SourceRecordId VARCHAR, ActivityType VARCHAR,'
    " ActionType VARCHAR, EventSource VARCHAR, UserName VARCHAR, UserPrincipalName VARCHAR,"
    " SourceIPAddress VARCHAR, SourceIPLocation VARCHAR, SourceDevice VARCHAR, UsersInsights JSON,"
    " DevicesInsights JSON, ActivityInsights JSON, InvestigationPriority INTEGER)",
    'create table "riskDetections" (id VARCHAR, riskEventType VARCHAR, riskLevel VARCHAR, riskState VARCHAR,'
    " riskDetail VARCHAR, detectionTimingType VARCHAR, activity VARCHAR, activityDateTime TIMESTAMP,"
    " detectedDateTime TIMESTAMP, ipAddress VARCHAR, location JSON, userId VARCHAR, userPrincipalName VARCHAR,"
    " userDisplayName VARCHAR, requestId VARCHAR, correlationId VARCHAR, source VARCHAR, additionalInfo JSON,"
    " event_id VARCHAR, session_key VARCHAR)",
    'create table "riskyUsers" (id VARCHAR, userPrincipalName VARCHAR, userDisplayName VARCHAR, riskLevel VARCHAR,'
    " riskState VARCHAR, riskDetail VARCHAR, riskLastUpdatedDateTime TIMESTAMP, source VARCHAR)",
    "create table incidents (incident_id VARCHAR, title VARCHAR, severity VARCHAR, status VARCHAR,"
    " classification VARCHAR, user_id VARCHAR, user_principal_name VARCHAR, first_activity TIMESTAMP,"
    " last_activity TIMESTAMP, session_keys JSON, detection_ids JSON, event_ids JSON, recommended_action VARCHAR,"
    " reason VARCHAR, priority DOUBLE, created_at TIMESTAMP, updated_at TIMESTAMP)",
    "create table incident_comments (incident_id VARCHAR, author VARCHAR, created_at TIMESTAMP, text VARCHAR)",
]


def _j(v: Any) -> str:
    return orjson.dumps(v).decode()


def seed(store: Store) -> dict[str, Any]:
    """Write the scenario; returns the ids tests assert on."""
    con = store.con
    for stmt in DDL:
        con.execute(stmt)
    signins, enrich, ids = [], [], []
    for i, (m, ip, cc, city, lat, lon, cls, corp, sess, dev, res) in enumerate(ALICE_SIGNINS):
        r = row("signins", **ALICE, event_time=T0 + timedelta(minutes=m), ip=ip, app_name="Office 365 Exchange Online",
                resource_name="Office 365 Exchange Online", is_interactive=i == 0, result=res, mfa_satisfied=i == 0,
                device_id=dev, device_os="Windows 10", device_browser="Edge 120", session_id=sess,
                user_agent="Mozilla/5.0 (Windows NT 10.0) Edg/120")
        signins.append(r)
        ids.append(r["event_id"])
        enrich.append((r["event_id"], cc, None, city, lat, lon, 20.0, "mmdb", 64500 + i, f"AS{i}", cls, corp,
                       "London HQ" if corp else None, None, "Edge", "120", "Windows", "Other", "browser", False))
    # A stale (confidential-client) sign-in: never drawn. And one for bob, another user.
    stale = row("signins", **ALICE, event_time=T0 + timedelta(minutes=130), ip="81.2.69.161", result="success",
                app_name="Graph connector", session_id="S1")
    bob = row("signins", **BOB, event_time=T0 + timedelta(minutes=30), ip="81.2.69.170", result="success",
              app_name="Teams", session_id="SB")
    insert(store, "signins", [*signins, stale, bob])
    enrich.append((stale["event_id"], "GB", None, "London", 51.5, -0.12, 20.0, "mmdb", 1, "x", "hosting", False,
                   None, None, None, None, None, None, "scripted", True))
    enrich.append((bob["event_id"], "GB", None, "London", 51.5, -0.12, 20.0, "mmdb", 1, "x", "corporate_egress",
                   True, "London HQ", None, None, None, None, None, "browser", False))
    con.executemany(f"insert into _enrich_s values ({', '.join('?' * 20)})", enrich)
    acts = [row("activities", **ALICE, event_time=T0 + timedelta(minutes=60), workload="Exchange",
                operation="MailItemsAccessed", ip="81.2.69.160", session_id="S1", object_id="mailbox:alice"),
            row("activities", **ALICE, event_time=T0 + timedelta(minutes=255), workload="Exchange",
                operation="New-InboxRule", ip="105.112.0.9", session_id="S2", object_id="rule: delete 'invoice'")]
    insert(store, "activities", acts)
    con.execute("insert into egress_points values ('cidr', '81.2.69.0/24', 'London HQ', 'named_location', "
                "'accepted', 2, '{}')")
    t = lambda m: T0 + timedelta(minutes=m)  # noqa: E731
    con.execute("insert into sessions values ('k-S1', 'S1', 'u-alice', 'alice@contoso.com', false, 'session_id',"
                " ?, ?, ?, ?, '81.2.69.160', 'GB', 'London', 51.5074, -0.1278, 'dev-a', 'Windows 10', 'Edge 120',"
                " 'Mozilla', true, 'corporate_egress', 5, 3, 1, 2, '[\"GB\",\"BG\",\"BR\"]', '[]')",
                [t(0), t(240), ids[0], t(0)])
    con.execute("insert into sessions values ('k-S2', 'S2', 'u-alice', 'alice@contoso.com', true, 'token_replay',"
                " ?, ?, ?, ?, '105.112.0.9', 'NG', 'Lagos', 6.52, 3.37, null, 'Linux', 'python-requests',"
                " 'python-requests/2.31', false, 'hosting', 2, 1, 1, 0, '[\"NG\"]', '[]')",
                [t(250), t(255), ids[3], t(250)])
    con.executemany("insert into event_sessions values (?, ?, ?, ?)", [
        (ids[0], "signins", "k-S1", "root"), (acts[0]["event_id"], "activities", "k-S1", "session_id"),
        (ids[1], "signins", "k-S1", "session_id"), (ids[2], "signins", "k-S1", "session_id"),
        (stale["event_id"], "signins", "k-S1", "session_id"),
        (ids[3], "signins", "k-S2", "root"), (acts[1]["event_id"], "activities", "k-S2", "session_id")])
    con.executemany("insert into session_hops values (?, ?, ?, ?, ?, ?)", [
        ("k-S1", ids[1], t(120), "country", "GB", "BG"), ("k-S1", ids[1], t(120), "ip", "81.2.69.160", "185.94.188.10"),
        ("k-S1", ids[2], t(240), "country", "BG", "BR")])
    legs = [(0, 1, 2000.0, "egress_change", "same session and device; the IP moved to a VPN egress"),
            (1, 2, 10000.0, "egress_change", "same session and device; VPN egress moved from BG to BR"),
            (2, 3, 7000.0, "impossible", "7000 km in 10 min (42000 km/h) from a new device on a hosting network")]
    for a, b, km, verdict, reason in legs:
        sa, sb = ALICE_SIGNINS[a], ALICE_SIGNINS[b]
        secs = (sb[0] - sa[0]) * 60.0
        con.execute("insert into travel values ('u-alice', 'alice@contoso.com', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                    " ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, false, ?, ?)",
                    [ids[a], ids[b], t(sa[0]), t(sb[0]), sa[1], sb[1], sa[2], sb[2], sa[3], sb[3], sa[4], sa[5],
                     sb[4], sb[5], km, km, secs, km / (secs / 3600), sa[8] == sb[8], f"k-{sb[8]}", sa[6], sb[6],
                     verdict, reason])
    # A same_location leg: never drawn.
    con.execute("insert into travel (user_id, user_principal_name, from_event_id, to_event_id, from_time, to_time,"
                " from_latitude, from_longitude, to_latitude, to_longitude, verdict, reason) values ('u-alice',"
                " 'alice@contoso.com', ?, ?, ?, ?, 51.5, -0.12, 51.5, -0.12, 'same_location', 'same city')",
                [ids[0], stale["event_id"], t(0), t(130)])
    ba = [(t(0), ids[0], "LogOn", "81.2.69.160", "London, GB", {"FirstTimeUserConnectedFromCountry": False}, 0),
          (t(120), ids[1], "LogOn", "185.94.188.10", "Sofia, BG",
           {"FirstTimeUserConnectedFromCountry": True, "CountryUncommonlyConnectedFromAmongPeers": True}, 4),
          (t(250), ids[3], "LogOn", "105.112.0.9", "Lagos, NG",
           {"FirstTimeUserConnectedFromCountry": True, "FirstTimeUserConnectedFromDevice": True,
            "CountryUncommonlyConnectedFromAmongPeers": True, "ISPUncommonlyUsedInTenant": True}, 9)]
    for when, eid, kind, ip, loc, insights, prio in ba:
        con.execute('insert into "BehaviorAnalytics" values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
                    [when, eid, kind, "Sign-in", "AzureActiveDirectory", "alice", "alice@contoso.com", ip, loc, None,
                     _j({"AccountDisplayName": "Alice Example", "AccountObjectID": "u-alice"}), _j({}),
                     _j(insights), prio])
    con.execute('insert into "riskDetections" values (\'det-1\', \'tokenReplay\', \'high\', \'atRisk\', null,'
                " 'realtime', 'signin', ?, ?, '105.112.0.9', '{\"countryOrRegion\":\"NG\"}', 'u-alice',"
                " 'alice@contoso.com', 'Alice Example', null, null, 'vigil', '{\"reason\":\"token replayed from"
                " a new device on a hosting network\"}', ?, 'k-S2')", [t(250), t(251), ids[3]])
    con.execute('insert into "riskDetections" values (\'det-2\', \'impossibleTravel\', \'medium\', \'atRisk\','
                " null, 'offline', 'signin', ?, ?, '105.112.0.9', '{}', 'u-alice', 'alice@contoso.com',"
                " 'Alice Example', null, null, 'vigil', '{}', ?, 'k-S2')", [t(250), t(260), ids[3]])
    con.execute('insert into "riskyUsers" values (\'u-alice\', \'alice@contoso.com\', \'Alice Example\', '
                "'high', 'atRisk', null, ?, 'vigil')", [t(260)])
    con.execute("insert into incidents values ('INC-1', 'Session hijack: token replay for alice@contoso.com',"
                " 'high', 'new', null, 'u-alice', 'alice@contoso.com', ?, ?, '[\"k-S2\"]',"
                " '[\"det-1\",\"det-2\"]', ?, 'Revoke sessions and reset the password',"
                " 'token replay from Lagos 10 minutes after Sao Paulo, then an inbox rule', 9, ?, ?)",
                [t(250), t(255), _j([ids[3], acts[1]["event_id"]]), t(261), t(261)])
    con.execute("insert into incidents values ('INC-2', 'Unfamiliar sign-in properties for bob@contoso.com',"
                " 'low', 'active', null, 'u-bob', 'bob@contoso.com', ?, ?, '[]', '[]', '[]', null, 'new browser',"
                " 2, ?, ?)", [t(30), t(30), t(31), t(31)])
    return {"alice_signins": ids, "points": 4, "lines": 3, "top_incident": "INC-1"}
