"""Each real-time rule on a hand-built profile: the signal, its level and its reason."""
from __future__ import annotations

from dataclasses import replace

from vigil.risk.profiles import IpFacts, Knowledge, Located, SessionRoot, UaFacts, UserProfile
from vigil.risk.realtime import Observation, Rules, haversine_km, score

DAY = 86400.0
NOW = 1_800_000_000.0
HOME = IpFacts("DE", "Berlin", 52.52, 13.40, 25.0, 3320, "DTAG", "residential", known_by="ip")
CORP_GB = IpFacts("GB", "London", 51.5, -0.12, 25.0, 64500, "Contoso", "corporate_egress", True, "vpn-gb", None, "ip")
CORP_BR = IpFacts("BR", "Sao Paulo", -23.55, -46.63, 25.0, 64500, "Contoso", "corporate_egress", True, "vpn-br", None,
                  "ip")
VPN = IpFacts("NL", "Amsterdam", 52.37, 4.9, 25.0, 9009, "M247", "vpn", known_by="ip")
KPN = IpFacts("NL", "Amsterdam", 52.37, 4.9, 25.0, 1136, "KPN", "residential", known_by="ip")
TOR = IpFacts("SE", "Stockholm", 59.3, 18.0, 25.0, 1234, "tor", "tor", known_by="ip")
HOSTING_SG = IpFacts("SG", "Singapore", 1.35, 103.8, 25.0, 20473, "Vultr", "hosting", known_by="ip")
EDGE = UaFacts("Edge", "Windows", None, "browser")
PHONE = UaFacts("Samsung Internet", "Android", "Samsung SM-S921B", "browser")


def knowledge() -> Knowledge:
    k = Knowledge()
    k.ips = {"192.0.2.10": HOME, "203.0.113.1": CORP_GB, "203.0.113.2": CORP_BR, "198.51.100.5": VPN,
             "198.51.100.66": TOR, "45.32.1.1": HOSTING_SG, "192.0.2.77": KPN}
    p = UserProfile("ada@contoso.com", "ada-id", "ada@contoso.com", ok_count=200, ok_first=NOW - 60 * DAY, geo_first=NOW - 60 * DAY)
    t = NOW - 3600
    p.seen = {"ip": {"192.0.2.10": t}, "asn": {"3320": t}, "location": {"DE/Berlin": t}, "device": {"dev-1": t},
              "browser": {"Edge": t}, "subnet": {"192.0.2": t}, "country": {"DE": t, "GB": t},
              "asn_any": {"3320": t, "64500": t}}
    p.last_located = Located(t, "e0", "signins", True, "192.0.2.10", "DE", "Berlin", 52.52, 13.40, 25.0,
                             "residential", False, "dev-1", "s:sess-1")
    k.users = {p.key: p}
    k.ids = {"ada-id": p.key}
    k.located_since = NOW - 60 * DAY
    k.countries = {"DE": t, "GB": t, "NL": t}
    k.sessions = {"sess-1": SessionRoot("ada@contoso.com", "ada@contoso.com", "192.0.2.10", "DE", 3320, "residential", "dev-1", "Edge",
                                        "Windows", NOW - 7200)}
    k.user_agents = {"edge": EDGE, "phone": PHONE}
    return k


def obs(**kw: object) -> Observation:
    base: dict[str, object] = {"time": NOW, "user_principal_name": "ada@contoso.com", "ip": "192.0.2.10",
                               "user_agent": "edge", "device_id": "dev-1", "session_id": None}
    base.update(kw)
    return Observation(**base)  # type: ignore[arg-type]


def types(k: Knowledge, o: Observation, rules: Rules | None = None) -> dict[str, str]:
    return {s.risk_event_type: s.level for s in score(k, o, rules or Rules()).signals}


def test_the_users_usual_sign_in_scores_none() -> None:
    s = score(knowledge(), obs(), Rules())
    assert s.level == "none" and not s.signals and s.user_known


