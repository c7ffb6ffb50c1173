"""Labelled attack campaigns injected into a copy of a real store (``vigil evaluate --inject``).

The simulator judges vigil on a tenant it invented; a SOC needs the figure on its own users. This
module picks victims among the store's own users (people with enough successful interactive sign-ins),
learns what is theirs (usual device id, browser, network, place, working hour, a live session id) and
writes each campaign as canonical ``signins`` / ``activities`` rows (``source_format`` ``vigil_inject``)
placed in the last days of the store's data, at the victim's own working hour, plus ``labels.jsonl`` in
the simulator's label format. Attacker networks carry the vendor fields an identity provider writes
(country, city, coordinates, ASN), with ASNs from vigil's bundled feeds, so enrichment classes them
(DigitalOcean hosting, M247 VPN, Rostelecom residential) whatever geolocation database is installed.

Only ever write into a copy: the rows are fiction, labelled as such.
"""
from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa

from vigil.errors import InputError
from vigil.store import Store
from vigil.store.schema import ACTIVITIES, SIGNINS, Table

FORMAT = "vigil_inject"
#: campaign type -> headline ATT&CK technique (the types this module can write)
INJECTABLE = {"brute_force": "T1110.001", "password_spray": "T1110.003", "mfa_fatigue": "T1621",
              "impossible_travel_compromise": "T1078.004", "token_replay": "T1550.001",
              "device_code_phishing": "T1528"}


@dataclass(frozen=True)
class Net:
    ip_prefix: str  # three octets; the last one is drawn
    asn: int
    country: str
    city: str
    lat: float
    lon: float


HOSTING = Net("46.101.77", 14061, "DE", "Frankfurt am Main", 50.1109, 8.6821)  # DigitalOcean
VPN = Net("185.156.46", 9009, "NL", "Amsterdam", 52.3676, 4.9041)  # M247
RESIDENTIAL_ABROAD = Net("95.29.51", 12389, "RU", "Moscow", 55.7558, 37.6173)  # Rostelecom
UA_PYTHON = "python-requests/2.32.3"
UA_ROPC = "BAV2ROPC"
UA_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"

_PROFILE = """
with ok as (
  select * from signins
  where result = 'success' and coalesce(is_interactive, false) and user_principal_name is not null
),
counted as (
  select user_principal_name, count(*) as n, max(event_time) as last_t from ok group by 1
  having count(*) >= ?
)
select c.user_principal_name as upn, c.n, c.last_t,
  (select max(user_id) from ok o where o.user_principal_name = c.user_principal_name) as user_id,
  (select max(tenant_id) from ok o where o.user_principal_name = c.user_principal_name) as tenant_id,
  (select mode(device_id) from ok o where o.user_principal_name = c.user_principal_name
     and coalesce(device_id, '') <> '') as device_id,
  (select mode(user_agent) from ok o where o.user_principal_name = c.user_principal_name) as user_agent,
  (select mode(country) from ok o where o.user_principal_name = c.user_principal_name) as country,
  (select mode(hour(event_time)) from ok o where o.user_principal_name = c.user_principal_name) as hour,
  (select max(session_id) from ok o where o.user_principal_name = c.user_principal_name
     and o.event_time = c.last_t) as session_id
from counted c order by c.user_principal_name
"""


@dataclass
class Victim:
    upn: str
    user_id: str | None
    tenant_id: str | None
    device_id: str | None
    user_agent: str | None
    country: str | None
    hour: int
    session_id: str | None
    last_t: datetime


