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
from vigil.store.schema import Table

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

#: the enrichment columns of signins_enriched (enrich/ owns the real view; this one is contract-shaped)
DDL = [
    f"create table _enrich_s (event_id VARCHAR, {ENRICH_COLS})",
    ("create view signins_enriched as select s.*, e.* exclude (event_id) from signins s "
     "left join _enrich_s e using (event_id)"),
    ("create view activities_enriched as select a.*, null::VARCHAR as geo_country, null::VARCHAR as geo_city, "
     "null::DOUBLE as geo_latitude, null::DOUBLE as geo_longitude from activities a"),
]


def _owner_tables() -> list[Table]:
    """The owning areas' own definitions, so the seed has every column they add to the contract."""
    from vigil.detections.tables import RISK_DETECTIONS
    from vigil.enrich.tables import EGRESS_POINTS
    from vigil.incidents.tables import TABLES as INCIDENT_TABLES
    from vigil.risk.tables import TABLES as RISK_TABLES
    from vigil.sessions.tables import EVENT_SESSIONS, SESSION_HOPS, SESSIONS, TRAVEL
    from vigil.ueba.tables import BEHAVIOR_ANALYTICS

    return [SESSIONS, EVENT_SESSIONS, SESSION_HOPS, TRAVEL, BEHAVIOR_ANALYTICS, RISK_DETECTIONS, EGRESS_POINTS,
            *RISK_TABLES, *INCIDENT_TABLES]


def put(store: Store, table: str, rows: list[dict[str, Any]]) -> None:
    """Insert rows by column name (JSON values given as Python objects)."""
    for r in rows:
        cols = list(r)
        vals = [_j(v) if isinstance(v, dict | list) else v for v in r.values()]
        store.con.execute(f'insert into "{table}" ({", ".join(chr(34) + c + chr(34) for c in cols)}) '
                          f"values ({', '.join('?' * len(cols))})", vals)


def _j(v: Any) -> str:
    return orjson.dumps(v).decode()