def test_anonymisers() -> None:
    k = knowledge()
    assert types(k, obs(ip="198.51.100.66"))["anonymizedIPAddress"] == "high"
    stranger = {"ip": "198.51.100.5", "device_id": None, "user_agent": "phone"}
    assert types(k, obs(**stranger))["anonymizedIPAddress"] == "medium"  # a network and a device new for the user
    # a commercial VPN on the user's own registered laptop: the user's choice
    assert types(k, obs(ip="198.51.100.5"))["anonymizedIPAddress"] == "low"
    k.users["ada@contoso.com"].seen["asn_any"]["9009"] = NOW - DAY
    assert types(k, obs(**stranger))["anonymizedIPAddress"] == "low"


def test_unfamiliar_features_levels_and_learning() -> None:
    k = knowledge()
    assert types(k, obs(ip="192.0.2.77", device_id="dev-1"))["unfamiliarFeatures"] == "low"
    assert types(k, obs(ip="192.0.2.77", device_id=None, user_agent="phone"))["unfamiliarFeatures"] == "high"
    # a registered device's first use is not an unfamiliar device
    assert types(k, obs(ip="192.0.2.77", device_id="dev-2", user_agent="edge"))["unfamiliarFeatures"] == "low"
    k.users["ada@contoso.com"].ok_count = 5  # still learning
    assert "unfamiliarFeatures" not in types(k, obs(ip="192.0.2.77", user_agent="phone"))


def test_new_country_for_the_user_and_the_tenant() -> None:
    k = knowledge()
    got = score(k, obs(ip="192.0.2.77"), Rules())
    nc = next(s for s in got.signals if s.risk_event_type == "newCountry")
    assert nc.level == "low" and nc.reason.startswith("first successful sign-in from NL for this user in 90 days")
    assert types(k, obs(ip="45.32.1.1"))["newCountry"] == "medium"  # nobody in the tenant signs in from SG
    assert "newCountry" not in types(k, obs(ip="45.32.1.1", interactive=False))
    # an anonymiser's exit is classified (anonymizedIPAddress), never a new country or an unfamiliar place
    vpn = types(k, obs(ip="198.51.100.5", device_id=None, user_agent="phone"))
    assert vpn == {"anonymizedIPAddress": "medium"}, vpn


def test_impossible_travel_and_egress_failover() -> None:
    k = knowledge()
    sg = types(k, obs(ip="45.32.1.1", time=NOW - 3000))
    assert sg["mcasImpossibleTravel"] == "high"  # Berlin -> Singapore in 10 minutes, to a hosting network
    assert "mcasImpossibleTravel" not in types(k, obs(ip="198.51.100.5", time=NOW - 3000))  # a VPN exit is no place
    assert haversine_km(52.52, 13.40, 1.35, 103.8) > 9000
    # days later: plausible
    assert "mcasImpossibleTravel" not in types(k, obs(ip="45.32.1.1", time=NOW + 5 * DAY))
    p = k.users["ada@contoso.com"]
    p.last_located = replace(p.last_located, ip="203.0.113.1", country="GB", city="London", latitude=51.5,  # type: ignore[arg-type]
                             longitude=-0.12, ip_class="corporate_egress", corporate=True)
    failover = score(k, obs(ip="203.0.113.2", time=NOW - 3000, session_id="sess-1"), Rules())
    assert failover.level == "none" and not failover.signals, failover.to_dict()