class _Writer:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.signins: list[dict[str, Any]] = []
        self.activities: list[dict[str, Any]] = []
        self.labels: list[dict[str, Any]] = []

    def _ids(self, kind: str) -> tuple[str, str]:
        rid = f"inject-{kind}-{self.rng.getrandbits(64):016x}"
        return rid, hashlib.md5(f"{FORMAT}|{rid}".encode()).hexdigest()[:16]

    def _label(self, rid: str, t: datetime, v: Victim, cid: str, ctype: str, technique: str) -> None:
        self.labels.append({"kind": "event", "source_file": FORMAT, "record_id": rid,
                            "time": t.isoformat() + "Z", "campaign_id": cid, "campaign_type": ctype,
                            "technique": technique, "malicious": True, "user": v.upn, "user_id": v.user_id})

    def signin(self, v: Victim, t: datetime, net: Net, cid: str, ctype: str, *, result: str = "0",
               interactive: bool = True, mfa: bool = False, ua: str = UA_PYTHON, session: str | None = None,
               device: str | None = None, protocol: str | None = None, client_app: str = "Browser",
               technique: str | None = None) -> None:
        rid, eid = self._ids("signin")
        ok = result == "0"
        self.signins.append({
            "event_id": eid, "event_time": t, "source_format": FORMAT, "source_table":
            "SigninLogs" if interactive else "AADNonInteractiveUserSignInLogs", "source_file": FORMAT,
            "source_record_id": rid, "tenant_id": v.tenant_id, "user_id": v.user_id, "user_principal_name": v.upn,
            "user_type": "Member", "app_name": "OfficeHome", "resource_name": "Microsoft Graph",
            "client_app_type": client_app, "is_interactive": interactive,
            "result": "success" if ok else ("interrupted" if result in ("50074", "50076") else "failure"),
            "result_code": result, "auth_requirement": "multiFactorAuthentication" if mfa else
            "singleFactorAuthentication", "mfa_satisfied": ok and mfa, "auth_protocol": protocol,
            "token_issuer_type": "AzureAD", "ip": f"{net.ip_prefix}.{self.rng.randrange(2, 250)}",
            "country": net.country, "city": net.city, "latitude": net.lat, "longitude": net.lon, "asn": net.asn,
            "device_id": device, "user_agent": ua, "session_id": session, "request_id": rid,
            "correlation_id": rid, "risk_level_during_signin": "none", "risk_level_aggregated": "none",
            "risk_state": "none", "risk_detail": "none", "risk_event_types": "[]",
        })
        self._label(rid, t, v, cid, ctype, technique or INJECTABLE[ctype])

    def mail(self, v: Victim, t: datetime, net: Net, cid: str, ctype: str, session: str | None, n: int) -> None:
        for i in range(n):
            rid, eid = self._ids("mail")
            when = t + timedelta(seconds=30 * (i + 1))
            self.activities.append({
                "event_id": eid, "event_time": when, "source_format": FORMAT, "source_table": "OfficeActivity",
                "source_file": FORMAT, "source_record_id": rid, "tenant_id": v.tenant_id, "user_id": v.user_id,
                "user_principal_name": v.upn, "workload": "Exchange", "record_type": "50",
                "operation": "MailItemsAccessed", "result_status": "Succeeded", "ip": f"{net.ip_prefix}.9",
                "session_id": session, "country": net.country})
            self._label(rid, when, v, cid, ctype, "T1114.002")


def _when(rng: random.Random, v: Victim, end: datetime) -> datetime:
    """A time in the last three days of the data, at the victim's usual hour."""
    day = (end - timedelta(days=rng.randrange(1, 4))).replace(hour=0, minute=0, second=0, microsecond=0)
    return day + timedelta(hours=v.hour, minutes=rng.randrange(0, 50))


