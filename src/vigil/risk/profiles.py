"""In-memory user profiles and tenant knowledge for real-time sign-in risk.

Built set-based from the store (one aggregate query per kind of fact) after an analysis, and
refreshed for the users a micro-batch touched (:meth:`Knowledge.refresh`); the real-time scorer
(:mod:`vigil.risk.realtime`) reads them with dictionary lookups only. What is kept mirrors what the
batch detections look back at, so a sign-in scored here and the same sign-in judged by the
batch rules see the same history:

* per user and feature (IP, ASN, country/city, device, browser, subnet — ``unfamiliarFeatures``;
  country — ``newCountry``; ASN over every success — ``anonymizedIPAddress``) the last time it
  was seen on a successful sign-in, stale confidential-client locations excluded where the
  detection excludes them;
* per user: successful sign-ins, first success, the countries seen outside the corporate egress, the last
  trusted location (the last successful
  located event, the *from* side of ``travel``), peers, and ``riskyUsers`` rows per source;
* tenant: the last sign-in per country, where people live (their own networks in a country on days 24 h
  apart), each IP's enrichment as the store saw it (and per /24
  or /48 prefix for IPs never seen), user agents' classes, live sessions' root authentications
  and hijack findings, password-spray / credential-stuffing sources, the leaked-credential list.

Times are seconds since the epoch (floats: a third of a ``datetime``'s memory).
"""
from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from vigil.detections import leaked
from vigil.detections.sqlparts import UNFAMILIAR_FEATURES
from vigil.errors import StoreError
from vigil.settings import Settings
from vigil.store import Store, in_list

#: features of ``unfamiliarFeatures`` (SQL over signins_enriched), plus ``country`` (newCountry); ``asn_any``
#: (anonymizedIPAddress and leakedCredentials: every success, stale ones included) is added in the build
FEATURES = {**UNFAMILIAR_FEATURES, "country": "geo_country"}
NO_ASN = "-"  # the ASN key of sign-ins without one (a partition of its own, as in the batch window)
ONCE_PER_ACCOUNT = ("leakedCredentials",)  # batch detections raised once per account, not per sign-in
LIVE_SESSION_S = 7 * 86400  # sessions whose last use is older than this (before the newest event) are dropped
DAY_S = 86400.0


def subnet(ip: str) -> str | None:
    """The /24 (IPv4) or first three groups (IPv6) of ``ip``, as ``FEATURES['subnet']`` writes it."""
    if "." in ip:
        parts = ip.split(".")
        return ".".join(parts[:3]) if len(parts) == 4 else None
    parts = ip.split(":")
    return ":".join(parts[:3]) if len(parts) >= 3 else None


@dataclass(slots=True, frozen=True)
class IpFacts:
    """What enrichment knows of an IP (``signins_enriched`` columns)."""

    country: str | None = None
    city: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    accuracy_km: float = 0.0
    asn: int | None = None
    as_org: str | None = None
    ip_class: str = "unknown"
    corporate: bool = False
    egress_name: str | None = None
    threat_intel: str | None = None
    known_by: str = "none"  # ip | prefix | request | none


@dataclass(slots=True, frozen=True)
class UaFacts:
    family: str | None
    os_family: str | None
    device_family: str | None
    ua_class: str


@dataclass(slots=True)
class Located:
    """A user's last successful located event: the *from* side of the next travel pair."""

    time: float
    event_id: str
    table: str  # signins | activities
    interactive: bool
    ip: str | None
    country: str | None
    city: str | None
    latitude: float
    longitude: float
    accuracy_km: float
    ip_class: str | None
    corporate: bool
    device_id: str | None
    session_key: str | None


@dataclass(slots=True)
class UserRisk:
    level: str
    state: str
    detail: str | None
    updated: float | None
    source: str  # vigil | IdentityProtection
    reason: str | None


