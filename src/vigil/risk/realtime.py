"""Real-time sign-in risk: the sign-in being decided, scored against the user's profile.

Each signal is named with its Entra ``riskEventType``, ``detectionTimingType = realtime`` and a
one-line reason. The rules are the batch detections' (:mod:`vigil.detections.rules`) with the same
parameters (``detections.params`` overrides apply to both), evaluated against
:class:`~vigil.risk.profiles.Knowledge` instead of a window over history, so a sign-in scored
now and the same sign-in judged by the next analysis agree (``tests/risk/test_realtime.py``
checks it over a simulated month):

=========================== ========================================================================
riskEventType               rule (level)
=========================== ========================================================================
anonymizedIPAddress         Tor exit (high); anonymising VPN on an ASN and a device new for the user (medium),
                            else low
unfamiliarFeatures          ASN and location new in the look-back (low), plus device or browser (medium),
                            plus both (high); corporate egress, anonymisers, users still learning and MFA on
                            the user's registered device are skipped
newCountry                  interactive, country not used by the user in the look-back (low), nor by
                            anyone in the tenant (medium); corporate egress, anonymisers and learning users
                            skipped
mcasImpossibleTravel        from the last trusted location (the last successful located event: an interactive
                            sign-in, or a refresh from the user's own kind of network) faster than the travel
                            rules allow (medium; high to hosting, a listed IP or a country the user never
                            signed in from, after corporate egress only when the user was seen outside it or
                            nobody in the tenant lives in that country); a side on Tor or a commercial VPN
                            is the relay, not the user (anonymizedIPAddress); corporate egress on both ends,
                            or on one within the same session and device (VPN failover), is an egress change
                            and scores nothing
leakedCredentials           a listed account from an attacker-shaped network it never succeeded from (high)
maliciousIPAddress          an IP listed by threat intelligence (high)
passwordSpray /
credentialStuffing          a sign-in from a source (IP or rotating user agent) of a running campaign (high)
anomalousToken              a session id presented from a device and network its root never used
                            (high), or device and client (medium; high on a new ASN while the owner used the
                            root device within sessions.owner_active_minutes), a session already flagged by
                            the session analysis, or another user's session (high)
=========================== ========================================================================

``riskyIPAddress`` (activity from an anonymiser after a sign-in from it) has no real-time rule: what the
sign-in is followed by is only known afterwards; the sign-in itself scores as anonymizedIPAddress.

The sign-in risk is the highest signal's level (Entra's ``riskLevelDuringSignIn``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from vigil.detections import registry
from vigil.enrich.views import MICROSOFT_SERVICE_ASNS
from vigil.risk.profiles import DAY_S, NO_ASN, IpFacts, Knowledge, UaFacts, UserProfile, subnet
from vigil.settings import Settings

RANK = {"none": 0, "low": 1, "medium": 2, "high": 3}
LEVELS = ("none", "low", "medium", "high")
DAY = 86400.0
ATTACKER_NETWORKS = ("hosting", "vpn", "tor")
ANONYMISERS = ("tor", "vpn")
HIJACK_KINDS = ("token_replay", "concurrent_use", "scripted_client", "aitm")


@dataclass(frozen=True, slots=True)
class Observation:
    """The sign-in being decided, as far as the caller and enrichment know it."""

    time: float  # seconds since the epoch
    user_principal_name: str | None = None
    user_id: str | None = None
    ip: str | None = None
    country: str | None = None  # the caller's, used only when vigil cannot geolocate the IP
    user_agent: str | None = None
    device_id: str | None = None  # a registered (Entra) device id
    session_id: str | None = None  # the session the presented token belongs to (sid)
    interactive: bool = True
    mfa: bool = False  # the sign-in carries an MFA claim
    facts: IpFacts | None = None  # enrichment already known (history replay); else resolved here
    ua: UaFacts | None = None
    #: the logged IP is not where the user is (a Microsoft service acting for the user, a confidential client
    #: logging the token's original IP: enrichment's location_is_stale); None: judged here from the network
    stale: bool | None = None


@dataclass(frozen=True, slots=True)
class Signal:
    risk_event_type: str
    level: str
    reason: str
    evidence: dict[str, Any]
    detection: str  # the batch detection whose rule this is

    def to_dict(self) -> dict[str, Any]:
        return {"riskEventType": self.risk_event_type, "detectionTimingType": "realtime", "riskLevel": self.level,
                "reason": self.reason, "detection": self.detection, "evidence": self.evidence}


@dataclass(frozen=True, slots=True)
class Score:
    level: str
    signals: tuple[Signal, ...]
    user_known: bool
    facts: IpFacts
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        f = self.facts
        return {"level": self.level, "signals": [s.to_dict() for s in self.signals], "userKnown": self.user_known,
                "network": {"country": f.country, "city": f.city, "asn": f.asn, "as_org": f.as_org,
                            "ip_class": f.ip_class, "corporate_egress": f.corporate, "known_by": f.known_by},
                "notes": list(self.notes)}


@dataclass(frozen=True)
class Rules:
    """The batch detections' parameters (defaults, overlaid with ``detections.params``)."""

    unfamiliar_lookback: float = 30 * DAY
    unfamiliar_learning: float = 5 * DAY
    unfamiliar_signins: int = 10
    country_lookback: float = 90 * DAY
    country_learning: float = 7 * DAY
    max_speed_kmh: float = 900.0
    min_distance_km: float = 500.0
    plausible_kmh: float = 900.0
    impossible_kmh: float = 2000.0
    min_elapsed_s: float = 60.0
    campaign_followup: float = 24 * 3600.0
    owner_active_s: float = 3600.0
    disabled: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_settings(cls, settings: Settings) -> Rules:
        d = settings.detections

        def p(det: str) -> Any:
            return registry.get(det).with_params(d.params.get(det))

        uf, nc, it, ps = p("unfamiliarFeatures"), p("newCountry"), p("impossibleTravel"), p("passwordSpray")
        tr = settings.travel
        return cls(float(uf["lookback_days"]) * DAY, float(uf["learning_days"]) * DAY, int(uf["learning_signins"]),
                   float(nc["lookback_days"]) * DAY, float(nc["learning_days"]) * DAY, float(it["max_speed_kmh"]),
                   float(it["min_distance_km"]), float(tr.plausible_kmh), float(tr.impossible_kmh),
                   float(tr.min_elapsed_s), float(ps["followup_hours"]) * 3600.0,
                   float(settings.sessions.owner_active_minutes) * 60.0, frozenset(d.disabled))