def _campaigns(w: _Writer, rng: random.Random, victims: list[Victim], others: list[Victim], end: datetime
               ) -> dict[str, Callable[[str, Victim], None]]:
    def brute_force(cid: str, v: Victim) -> None:
        t = _when(rng, v, end)
        for i in range(30):
            w.signin(v, t + timedelta(seconds=20 * i), HOSTING, cid, "brute_force",
                     result="50126" if i < 10 else "50053")

    def password_spray(cid: str, v: Victim) -> None:
        t = _when(rng, v, end)
        for round_ in range(3):
            for k, u in enumerate([v, *others[:29]]):
                good = u is v and round_ == 1
                net = Net(f"{HOSTING.ip_prefix[:-2]}{rng.randrange(10, 99)}", HOSTING.asn, HOSTING.country,
                          HOSTING.city, HOSTING.lat, HOSTING.lon)
                w.signin(u, t + timedelta(hours=3 * round_, minutes=2 * k), net, cid, "password_spray",
                         result="50076" if good else "50126", ua=UA_ROPC, protocol="ropc", client_app="Other clients")

    def mfa_fatigue(cid: str, v: Victim) -> None:
        t = _when(rng, v, end)
        for i in range(8):
            w.signin(v, t + timedelta(minutes=2 * i), VPN, cid, "mfa_fatigue", result="500121", ua=UA_LINUX)
        session = f"inject-{rng.getrandbits(64):016x}"
        ok = t + timedelta(minutes=18)
        w.signin(v, ok, VPN, cid, "mfa_fatigue", mfa=True, ua=UA_LINUX, session=session)
        w.mail(v, ok, VPN, cid, "mfa_fatigue", session, 10)

    def impossible_travel(cid: str, v: Victim) -> None:  # half an hour to an hour after the victim's own sign-in
        t = v.last_t + timedelta(minutes=rng.randrange(30, 90))
        session = f"inject-{rng.getrandbits(64):016x}"
        w.signin(v, t, RESIDENTIAL_ABROAD, cid, "impossible_travel_compromise", mfa=True, ua=UA_LINUX,
                 session=session)
        w.mail(v, t, RESIDENTIAL_ABROAD, cid, "impossible_travel_compromise", session, 6)

    def token_replay(cid: str, v: Victim) -> None:
        t = v.last_t + timedelta(minutes=rng.randrange(20, 90))
        for i in range(4):
            w.signin(v, t + timedelta(minutes=7 * i), HOSTING, cid, "token_replay", interactive=False, mfa=True,
                     session=v.session_id, client_app="Mobile Apps and Desktop clients")

    def device_code(cid: str, v: Victim) -> None:
        t = _when(rng, v, end)
        session = f"inject-{rng.getrandbits(64):016x}"
        w.signin(v, t, HOSTING, cid, "device_code_phishing", mfa=True, session=session, protocol="deviceCode")
        for i in range(3):
            w.signin(v, t + timedelta(hours=i + 1), HOSTING, cid, "device_code_phishing", interactive=False,
                     mfa=True, session=session, protocol="deviceCode", client_app="Mobile Apps and Desktop clients")

    return {"brute_force": brute_force, "password_spray": password_spray, "mfa_fatigue": mfa_fatigue,
            "impossible_travel_compromise": impossible_travel, "token_replay": token_replay,
            "device_code_phishing": device_code}


def _insert(store: Store, table: Table, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    names = [c.name for c in table.columns]
    data = pa.Table.from_pylist([{n: r.get(n) for n in names} for r in rows])
    store.con.register("_vigil_inject", data)
    try:
        cols = ", ".join(f'"{n}"' for n in names)
        casts = ", ".join(f'CAST("{n}" AS {c.type.replace(" NOT NULL", "")})' for n, c in
                          zip(names, table.columns, strict=True))
        store.con.execute(f'INSERT INTO "{table.name}" ({cols}) SELECT {casts} FROM _vigil_inject')
    finally:
        store.con.unregister("_vigil_inject")


def inject(store: Store, labels_path: Path, *, seed: int = 1, campaigns: list[str] | None = None,
           min_signins: int = 3) -> dict[str, Any]:
    """Write labelled campaigns into ``store`` (a copy!) and their labels; returns what was injected."""
    kinds = campaigns or list(INJECTABLE)
    unknown = set(kinds) - set(INJECTABLE)
    if unknown:
        raise InputError(f"cannot inject {', '.join(sorted(unknown))} (injectable: {', '.join(INJECTABLE)})")
    rows = store.con.execute(_PROFILE, [min_signins]).fetchall()
    people = [Victim(upn, uid, tid, dev, ua, country, int(hour or 9), sid, last) for
              upn, _n, last, uid, tid, dev, ua, country, hour, sid in rows]
    if len(people) < len(kinds) + 1:
        raise InputError(f"the store has {len(people)} users with {min_signins}+ successful interactive sign-ins; "
                         f"injecting {len(kinds)} campaigns needs at least {len(kinds) + 1}")
    rng = random.Random(seed)
    rng.shuffle(people)
    end = max(p.last_t for p in people)
    w = _Writer(rng)
    writers = _campaigns(w, rng, people, people[len(kinds):], end)
    done = []
    for i, kind in enumerate(kinds):
        victim = people[i]
        if kind == "token_replay" and not victim.session_id:  # needs a live session: take one who has it
            alt = next((p for p in people[len(kinds):] if p.session_id), None)
            if alt is None:
                continue
            victim = alt
        cid = f"inject-{kind}-{rng.getrandbits(32):08x}"
        writers[kind](cid, victim)
        done.append({"campaign_id": cid, "type": kind, "victim": victim.upn})
    with store.transaction():
        _insert(store, SIGNINS, w.signins)
        _insert(store, ACTIVITIES, w.activities)
    labels_path.write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in w.labels))
    return {"campaigns": done, "signins": len(w.signins), "activities": len(w.activities),
            "labels": str(labels_path), "victims_eligible": len(people)}