def seed(store: Store) -> dict[str, Any]:
    """Write the scenario; returns the ids tests assert on."""
    con = store.con
    for stmt in DDL:
        con.execute(stmt)
    store.ensure(_owner_tables())
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
    put(store, "egress_points", [dict(kind="cidr", value="81.2.69.0/24", name="London HQ", origin="named_location",
                                      status="accepted", distinct_users=2, evidence={})])

    def t(m: float) -> datetime:
        return T0 + timedelta(minutes=m)

    who = {"user_id": "u-alice", "user_principal_name": "alice@contoso.com"}
    put(store, "sessions", [
        dict(session_key="k-S1", session_id="S1", **who, inferred=False, stitch_method="session_id",
             first_time=t(0), last_time=t(240), root_event_id=ids[0], root_time=t(0), root_ip="81.2.69.160",
             root_country="GB", root_city="London", root_latitude=51.5074, root_longitude=-0.1278,
             root_device_id="dev-a", root_os="Windows 10", root_browser="Edge 120", root_user_agent="Mozilla",
             root_mfa=True, root_ip_class="corporate_egress", event_count=5, signin_count=3, activity_count=1,
             hop_count=2, countries=["GB", "BG", "BR"], ips=[]),
        dict(session_key="k-S2", session_id="S2", **who, inferred=True, stitch_method="token_replay",
             first_time=t(250), last_time=t(255), root_event_id=ids[3], root_time=t(250), root_ip="105.112.0.9",
             root_country="NG", root_city="Lagos", root_latitude=6.52, root_longitude=3.37, root_device_id=None,
             root_os="Linux", root_browser="python-requests", root_user_agent="python-requests/2.31",
             root_mfa=False, root_ip_class="hosting", event_count=2, signin_count=1, activity_count=1,
             hop_count=0, countries=["NG"], ips=[])])
    links = [(ids[0], "signins", "k-S1", "root"), (acts[0]["event_id"], "activities", "k-S1", "session_id"),
             (ids[1], "signins", "k-S1", "session_id"), (ids[2], "signins", "k-S1", "session_id"),
             (stale["event_id"], "signins", "k-S1", "session_id"),
             (ids[3], "signins", "k-S2", "root"), (acts[1]["event_id"], "activities", "k-S2", "session_id")]
    put(store, "event_sessions", [dict(event_id=e, event_table=tb, session_key=k, link_method=m)
                                  for e, tb, k, m in links])
    hops = [("k-S1", ids[1], t(120), "country", "GB", "BG"), ("k-S1", ids[1], t(120), "ip", "81.2.69.160",
             "185.94.188.10"), ("k-S1", ids[2], t(240), "country", "BG", "BR")]
    put(store, "session_hops", [dict(session_key=k, event_id=e, hop_time=h, hop_kind=kind, from_value=a, to_value=b)
                                for k, e, h, kind, a, b in hops])
    legs = [(0, 1, 2000.0, "egress_change", "same session and device; the IP moved to a VPN egress"),
            (1, 2, 10000.0, "egress_change", "same session and device; VPN egress moved from BG to BR"),
            (2, 3, 7000.0, "impossible", "7000 km in 10 min (42000 km/h) from a new device on a hosting network")]
    travel = []
    for a, b, km, verdict, reason in legs:
        sa, sb = ALICE_SIGNINS[a], ALICE_SIGNINS[b]
        secs = (sb[0] - sa[0]) * 60.0
        travel.append(dict(**who, from_event_id=ids[a], to_event_id=ids[b], from_time=t(sa[0]), to_time=t(sb[0]),
                           from_ip=sa[1], to_ip=sb[1], from_country=sa[2], to_country=sb[2], from_city=sa[3],
                           to_city=sb[3], from_latitude=sa[4], from_longitude=sa[5], to_latitude=sb[4],
                           to_longitude=sb[5], distance_km=km, adjusted_distance_km=km, elapsed_s=secs,
                           speed_kmh=km / (secs / 3600), same_session=sa[8] == sb[8], session_key=f"k-{sb[8]}",
                           from_ip_class=sa[6], to_ip_class=sb[6], to_failed=False, verdict=verdict, reason=reason))
    # A same_location leg: never drawn.
    travel.append(dict(**who, from_event_id=ids[0], to_event_id=stale["event_id"], from_time=t(0), to_time=t(130),
                       from_latitude=51.5, from_longitude=-0.12, to_latitude=51.5, to_longitude=-0.12,
                       verdict="same_location", reason="same city"))
    put(store, "travel", travel)
    ba = [(t(0), ids[0], "81.2.69.160", "London, GB", {"FirstTimeUserConnectedFromCountry": False}, 0),
          (t(120), ids[1], "185.94.188.10", "Sofia, BG",
           {"FirstTimeUserConnectedFromCountry": True, "CountryUncommonlyConnectedFromAmongPeers": True}, 4),
          (t(250), ids[3], "105.112.0.9", "Lagos, NG",
           {"FirstTimeUserConnectedFromCountry": True, "FirstTimeUserConnectedFromDevice": True,
            "CountryUncommonlyConnectedFromAmongPeers": True, "ISPUncommonlyUsedInTenant": True}, 9)]
    put(store, "BehaviorAnalytics", [
        dict(TimeGenerated=when, SourceRecordId=eid, ActivityType="LogOn", ActionType="Sign-in",
             EventSource="AzureActiveDirectory", UserName="alice", UserPrincipalName="alice@contoso.com",
             SourceIPAddress=ip, SourceIPLocation=loc,
             UsersInsights={"AccountDisplayName": "Alice Example", "AccountObjectID": "u-alice"},
             DevicesInsights={}, ActivityInsights=insights, InvestigationPriority=prio)
        for when, eid, ip, loc, insights, prio in ba])
    det = dict(riskState="atRisk", activity="signin", activityDateTime=t(250), ipAddress="105.112.0.9",
               userId="u-alice", userPrincipalName="alice@contoso.com", userDisplayName="Alice Example",
               source="vigil", event_id=ids[3], session_key="k-S2")
    put(store, "riskDetections", [
        dict(id="det-1", riskEventType="tokenReplay", riskLevel="high", detectionTimingType="realtime",
             detectedDateTime=t(251), location={"countryOrRegion": "NG"},
             additionalInfo={"reason": "token replayed from a new device on a hosting network"}, **det),
        dict(id="det-2", riskEventType="impossibleTravel", riskLevel="medium", detectionTimingType="offline",
             detectedDateTime=t(260), location={}, additionalInfo={}, **det)])
    put(store, "riskyUsers", [dict(id="u-alice", userPrincipalName="alice@contoso.com",
                                   userDisplayName="Alice Example", riskLevel="high", riskState="atRisk",
                                   riskLastUpdatedDateTime=t(260), source="vigil")])
    put(store, "incidents", [
        dict(incident_id="INC-1", title="Session hijack: token replay for alice@contoso.com", severity="high",
             status="new", **who, first_activity=t(250), last_activity=t(255), session_keys=["k-S2"],
             detection_ids=["det-1", "det-2"], event_ids=[ids[3], acts[1]["event_id"]],
             recommended_action="Revoke sessions and reset the password",
             reason="token replay from Lagos 10 minutes after Sao Paulo, then an inbox rule", priority=9,
             created_at=t(261), updated_at=t(261)),
        dict(incident_id="INC-2", title="Unfamiliar sign-in properties for bob@contoso.com", severity="low",
             status="active", user_id="u-bob", user_principal_name="bob@contoso.com", first_activity=t(30),
             last_activity=t(30), session_keys=[], detection_ids=[], event_ids=[], reason="new browser",
             priority=2, created_at=t(31), updated_at=t(31))])
    return {"alice_signins": ids, "points": 4, "lines": 3, "top_incident": "INC-1"}