def _ua(k: Knowledge, user_agent: str | None) -> UaFacts:
    if not user_agent:
        return UaFacts(None, None, None, "unknown")
    found = k.user_agents.get(user_agent)
    if found is None:
        from vigil.enrich.ua import classify

        c = classify(user_agent)
        found = UaFacts(c["ua_family"], c["ua_os_family"], c["ua_device_family"], c["ua_class"])
        if len(k.user_agents) < 100_000:  # a caller cannot grow memory without bound
            k.user_agents[user_agent] = found
    return found


def resolve(k: Knowledge, obs: Observation) -> tuple[IpFacts, UaFacts]:
    facts = obs.facts if obs.facts is not None else k.ip_facts(obs.ip)
    if facts.country is None and obs.country:
        facts = IpFacts(country=obs.country.upper(), ip_class=facts.ip_class, asn=facts.asn, as_org=facts.as_org,
                        known_by="request" if facts.known_by == "none" else facts.known_by)
    return facts, (obs.ua if obs.ua is not None else _ua(k, obs.user_agent))


def score(k: Knowledge, obs: Observation, rules: Rules) -> Score:
    """Score ``obs`` against what ``k`` knows; never raises for unknown users or networks."""
    facts, ua = resolve(k, obs)
    p = k.user(obs.user_principal_name, obs.user_id)
    signals: list[Signal] = []
    notes: list[str] = []
    if p is None:
        notes.append("no history for this user: only network and campaign signals apply")
    if facts.known_by in ("none", "request") and obs.ip:
        notes.append(f"{obs.ip} was never seen in the store: network unknown")
    stale = obs.stale if obs.stale is not None else (not obs.interactive and facts.asn in MICROSOFT_SERVICE_ASNS)
    if stale:
        notes.append(f"{obs.ip} is not where the user is (a service acting for them): location and session rules "
                     "skip it, as the batch detections do")
    # a stale location says nothing of where the user or the session's holder is (batch: location_is_stale)
    located = () if stale else (_unfamiliar, _new_country, _travel, _token)
    for rule in (_anonymized, *located, _leaked, _malicious, _campaign):
        sig = rule(k, p, obs, facts, ua, rules)
        if sig is not None and sig.detection not in rules.disabled:
            signals.append(sig)
    signals.sort(key=lambda s: (-RANK[s.level], s.risk_event_type))
    level = signals[0].level if signals else "none"
    return Score(level, tuple(signals), p is not None, facts, tuple(notes))