@dataclass(slots=True)
class UserProfile:
    key: str  # the person (signins_enriched.person_id: one key across renames and identity providers)
    user_id: str | None = None
    name: str | None = None  # latest UPN, lower-cased
    seen: dict[str, dict[str, float]] = field(default_factory=dict)  # feature -> value -> last seen
    ok_count: int = 0  # successful non-stale sign-ins
    ok_first: float | None = None
    geo_first: float | None = None  # first successful non-stale sign-in with a country
    #: country -> first successful non-stale sign-in from it outside the corporate egress (where the user really is)
    own_countries: dict[str, float] = field(default_factory=dict)
    last_located: Located | None = None
    located_first: dict[str, float] = field(default_factory=dict)  # country -> first successful located event
    peers: tuple[str, ...] = ()
    risk: list[UserRisk] = field(default_factory=list)
    raised: set[str] = field(default_factory=set)  # once-per-account detections already raised (leakedCredentials)

    def last_seen(self, feature: str, value: str | None) -> float | None:
        if value is None:
            return None
        return self.seen.get(feature, {}).get(value)


@dataclass(slots=True, frozen=True)
class SessionRoot:
    """A session's root authentication (``sessions``) and any hijack finding on it."""

    user_key: str  # the person
    user_name: str | None  # the UPN of the root sign-in, lower-cased
    root_ip: str | None
    root_country: str | None
    root_asn: int | None
    root_ip_class: str | None
    root_device_id: str | None
    root_ua_family: str | None
    root_ua_os_family: str | None
    root_time: float | None
    findings: tuple[tuple[str, str, str, float], ...] = ()  # (kind, severity, reason, detected)


@dataclass(slots=True, frozen=True)
class Campaign:
    """A password-spray or credential-stuffing source the batch detections found."""

    risk_event_type: str
    kind: str  # ip | rotating (user agent)
    source: str
    accounts: int
    first: float
    last: float