def test_impossible_travel_after_corporate_egress() -> None:
    """Behind the VPN a person's own country is hidden: a new country counts when the user was seen outside the
    egress, or nobody in the tenant ever signed in from it (as rules/impossible_travel.py)."""
    k = knowledge()
    k.ips["81.2.69.1"] = IpFacts("RU", "Moscow", 55.75, 37.62, 25.0, 12389, "Rostelecom", "residential", known_by="ip")
    k.ips["81.2.69.2"] = IpFacts("IN", "Mumbai", 19.07, 72.88, 25.0, 24560, "Airtel", "residential", known_by="ip")
    p = k.users["ada@contoso.com"]
    p.last_located = replace(p.last_located, ip="203.0.113.1", country="GB", city="London", latitude=51.5,  # type: ignore[arg-type]
                             longitude=-0.12, ip_class="corporate_egress", corporate=True)
    at = {"time": NOW - 3000, "device_id": None}
    # only ever seen through the egress; nobody lives in RU -> high; IN, where colleagues live, medium
    assert not p.own_countries
    ru = next(s for s in score(k, obs(ip="81.2.69.1", **at), Rules()).signals
              if s.risk_event_type == "mcasImpossibleTravel")
    assert ru.level == "high" and "nobody in the tenant lives there" in ru.reason
    assert ru.evidence["colleagues_live_in_country"] is False
    # in the tenant's first day of history nobody can be known to live anywhere: RU stays medium
    since, k.located_since = k.located_since, NOW - 3 * 3600
    cold = next(s for s in score(k, obs(ip="81.2.69.1", **at), Rules()).signals
                if s.risk_event_type == "mcasImpossibleTravel")
    assert cold.level == "medium" and "under a day old" in cold.reason and not cold.evidence["tenant_homes_known"]
    k.located_since = since
    k.homes["IN"] = NOW - DAY
    india = next(s for s in score(k, obs(ip="81.2.69.2", **at), Rules()).signals
                 if s.risk_event_type == "mcasImpossibleTravel")
    assert india.level == "medium" and "only ever seen through the corporate egress" in india.reason
    # seen at home (outside the egress) before: IN is new for this user -> high
    p.own_countries["DE"] = NOW - 30 * DAY
    assert types(k, obs(ip="81.2.69.2", **at))["mcasImpossibleTravel"] == "high"


def test_campaign_source_token_and_disabled_rules() -> None:
    k = knowledge()
    from vigil.risk.profiles import Campaign

    k.campaigns = {("ip", "45.32.1.1"): Campaign("passwordSpray", "ip", "45.32.1.1", 40, NOW - 7200, NOW - 3600)}
    assert types(k, obs(ip="45.32.1.1"))["passwordSpray"] == "high"
    assert "passwordSpray" not in types(k, obs(ip="45.32.1.1", time=NOW + 2 * DAY))
    # the session's token from another device and network
    replay = types(k, obs(ip="45.32.1.1", session_id="sess-1", device_id=None, user_agent="phone"))
    assert replay["anomalousToken"] == "high"
    assert types(k, obs(user_principal_name="bob@contoso.com", session_id="sess-1"))["anomalousToken"] == "high"
    assert "anomalousToken" not in types(k, obs(session_id="sess-1"))
    # another device and client on another ISP of the same country: high while the owner works from the root device
    k.ips["192.0.2.99"] = replace(HOME, asn=6805, as_org="Vodafone")
    other = {"ip": "192.0.2.99", "session_id": "sess-1", "device_id": None, "user_agent": "phone"}
    assert types(k, obs(**other))["anomalousToken"] == "high"
    assert types(k, obs(**other, time=NOW + 7200))["anomalousToken"] == "medium"
    off = Rules(disabled=frozenset({"anonymizedIPAddress"}))
    assert "anonymizedIPAddress" not in types(k, obs(ip="198.51.100.66"), off)


def test_unknown_user_and_network_are_said() -> None:
    s = score(knowledge(), obs(user_principal_name="new@contoso.com", ip="100.64.9.9", country="fr"), Rules())
    assert not s.user_known and s.facts.country == "FR" and s.facts.known_by == "request"
    assert any("no history for this user" in n for n in s.notes)
    assert "100.64.9.9 was never seen in the store: network unknown" in s.notes


def test_a_microsoft_service_acting_for_the_user_is_not_where_the_user_is() -> None:
    """A non-interactive sign-in from Microsoft's network (AS8075) is a service refreshing a token for the user: no
    location or session rule judges it (batch: enrichment's location_is_stale)."""
    k = knowledge()
    k.ips["20.50.1.1"] = IpFacts("NL", "Amsterdam", 52.37, 4.9, 25.0, 8075, "Microsoft", "hosting", known_by="ip")
    service = {"ip": "20.50.1.1", "interactive": False, "session_id": "sess-1", "device_id": None, "time": NOW - 3000}
    s = score(k, obs(**service), Rules())
    assert not s.signals and any("not where the user is" in n for n in s.notes), s.to_dict()
    # a confidential client's stale IP, as the history replay says
    assert not score(k, obs(ip="45.32.1.1", interactive=False, stale=True, session_id="sess-1"), Rules()).signals
    # the same network signing in interactively is someone there
    assert "anomalousToken" in types(k, obs(**{**service, "interactive": True}))