Rule = Any


def _anonymized(k: Knowledge, p: UserProfile | None, obs: Observation, f: IpFacts, ua: UaFacts,
                r: Rules) -> Signal | None:
    if f.ip_class not in ("tor", "vpn"):
        return None
    asn = NO_ASN if f.asn is None else str(f.asn)
    new = p is None or p.last_seen("asn_any", asn) is None
    if f.ip_class == "tor":
        return Signal("anonymizedIPAddress", "high", f"sign-in from a Tor exit node {obs.ip}",
                      {"ip": obs.ip, "ip_class": "tor", "asn": f.asn}, "anonymizedIPAddress")
    # a commercial VPN or iCloud Private Relay on the user's own laptop or phone is the user's choice
    device = _features(obs, f, ua)["device"]
    own_device = p is not None and p.last_seen("device", device) is not None
    reason = f"sign-in from anonymising VPN {f.as_org or ''} ({obs.ip})".replace("  ", " ")
    if new:
        reason += ", a network this user never used before"
    if own_device:
        reason += f", on a device this user signed in from before ({device})"
    return Signal("anonymizedIPAddress", "medium" if new and not own_device else "low", reason,
                  {"ip": obs.ip, "ip_class": "vpn", "asn": f.asn, "as_org": f.as_org,
                   "user_used_network_before": not new, "device": device, "user_used_device_before": own_device},
                  "anonymizedIPAddress")


def _features(obs: Observation, f: IpFacts, ua: UaFacts) -> dict[str, str | None]:
    device = obs.device_id or (f"{ua.os_family}/{ua.device_family}" if ua.os_family and ua.device_family else None)
    return {"ip": obs.ip, "asn": None if f.asn is None else str(f.asn),
            "location": f"{f.country}/{f.city or ''}" if f.country else None, "device": device,
            "browser": ua.family, "subnet": subnet(obs.ip) if obs.ip else None}


def _peer_note(k: Knowledge, p: UserProfile, feature: str, value: str | None) -> int:
    """How many of the user's peers used ``value`` (evidence beside the user's own history)."""
    if value is None:
        return 0
    return sum(1 for peer in p.peers if (q := k.users.get(peer)) is not None and q.last_seen(feature, value))


def _unfamiliar(k: Knowledge, p: UserProfile | None, obs: Observation, f: IpFacts, ua: UaFacts,
                r: Rules) -> Signal | None:
    if p is None or f.corporate or f.ip_class in ANONYMISERS or p.ok_first is None:
        return None  # an anonymiser's exit is classified (anonymizedIPAddress), not compared
    t = obs.time
    if p.ok_count < r.unfamiliar_signins or p.ok_first > t - r.unfamiliar_learning:
        return None
    feats = _features(obs, f, ua)
    registered = bool(obs.device_id)
    new = {}
    for name, value in feats.items():
        last = p.last_seen(name, value)
        new[name] = value is not None and (last is None or last < t - r.unfamiliar_lookback) and not (
            name == "device" and registered)
    if not (new["asn"] and new["location"]):
        return None
    if registered and not new["device"] and obs.mfa:
        return None  # the user's own registered device, with MFA: a traveller, not a stranger
    level = "high" if new["device"] and new["browser"] else "medium" if new["device"] or new["browser"] else "low"
    listed = [n for n in feats if new[n]]
    peers = {n: _peer_note(k, p, n, feats[n]) for n in ("asn", "location", "device", "browser") if new[n]}
    reason = (f"sign-in with properties unfamiliar for this user (last {round(r.unfamiliar_lookback / DAY)} days): "
              + ", ".join(listed))
    if p.peers and not any(peers.values()):
        reason += f"; none of the user's {len(p.peers)} peers used them either"
    return Signal("unfamiliarFeatures", level, reason,
                  {"unfamiliar": listed, **{n: feats[n] for n in feats}, "ip_class": f.ip_class,
                   "registered_device": registered, "prior_signins": p.ok_count, "peers_using": peers},
                  "unfamiliarFeatures")