@dataclass
class Knowledge:
    """Everything the real-time scorer reads, swapped in whole by :meth:`build` and updated per
    user by :meth:`refresh` (a lock guards writers; readers see whole profiles)."""

    users: dict[str, UserProfile] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)  # user object id -> person key
    names: dict[str, str] = field(default_factory=dict)  # lower-cased UPN -> person key
    countries: dict[str, float] = field(default_factory=dict)  # tenant: country -> last success
    homes: dict[str, float] = field(default_factory=dict)  # tenant: country -> since when someone lives there
    #: tenant: its first successful located sign-in; where its people live is known only a day after it
    located_since: float | None = None
    ips: dict[str, IpFacts] = field(default_factory=dict)
    prefixes: dict[str, IpFacts] = field(default_factory=dict)
    user_agents: dict[str, UaFacts] = field(default_factory=dict)
    sessions: dict[str, SessionRoot] = field(default_factory=dict)  # session id -> root
    campaigns: dict[tuple[str, str], Campaign] = field(default_factory=dict)  # (kind, source) -> campaign
    leaked: frozenset[str] = frozenset()  # sha256(lower(upn)) of listed accounts
    newest: float | None = None  # newest event in the store when built
    built_at: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _leaked_key: tuple[str, float] | None = field(default=None, repr=False)

    # -- lookups -----------------------------------------------------------------------------
    def key(self, user: str) -> str:
        """The person key of a UPN, an object id or a person key."""
        return self.names.get(user.lower()) or self.ids.get(user) or user

    def user(self, user_principal_name: str | None, user_id: str | None) -> UserProfile | None:
        for user in (user_principal_name, user_id):
            if user:
                found = self.users.get(self.key(user))
                if found is not None:
                    return found
        return None

    def ip_facts(self, ip: str | None) -> IpFacts:
        if not ip:
            return IpFacts()
        facts = self.ips.get(ip)
        if facts is not None:
            return facts
        net = subnet(ip)
        facts = self.prefixes.get(net) if net else None
        return facts if facts is not None else IpFacts()

    def is_leaked(self, user_principal_name: str | None) -> bool:
        return bool(self.leaked and user_principal_name
                    and hashlib.sha256(user_principal_name.lower().encode()).hexdigest() in self.leaked)

    # -- one event at a time (history replay) -------------------------------------------------
    def observe(self, e: dict[str, Any], ua: UaFacts | None, facts: IpFacts | None) -> None:
        """Fold one event (an :data:`vigil.risk.history.EVENT_COLUMNS` row, ``t`` in epoch seconds)
        into the profiles exactly as the set-based build would have counted it."""
        key = e["u"]
        if not key or not e["ok"]:
            return
        p = self.users.get(key)
        if p is None:
            p = self.users[key] = UserProfile(key)
        t, stale = float(e["t"]), bool(e["stale"])
        if e["event_table"] == "signins" and e["result"] == "success":
            if e["user_id"]:  # the directory's object id (Office 365 records carry another key)
                p.user_id = e["user_id"]
                self.ids[e["user_id"]] = key
            if e["user_principal_name"]:
                p.name = e["user_principal_name"].lower()
                self.names[p.name] = key
            f = facts or IpFacts()
            seen = p.seen
            if not stale:
                ip = e["ip"]
                device = e["device_id"] or None
                if device is None and ua is not None and ua.os_family is not None and ua.device_family is not None:
                    device = f"{ua.os_family}/{ua.device_family}"
                values = {"ip": ip, "asn": None if f.asn is None else str(f.asn),
                          "location": f"{f.country}/{f.city or ''}" if f.country else None, "device": device,
                          "browser": ua.family if ua else None, "subnet": subnet(ip) if ip else None,
                          "country": f.country}
                for name, value in values.items():
                    if value is not None:
                        seen.setdefault(name, {})[value] = t
                p.ok_count += 1
                p.ok_first = t if p.ok_first is None else p.ok_first
                if f.country is not None:
                    p.geo_first = t if p.geo_first is None else p.geo_first
                    if not f.corporate:  # someone lives where their own networks show them on days 24 h apart
                        first = p.own_countries.setdefault(f.country, t)
                        if t - first >= DAY_S and f.country not in self.homes:
                            self.homes[f.country] = t
                    self.countries[f.country] = t
                    self.located_since = t if self.located_since is None else min(self.located_since, t)
            seen.setdefault("asn_any", {})[NO_ASN if f.asn is None else str(f.asn)] = t
        if e["lat"] is not None and e["lon"] is not None and not stale:
            if e["country"] is not None:
                p.located_first.setdefault(e["country"], t)
            p.last_located = Located(t, e["event_id"], e["event_table"], bool(e["is_interactive"]), e["ip"],
                                     e["country"], e["city"], float(e["lat"]), float(e["lon"]), float(e["acc"] or 0.0),
                                     e["ip_class"], bool(e["corp"]), e["device_id"], e["session_key"])

    # -- building ----------------------------------------------------------------------------
    @classmethod
    def build(cls, store: Store, settings: Settings, *, users: bool = True) -> Knowledge:
        """Everything from the store, set-based (an empty knowledge when nothing is analysed yet);
        ``users=False``: the tenant's facts only, every session kept (history replay)."""
        k = cls()
        try:
            if users:
                k._load_users(store, None)
            else:
                k._load_names(store, None)
            k._load_tenant(store, settings, live_only=users)
        except duckdb.Error as exc:
            raise StoreError("vigil's risk profiles could not be read from the store (run `vigil analyze`): "
                             + str(exc).splitlines()[0], path=store.path) from None
        return k

    def refresh(self, store: Store, settings: Settings, users: Iterable[str] | None = None) -> dict[str, int]:
        """Re-read ``users`` (UPNs or object ids) and the tenant-wide facts; callable after each micro-batch
        of incremental analysis with the users it touched. None: the users with events newer than the
        newest one seen at the last build or refresh (events arriving late need their users named)."""
        with self._lock:
            if users is None:
                users = self._touched_since(store, self.newest)
            keys = sorted({self.key(u) for u in users})
            self._load_tenant(store, settings, keys=keys)
            if keys:
                self._load_users(store, keys)
        return {"users": len(keys), "profiles": len(self.users)}

    def _touched_since(self, store: Store, newest: float | None) -> list[str]:
        if not store.exists("signins_enriched"):
            return []
        since = "" if newest is None else f"where {store.dialect.epoch_seconds('event_time')} > {float(newest)!r}"
        return [r[0] for r in store.rows(
            f"select distinct person_id from signins_enriched {since}") if r[0]]

    def _load_tenant(self, store: Store, settings: Settings, live_only: bool = True,
                     keys: list[str] | None = None) -> None:
        """Tenant-wide facts; with ``keys`` (a refresh) the countries and IPs of those users' sign-ins are
        merged in rather than everything re-read (a micro-batch must not rescan the store)."""
        ep = store.dialect.epoch_seconds
        if not store.exists("signins_enriched"):
            return
        self.newest = store.scalar(f"select max({ep('event_time')}) from signins_enriched")
        self.built_at = self.newest
        mine = f" and person_id in {in_list(keys)}" if keys else ""
        countries = {c: float(t) for c, t in store.rows(f"""
            select geo_country, max({ep('event_time')}) from signins_enriched
            where result = 'success' and geo_country is not null and not coalesce(location_is_stale, false){mine}
            group by 1""")}
        if keys is not None:
            countries = {c: max(t, self.countries.get(c, t)) for c, t in countries.items()}
            countries = {**self.countries, **countries}
        self.countries = countries
        homes = {c: float(t) for c, t in store.rows(f"""
            with own as (
              select person_id, geo_country, event_time from signins_enriched
              where result = 'success' and geo_country is not null and not coalesce(location_is_stale, false)
                and not coalesce(is_corporate_egress, false){mine}
            ),
            firsts as (select person_id, geo_country, min(event_time) as first_t from own group by all)
            select o.geo_country, min({ep('o.event_time')}) from own o
            join firsts f on f.person_id = o.person_id and f.geo_country = o.geo_country
            where o.event_time >= f.first_t + interval '1 day'
            group by 1""")}
        if keys is not None:
            homes = {**homes, **{c: min(t, homes.get(c, t)) for c, t in self.homes.items()}}
        self.homes = homes
        since = store.scalar(f"""
            select min({ep('event_time')}) from signins_enriched
            where result = 'success' and geo_country is not null and not coalesce(location_is_stale, false){mine}""")
        if since is not None:
            since = float(since)
            self.located_since = since if self.located_since is None else min(self.located_since, since)
        ips: dict[str, IpFacts] = dict(self.ips) if keys is not None else {}
        prefixes: dict[str, IpFacts] = dict(self.prefixes) if keys is not None else {}
        for row in store.rows(f"""
            select ip, geo_country, geo_city, geo_latitude, geo_longitude, geo_accuracy_km, asn_number, as_org,
              ip_class, coalesce(is_corporate_egress, false), egress_name, threat_intel
            from (select *, row_number() over (partition by ip order by event_time desc, event_id desc) as rn
                  from signins_enriched where ip is not null{mine}) x
            where rn = 1"""):
            facts = IpFacts(row[1], row[2], row[3], row[4], float(row[5] or 0.0), row[6], row[7],
                            row[8] or "unknown", bool(row[9]), row[10], row[11], "ip")
            ips[row[0]] = facts
            net = subnet(row[0])
            if net is not None:
                prefixes[net] = IpFacts(facts.country, facts.city, facts.latitude, facts.longitude,
                                        facts.accuracy_km, facts.asn, facts.as_org,
                                        "unknown" if facts.ip_class == "corporate_egress" else facts.ip_class,
                                        False, None, None, "prefix")
        self.ips, self.prefixes = ips, prefixes
        if store.exists("ua_enrichment"):
            self.user_agents = {r[0]: UaFacts(r[1], r[2], r[3], r[4] or "unknown") for r in store.rows(
                "select user_agent, ua_family, ua_os_family, ua_device_family, ua_class from ua_enrichment")}
        self._load_sessions(store, live_only)
        self._load_campaigns(store)
        self._load_leaked(settings.detections.leaked_credentials_path)

    def _load_leaked(self, path: str | None) -> None:
        """sha256(lower(upn)) of the listed accounts, re-read only when the file changed."""
        key = (path, Path(path).stat().st_mtime) if path else None
        if key != self._leaked_key:
            self.leaked = frozenset(str(r["upn_sha256"]) for r in leaked.parse(Path(path))) if path else frozenset()
            self._leaked_key = key

    def _load_sessions(self, store: Store, live_only: bool = True) -> None:
        if not store.exists("sessions") or self.newest is None:
            self.sessions = {}
            return
        ep = store.dialect.epoch_seconds
        findings: dict[str, list[tuple[str, str, str, float]]] = {}
        if store.exists("session_hijacks"):
            for key, kind, severity, reason, t in store.rows(
                    f"select session_key, kind, severity, reason, {ep('detected_time')} from session_hijacks "
                    "order by detected_time, finding_id"):
                findings.setdefault(key, []).append((kind, severity, reason, float(t)))
        live = f"{ep('last_time')} >= {float(self.newest) - LIVE_SESSION_S!r}" if live_only else "true"
        out: dict[str, SessionRoot] = {}
        for r in store.rows(f"""
            select session_key, coalesce(session_id, substr(session_key, 3)), lower(user_principal_name), root_ip,
              root_country, root_asn, root_ip_class, root_device_id, root_ua_family, root_ua_os_family,
              {ep('root_time')}
            from sessions
            where not inferred and coalesce(root_interactive, false) and user_principal_name is not null
              and {live}"""):
            out[r[1]] = SessionRoot(self.key(r[2]), r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10],
                                    tuple(findings.get(r[0], ())))
        self.sessions = out

    def _load_campaigns(self, store: Store) -> None:
        self.campaigns = {}
        if not store.exists("riskDetections"):
            return
        ep = store.dialect.epoch_seconds
        for typ, kind, src, accounts, first, last in store.rows(f"""
            select riskEventType, json_extract_string(additionalInfo, '$.evidence.source_kind'),
              json_extract_string(additionalInfo, '$.evidence.source'),
              count(distinct userPrincipalName), min({ep('activityDateTime')}), max({ep('activityDateTime')})
            from "riskDetections"
            where source = 'vigil' and detection in ('passwordSpray', 'credentialStuffing')
            group by all"""):
            if kind and src:
                self.campaigns[(kind, src)] = Campaign(typ, kind, src, int(accounts), float(first), float(last))

    def _load_users(self, store: Store, keys: list[str] | None) -> None:
        if not store.exists("signins_enriched"):
            return
        ep = store.dialect.epoch_seconds
        where = f" and person_id in {in_list(keys)}" if keys else ""
        self._load_names(store, keys)
        fresh: dict[str, UserProfile] = {}

        def prof(key: str) -> UserProfile:
            p = fresh.get(key)
            if p is None:
                p = fresh[key] = UserProfile(key)
            return p

        ok = (f"select *, person_id as u, {ep('event_time')} as t from signins_enriched "
              f"where result = 'success' and person_id is not null{where}")
        parts = [f"select u, '{name}' as f, {expr} as v, max(t) as last from ok "
                 f"where not coalesce(location_is_stale, false) and {expr} is not null group by all"
                 for name, expr in FEATURES.items()]
        parts.append(f"select u, 'asn_any', coalesce(cast(asn_number as varchar), '{NO_ASN}'), max(t) from ok "
                     "group by all")
        for u, f, v, last in store.rows(f"with ok as ({ok}) " + " union all ".join(parts)):
            prof(u).seen.setdefault(f, {})[v] = float(last)
        for u, uid, name, n, first, geo_first in store.rows(f"""
            with ok as ({ok})
            select u, arg_max(user_id, t) filter (where user_id is not null),
              arg_max(lower(user_principal_name), t) filter (where user_principal_name is not null),
              count(*) filter (where not coalesce(location_is_stale, false)),
              min(t) filter (where not coalesce(location_is_stale, false)),
              min(t) filter (where not coalesce(location_is_stale, false) and geo_country is not null)
            from ok group by u"""):
            p = prof(u)
            p.user_id, p.name, p.ok_count = uid, name, int(n)
            p.ok_first = None if first is None else float(first)
            p.geo_first = None if geo_first is None else float(geo_first)
        for u, country, first in store.rows(f"""
            with ok as ({ok})
            select u, geo_country, min(t) from ok
            where not coalesce(location_is_stale, false) and geo_country is not null
              and not coalesce(is_corporate_egress, false)
            group by all"""):
            prof(u).own_countries[country] = float(first)
        self._load_located(store, where.replace("person_id", "pid"), prof)
        self._load_peers_and_risk(store, keys, prof)
        for key in keys or ():
            if key not in fresh:
                self.users.pop(key, None)
        if keys is None:
            self.users = fresh
        else:
            self.users.update(fresh)

    def _load_located(self, store: Store, where: str, prof: Any) -> None:
        from vigil.sessions.events import EVENTS_SQL

        ep = store.dialect.epoch_seconds
        if not store.exists("activities_enriched"):
            return
        for r in store.rows(f"""
            select pid, {ep('event_time')}, event_id, event_table, coalesce(is_interactive, false), ip, country, city,
              lat, lon, acc, ip_class, corp, device_id, session_key
            from (select e.*, row_number() over (
                    partition by pid order by event_time desc, event_id desc) as rn
                  from ({EVENTS_SQL}) e
                  where lat is not null and lon is not null and not coalesce(stale, false) and pid is not null
                    and ok{where}) x
            where rn = 1"""):
            prof(r[0]).last_located = Located(float(r[1]), r[2], r[3], bool(r[4]), r[5], r[6], r[7], float(r[8]),
                                              float(r[9]), float(r[10] or 0.0), r[11], bool(r[12]), r[13], r[14])
        for pid, country, first in store.rows(f"""
            select pid, country, min({ep('event_time')}) from ({EVENTS_SQL}) e
            where lat is not null and lon is not null and not coalesce(stale, false) and pid is not null
              and country is not null and ok{where}
            group by all"""):
            prof(pid).located_first[country] = float(first)

    def _load_names(self, store: Store, keys: list[str] | None) -> None:
        """UPNs and object ids -> person keys (every name a person signed in with)."""
        if not store.exists("signins_enriched"):
            return
        where = f" and person_id in {in_list(keys)}" if keys else ""
        for key, name, uid in store.rows(f"""select distinct person_id, lower(user_principal_name), user_id
                                             from signins_enriched where person_id is not null{where}"""):
            if name:
                self.names[name] = key
            if uid:
                self.ids[uid] = key

    def _load_peers_and_risk(self, store: Store, keys: list[str] | None, prof: Any) -> None:
        ep = store.dialect.epoch_seconds
        wanted = set(keys) if keys else None

        def mine(user: str | None) -> str | None:
            key = self.key(user) if user else None
            return key if key and (wanted is None or key in wanted) else None

        if store.exists("UserPeerAnalytics"):
            peers: dict[str, list[str]] = {}
            for u, peer in store.rows("""select lower(UserPrincipalName), lower(PeerUserPrincipalName)
                                         from "UserPeerAnalytics" order by 1, Rank, 2"""):
                if (key := mine(u)) is not None and peer:
                    peers.setdefault(key, []).append(peer)
            for key, ps in peers.items():
                prof(key).peers = tuple(ps)
        if store.exists("riskDetections"):
            for u, det in store.rows(f"""select distinct lower(userPrincipalName), riskEventType from "riskDetections"
                                        where riskEventType in {in_list(ONCE_PER_ACCOUNT)}"""):
                if (key := mine(u)) is not None:
                    prof(key).raised.add(det)
        persons: set[str] | None = None
        if store.exists("riskyUsers"):
            for r in store.rows(f"""select id, lower(userPrincipalName), riskLevel, riskState, riskDetail,
                                      {ep('riskLastUpdatedDateTime')}, source, reason
                                    from "riskyUsers" order by source, id"""):
                # vigil's rows are keyed by person already; imported ones by object id or UPN
                persons = persons if persons is not None else set(self.names.values()) | set(self.ids.values())
                key = r[0] if r[0] in persons else self.ids.get(r[0]) or (self.names.get(r[1]) if r[1] else None)
                if key is not None and (wanted is None or key in wanted):
                    p = prof(key)
                    p.risk.append(UserRisk(r[2] or "none", r[3] or "none", r[4], r[5], r[6], r[7]))