def _new_country(k: Knowledge, p: UserProfile | None, obs: Observation, f: IpFacts, ua: UaFacts,
                 r: Rules) -> Signal | None:
    c, t = f.country, obs.time
    if p is None or c is None or not obs.interactive or f.corporate or f.ip_class in ANONYMISERS or p.geo_first is None:
        return None
    last = p.last_seen("country", c)
    if (last is not None and last >= t - r.country_lookback) or p.geo_first > t - r.country_learning:
        return None
    tenant = k.countries.get(c)
    nobody = tenant is None or tenant < t - r.country_lookback
    days = round(r.country_lookback / DAY)
    peers = _peer_note(k, p, "country", c)
    reason = f"first successful sign-in from {c} for this user in {days} days" + (
        ", and for anyone in the tenant" if nobody else "")
    if p.peers:
        reason += f" ({peers} of {len(p.peers)} peers sign in from {c})"
    return Signal("newCountry", "medium" if nobody else "low", reason,
                  {"country": c, "ip": obs.ip, "ip_class": f.ip_class, "previous_from_country": last,
                   "tenant_previous_from_country": tenant, "peers_from_country": peers}, "newCountry")


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """As ``sessions/travel.py`` computes it (mean Earth radius 6371.0088 km)."""
    a = (math.sin(math.radians(lat2 - lat1) / 2) ** 2
         + math.cos(math.radians(lat1)) * math.cos(math.radians(lat2)) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))


def _travel(k: Knowledge, p: UserProfile | None, obs: Observation, f: IpFacts, ua: UaFacts,
            r: Rules) -> Signal | None:
    if p is None or p.last_located is None or f.latitude is None or f.longitude is None:
        return None
    a = p.last_located
    # the earlier side may be a token refresh from the user's own kind of network (not a cloud service's)
    own_network = a.ip_class in ("residential", "mobile", "corporate_egress")
    if (a.table != "signins" or not (a.interactive or own_network) or not obs.interactive or a.ip == obs.ip
            or a.country is None or f.country is None or a.country == f.country):
        return None
    dist = haversine_km(a.latitude, a.longitude, f.latitude, f.longitude)
    adj = max(dist - a.accuracy_km - f.accuracy_km, 0.0)
    elapsed = obs.time - a.time
    same_session = bool(obs.session_id) and a.session_key == f"s:{obs.session_id}"
    root = k.sessions.get(obs.session_id) if same_session and obs.session_id else None
    device_kept = root is not None and (obs.device_id or None) == root.root_device_id == (a.device_id or None)
    if adj == 0 or (a.city is not None and a.city == f.city and a.country == f.country):
        return None  # same location
    if (a.corporate and f.corporate) or ((a.corporate or f.corporate) and device_kept):
        return None  # egress change (VPN failover), not travel
    speed = adj / (max(elapsed, r.min_elapsed_s) / 3600.0)
    # roaming phones egress through their home carrier: a carrier IP in a country the person had been in
    # is at most improbable; in a country they were never in it is presence there
    if f.ip_class == "mobile":
        mobile_known = p.located_first.get(f.country, obs.time) < obs.time
    elif a.ip_class == "mobile":
        mobile_known = p.located_first.get(a.country, a.time) < a.time
    else:
        mobile_known = False
    # behind corporate egress on the other side the person's own country is hidden by the VPN: not "never there"
    mobile_known = mobile_known or ("mobile" in (a.ip_class, f.ip_class) and (a.corporate or f.corporate))
    if speed <= r.impossible_kmh or (mobile_known and not same_session):
        return None  # plausible or improbable: not impossible
    if a.ip_class in ANONYMISERS or f.ip_class in ANONYMISERS:
        return None  # an anonymiser's exit is where the relay is, not the user (anonymizedIPAddress classes it)
    if adj < r.min_distance_km or speed <= r.max_speed_kmh:
        return None
    # after corporate egress the VPN hides where the person is: a new country counts when their own networks were
    # seen outside the egress, or nobody in the tenant was ever there (not a colleague's home behind the VPN)
    new_for_user = p.last_seen("country", f.country) is None
    own_seen = any(first < obs.time for first in p.own_countries.values())
    home = k.homes.get(f.country) if f.country else None
    lives_there = home is not None and home < obs.time
    # in the tenant's first day nobody can have been seen at home on days 24 h apart: "nobody lives there" says nothing
    homes_known = k.located_since is not None and k.located_since + DAY_S < obs.time
    new_country = new_for_user and (not a.corporate or own_seen or (homes_known and not lives_there))
    level = "high" if f.ip_class == "hosting" or f.threat_intel or new_country else "medium"
    return Signal("mcasImpossibleTravel", level,
                  f"successful interactive sign-ins from {a.country} then {f.country}, {round(dist)} km apart in "
                  f"{round(elapsed / 60)} min: faster than {round(r.max_speed_kmh)} km/h"
                  + _new_country_reason(f.country, new_for_user, a.corporate, own_seen, lives_there, homes_known),
                  {"from_event_id": a.event_id, "from_ip": a.ip, "to_ip": obs.ip, "from_country": a.country,
                   "to_country": f.country, "distance_km": round(dist, 1), "adjusted_distance_km": round(adj, 1),
                   "elapsed_s": round(elapsed), "speed_kmh": round(speed), "same_session": same_session,
                   "to_ip_class": f.ip_class, "from_interactive": a.interactive, "new_country_for_user": new_for_user,
                   "after_corporate_egress": a.corporate, "user_seen_outside_egress": own_seen,
                   "colleagues_live_in_country": lives_there, "tenant_homes_known": homes_known},
                  "impossibleTravel")


def _new_country_reason(c: str | None, new: bool, corporate: bool, own_seen: bool, lives_there: bool,
                        homes_known: bool) -> str:
    """As the batch detection words it (rules/impossible_travel.py)."""
    if not new:
        return ""
    if not corporate:
        return f"; {c} is a country this user never signed in from"
    if own_seen:
        return (f"; {c} is a country this user never signed in from, and their own networks (outside the corporate "
                "egress) were seen elsewhere")
    if not lives_there and homes_known:
        return (f"; {c} is a country this user never signed in from, and nobody in the tenant lives there (not a "
                "colleague's home country hidden by the VPN)")
    if not lives_there:
        return (f"; {c} is new for this user, but they were only ever seen through the corporate egress, which hides "
                "their own country, and the tenant's history is under a day old: where its people live is not "
                "known yet")
    return (f"; {c} is new for this user, but they were only ever seen through the corporate egress, which hides "
            f"their own country, and colleagues live in {c}")


def _leaked(k: Knowledge, p: UserProfile | None, obs: Observation, f: IpFacts, ua: UaFacts,
            r: Rules) -> Signal | None:
    if p is None or f.asn is None or f.corporate or not k.is_leaked(obs.user_principal_name or p.name):
        return None
    if "leakedCredentials" in p.raised:
        return None  # raised once per account, as the batch detection does
    if p.last_seen("asn_any", str(f.asn)) is not None or not p.seen.get("asn_any"):
        return None
    if f.ip_class not in ATTACKER_NETWORKS:
        return None
    return Signal("leakedCredentials", "high",
                  f"this account is on the leaked-credential list and its password was accepted from {f.ip_class} "
                  f"network AS{f.asn}, which it never used before",
                  {"ip": obs.ip, "asn": f.asn, "ip_class": f.ip_class}, "leakedCredentials")


def _malicious(k: Knowledge, p: UserProfile | None, obs: Observation, f: IpFacts, ua: UaFacts,
               r: Rules) -> Signal | None:
    if not f.threat_intel or f.corporate:
        return None
    return Signal("maliciousIPAddress", "high",
                  f"sign-in from {obs.ip} listed by threat intelligence ({f.threat_intel})",
                  {"ip": obs.ip, "threat_intel": f.threat_intel, "ip_class": f.ip_class}, "maliciousIPAddress")


def _campaign(k: Knowledge, p: UserProfile | None, obs: Observation, f: IpFacts, ua: UaFacts,
              r: Rules) -> Signal | None:
    if f.corporate or not k.campaigns:
        return None
    for kind, src in (("ip", obs.ip), ("rotating", obs.user_agent)):
        c = k.campaigns.get((kind, src)) if src else None
        if c is None or not (c.first <= obs.time <= c.last + r.campaign_followup):
            continue
        what = "password spray" if c.risk_event_type == "passwordSpray" else "credential stuffing"
        where = f"IP {src}" if kind == "ip" else f"a rotating set of IPs sharing user agent {src}"
        return Signal(c.risk_event_type, "high",
                      f"{what} from {where} against {c.accounts} accounts is running; this sign-in comes from it "
                      "with an accepted password",
                      {"source_kind": kind, "source": src, "accounts_targeted": c.accounts,
                       "campaign_key": f"{'spray' if what == 'password spray' else 'stuffing'}:{kind}:{src}"},
                      "passwordSpray" if c.risk_event_type == "passwordSpray" else "credentialStuffing")
    return None


def _token(k: Knowledge, p: UserProfile | None, obs: Observation, f: IpFacts, ua: UaFacts,
           r: Rules) -> Signal | None:
    root = k.sessions.get(obs.session_id) if obs.session_id else None
    if root is None:
        return None
    sid = (obs.session_id or "")[:8]
    me = p.key if p is not None else (obs.user_principal_name or "").lower()
    ev = {"session_id": obs.session_id, "root_ip": root.root_ip, "root_country": root.root_country,
          "ip": obs.ip, "country": f.country, "device_id": obs.device_id}
    if me and root.user_key != me:
        return Signal("anomalousToken", "high", f"session {sid}… belongs to another user ({root.user_name})",
                      {**ev, "session_user": root.user_name}, "anomalousToken")
    if root.root_time is not None and root.root_time >= obs.time:
        return None  # the session starts later (history replay): nothing to compare with yet
    flagged = [x for x in root.findings if x[0] in HIJACK_KINDS and x[3] <= obs.time]
    if flagged:
        kind, sev, why, _ = max(flagged, key=lambda x: RANK.get(x[1], 2))
        return Signal("anomalousToken", sev if sev in RANK else "medium",
                      f"session {sid}… is already flagged by the session analysis ({kind}): {why}",
                      {**ev, "findings": [x[0] for x in flagged]}, "anomalousToken")
    dev_novel = (root.root_device_id is not None and (obs.device_id or "") != root.root_device_id) or (
        ua.os_family is not None and root.root_ua_os_family is not None and ua.os_family != root.root_ua_os_family)
    # a corporate-egress label never clears a network here (sessions/hijack.py: a learned range can be wrong)
    net_novel = (obs.ip is not None and obs.ip != (root.root_ip or "") and (
        (f.ip_class in ATTACKER_NETWORKS and f.ip_class != (root.root_ip_class or ""))
        or (f.country is not None and root.root_country is not None and f.country != root.root_country
            and (f.asn if f.asn is not None else -1) != (root.root_asn if root.root_asn is not None else -1))))
    ua_novel = ua.family is not None and root.root_ua_family is not None and ua.family != root.root_ua_family
    asn_novel = f.asn is not None and root.root_asn is not None and f.asn != root.root_asn
    # the owner still working from the root device: its last successful sign-in within the window
    owner_seen = p.last_seen("device", root.root_device_id) if p is not None else None
    owner_active = owner_seen is not None and owner_seen >= obs.time - r.owner_active_s
    if dev_novel and net_novel:
        level, what = "high", "a device and network"
    elif dev_novel and ua_novel:
        level = "high" if asn_novel and owner_active else "medium"
        what = "a device and client" + (" while the owner works from the root device" if level == "high" else "")
    elif root.root_device_id is None and net_novel and ua_novel:  # a root without a device id (Okta, unmanaged)
        level, what = "medium", "a network and client"
    else:
        return None
    return Signal("anomalousToken", level,
                  f"token of session {sid}… (root sign-in from {root.root_country or '?'}) presented from {what} its "
                  f"root authentication never used ({obs.ip}, {f.country or '?'})",
                  {**ev, "device_novel": dev_novel, "network_novel": net_novel, "client_novel": ua_novel},
                  "anomalousToken")


def max_level(*levels: str) -> str:
    return LEVELS[max(RANK.get(x, 0) for x in levels)] if levels else "none"
